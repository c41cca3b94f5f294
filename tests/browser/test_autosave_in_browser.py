"""Never lose what a caseworker typed (issue 16, finding 1): a submit, a link or an upload
clicked right after typing waits for the section's save; a save that fails says so and
keeps the caseworker on the page with the text still in the field.

Typing is at human speed (`press_sequentially` with a delay) and the click follows at
once, with no wait in between: that is the race the page must win.

Set BROWSER_SCREENSHOTS=/some/folder to also save screenshots (autosave-*.png).
"""

import os
import re
from pathlib import Path

import pytest
from django.http import QueryDict
from playwright.sync_api import Page, expect

from cases.intake import services
from cases.models import Application
from tests.browser.test_pages_in_browser import log_in
from tests.intake_data import PDF_BYTES, SECTIONS

ACCOUNT = "6217 0000 1234 5678"
TYPING_DELAY_MS = 90  # about what a practised typist does


def shoot(page: Page, name: str) -> None:
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/autosave-{name}.png", full_page=False)


def draft_without(people, **blank: str) -> Application:
    """A draft of alice's with every section saved except the fields named (left empty)."""
    application = services.application_create(by=people["alice"])
    for key, values in SECTIONS.items():
        data = QueryDict(mutable=True)
        for name, value in values.items():
            if name in blank:
                continue
            data.setlist(name, value if isinstance(value, list) else [value])
        services.section_save(application=application, section=key, data=data, by=people["alice"])
    return Application.objects.get(pk=application.pk)


def type_slowly(page: Page, selector: str, text: str) -> None:
    field = page.locator(selector)
    field.click()
    field.press_sequentially(text, delay=TYPING_DELAY_MS)


def test_a_bank_account_typed_just_before_submitting_is_saved_and_submitted(
    page: Page, site, people
):
    application = draft_without(people, account_number="")
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/edit/")

    type_slowly(page, "#id_account_number", ACCOUNT)
    page.locator("form.submit-row button[type=submit]").click()

    # The save went first, so the submission found G complete and was accepted.
    expect(page).to_have_url(re.compile(rf"/applications/{application.reference}/$"))
    application.refresh_from_db()
    assert application.account_number == ACCOUNT.replace(" ", "")  # stored without spaces
    assert application.status == Application.Status.SUBMITTED
    page.reload()
    expect(page.locator("main")).to_contain_text(application.reference)


def test_text_typed_just_before_following_a_link_is_saved(page: Page, site, people):
    application = draft_without(people, income_source="")
    log_in(page, site, "alice")
    edit = f"{site}/applications/{application.reference}/edit/"
    page.goto(edit)

    type_slowly(page, "#id_income_source", "个体经营，小吃店")
    page.locator("nav.main-nav a[href='/applications/']").click()

    expect(page).to_have_url(re.compile(r"/applications/$"))
    page.goto(edit)
    expect(page.locator("#id_income_source")).to_have_value("个体经营，小吃店")
    application.refresh_from_db()
    assert application.income_source == "个体经营，小吃店"


def test_text_typed_just_before_an_upload_is_saved(page: Page, site, people, tmp_path):
    application = draft_without(people, bank_name="")
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/edit/")
    pdf = tmp_path / "诊断证明.pdf"
    pdf.write_bytes(PDF_BYTES)
    upload = page.locator("#section-F form[enctype='multipart/form-data']")
    upload.locator("#id_doc_type").select_option("diagnosis_certificate")
    upload.locator("#id_file").set_input_files(pdf)

    type_slowly(page, "#id_bank_name", "中国工商银行")
    upload.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/applications/{application.reference}/edit/#section-F$"))
    expect(page.locator("#section-F .documents li.document")).to_have_count(1)
    page.reload()
    expect(page.locator("#id_bank_name")).to_have_value("中国工商银行")
    application.refresh_from_db()
    assert application.bank_name == "中国工商银行"


def test_each_section_shows_its_save_state(page: Page, site, people):
    application = draft_without(people, income_source="")
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/edit/")
    state = page.locator("#section-C [data-save-state]")
    expect(state).to_have_attribute("aria-live", "polite")

    type_slowly(page, "#id_income_source", "务工")
    page.locator("#id_income_source").press("Tab")
    expect(state).to_have_attribute("data-state", "saved")
    expect(state).to_be_visible()
    shoot(page, "saved")
    application.refresh_from_db()
    assert application.income_source == "务工"


def test_a_failed_save_keeps_the_caseworker_on_the_page_with_the_text(page: Page, site, people):
    application = draft_without(people, income_source="")
    log_in(page, site, "alice")
    edit = f"{site}/applications/{application.reference}/edit/"
    page.goto(edit)
    state = page.locator("#section-C [data-save-state]")

    page.context.set_offline(True)
    type_slowly(page, "#id_income_source", "务工")
    page.locator("nav.main-nav a[href='/applications/']").click()

    # The save could not reach the server: the page says so and does not leave.
    expect(state).to_have_attribute("data-state", "failed")
    shoot(page, "failed")
    expect(page).to_have_url(re.compile(r"/edit/$"))
    expect(page.locator("#id_income_source")).to_have_value("务工")

    # Leaving now asks first (beforeunload).
    warned = page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; }"
    )
    assert warned

    # Back online, the same link saves first and then goes.
    page.context.set_offline(False)
    page.locator("nav.main-nav a[href='/applications/']").click()
    expect(page).to_have_url(re.compile(r"/applications/$"))
    application.refresh_from_db()
    assert application.income_source == "务工"


@pytest.mark.parametrize("width", [1280, 375])
def test_nothing_is_pending_after_a_save_so_leaving_does_not_warn(page: Page, site, people, width):
    page.set_viewport_size({"width": width, "height": 800})
    application = draft_without(people, income_source="")
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/edit/")
    type_slowly(page, "#id_income_source", "务工")
    page.locator("#id_income_source").press("Tab")
    expect(page.locator("#section-C [data-save-state]")).to_have_attribute("data-state", "saved")
    warned = page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; }"
    )
    assert not warned
