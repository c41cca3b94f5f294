"""Entering an application in a browser: sections A–H autosaved by htmx, an upload,
submission with its reference and receipt; bad input kept at its field across a reload;
accessibility and small screens of the application pages.

Assertions rely on data (values typed, the reference, ids of fields and their `_error`
elements), not on translated UI wording, which may not be translated yet.

Set BROWSER_SCREENSHOTS=/some/folder to also save full-page screenshots of the edit page
(intake-*.png) at the widths measured.
"""

import json
import os
import re
from pathlib import Path

import pytest
from django import forms
from django.http import QueryDict
from django.utils import translation
from playwright.sync_api import Page, expect

from cases import crypto, identity
from cases.intake import services
from cases.intake.forms import validate_phone
from cases.models import Application
from tests.browser.test_pages_in_browser import (
    log_in,
    no_horizontal_scroll,
    serious_axe_violations,
)
from tests.intake_data import CHILD_ID, PDF_BYTES, SECTIONS

REFERENCE = re.compile(r"DB-\d{4}-[0-9A-Z]{6}")
# The province selects whose city select htmx fills once a province is chosen.
REGION_PREFIXES = ("household", "hospital")
WRONG_CHILD_ID = CHILD_ID[:-1] + ("0" if CHILD_ID[-1] != "0" else "1")
WRONG_PHONE = "23800138000"  # 11 digits, but a mainland mobile number starts with 1


def section_post(key: str):
    """Whether a response is the POST of section `key` (autosave or its save button)."""
    return lambda r: r.request.method == "POST" and re.search(rf"/sections/{key}/$", r.url)


def start_application(page: Page, site: str) -> str:
    """As alice, press "New application" on the list; the reference of the new draft."""
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/")
    page.locator("form[action='/applications/new/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/applications/DB-\d{4}-[0-9A-Z]{6}/edit/$"))
    return REFERENCE.search(page.url).group(0)


def choose_region(page: Page, prefix: str, province: str, city: str) -> None:
    """Choose a province, wait for htmx to load its cities, then choose one (by code)."""
    page.select_option(f"#id_{prefix}_province", province)
    expect(page.locator(f"#id_{prefix}_prefecture option[value='{city}']")).to_have_count(1)
    page.select_option(f"#id_{prefix}_prefecture", city)
    expect(page.locator(f"#id_{prefix}_prefecture")).to_have_value(city)


def fill_section(page: Page, key: str, values: dict) -> None:
    """Type, choose and tick the values of one section the way a caseworker would."""
    section = page.locator(f"#section-{key}")
    for name, value in values.items():
        if name.endswith("_prefecture"):
            continue  # chosen with its province
        prefix = name.removesuffix("_province")
        if name.endswith("_province") and prefix in REGION_PREFIXES:
            choose_region(page, prefix, value, values[f"{prefix}_prefecture"])
            continue
        inputs = section.locator(f"[name='{name}']")
        kind = inputs.first.evaluate("el => el.type")
        if kind in ("radio", "checkbox"):
            for one in value if isinstance(value, list) else [value]:
                box = inputs if value == "on" else inputs.and_(page.locator(f"[value='{one}']"))
                box.check()
        elif kind.startswith("select"):
            inputs.select_option(value)
        else:
            inputs.fill(value)


def save_section(page: Page, key: str) -> None:
    """Press the section's save button and wait until htmx has swapped the saved section."""
    with page.expect_response(section_post(key)) as response:
        page.locator(f"#section-{key} button[type=submit]").click()
    assert response.value.status == 200, response.value.status
    expect(page.locator(f"#section-{key} .saved[role=status]")).to_be_visible()
    expect(page.locator(f"#section-{key} form")).not_to_have_class(re.compile("htmx-request"))


def expect_section_shows(page: Page, key: str, values: dict) -> None:
    """What the server sent back for the section is what was typed: nothing was lost."""
    section = page.locator(f"#section-{key}")
    for name, value in values.items():
        inputs = section.locator(f"[name='{name}']")
        kind = inputs.first.evaluate("el => el.type")
        if kind in ("radio", "checkbox"):
            for one in value if isinstance(value, list) else [value]:
                box = inputs if value == "on" else inputs.and_(page.locator(f"[value='{one}']"))
                expect(box).to_be_checked()
        else:
            expect(inputs).to_have_value(value)
    expect(section.locator(".field.has-error")).to_have_count(0)


def zh(message_of) -> str:
    """The message a Chinese page shows for a check (English until it is translated)."""
    with translation.override("zh-hans"):
        try:
            message_of()
        except forms.ValidationError as exc:
            return exc.messages[0]
    raise AssertionError("the check accepted the value")


def expect_error_at(page: Page, field_id: str, value: str, message: str) -> None:
    """A message at the field, tied to it for screen readers, and the value still typed."""
    field = page.locator(f"#{field_id}")
    expect(field).to_have_value(value)
    error = page.locator(f"#{field_id}_error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(message)
    expect(page.locator(".field.has-error").filter(has=field)).to_have_count(1)
    described_by = field.get_attribute("aria-describedby") or ""
    assert f"{field_id}_error" in described_by.split(), described_by
    expect(field).to_have_attribute("aria-invalid", "true")


@pytest.fixture
def filled_draft(site, people):
    """A draft of alice's with every section saved (through the service, not the browser)."""
    from cases.intake import services

    application = services.application_create(by=people["alice"])
    for key, values in SECTIONS.items():
        data = QueryDict(mutable=True)
        for name, value in values.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        services.section_save(application=application, section=key, data=data, by=people["alice"])
    application.refresh_from_db()
    assert not application.pending_input, application.pending_input
    return application


def test_a_caseworker_enters_and_submits_a_whole_application(page: Page, site, tmp_path):
    reference = start_application(page, site)
    expect(page.locator("h1")).to_contain_text(reference)

    for key, values in SECTIONS.items():
        fill_section(page, key, values)
        save_section(page, key)
        expect_section_shows(page, key, values)

    # F: a document, uploaded by an ordinary form that comes back to the edit page.
    pdf = tmp_path / "诊断证明.pdf"
    pdf.write_bytes(PDF_BYTES)
    upload = page.locator("#section-F form[enctype='multipart/form-data']")
    upload.locator("#id_doc_type").select_option("diagnosis_certificate")
    upload.locator("#id_file").set_input_files(pdf)
    upload.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/applications/{reference}/edit/#section-F$"))
    document = page.locator("#section-F .documents li.document")
    expect(document).to_have_count(1)
    expect(document).to_contain_text("诊断证明.pdf")
    expect(document.locator("a[href^='/documents/']")).to_have_count(1)

    # Everything typed survived a reload, as stored.
    page.reload()
    for key in ("A", "B", "H"):
        expect_section_shows(page, key, SECTIONS[key])
    expect(page.locator("#id_consent_sharing")).to_be_checked()

    page.locator("form.submit-row button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/applications/{reference}/$"))
    message = page.locator(".messages .message").filter(has_text=REFERENCE)
    expect(message).to_have_count(1)
    assert REFERENCE.search(message.inner_text()).group(0) == reference
    application = Application.objects.select_related("child").get(reference=reference)
    assert application.status == "submitted" and application.submitted_at
    assert application.child.id_number == CHILD_ID
    assert application.child.household_region == "110105"
    assert application.hospital_region == "110102"
    assert application.consent_sharing
    assert [(g.name, g.is_primary) for g in application.guardians.all()] == [
        ("王大明", True),
        ("李红", False),
    ]
    assert application.documents.get().content_type == "application/pdf"
    # A submitted application is no longer offered for editing.
    expect(page.locator(f"a[href='/applications/{reference}/edit/']")).to_have_count(0)

    page.locator(f"a[href='/applications/{reference}/receipt/']").click()
    expect(page).to_have_url(re.compile(rf"/applications/{reference}/receipt/$"))
    expect(page.locator(".reference-big")).to_have_text(reference)
    expect(page.locator(".receipt")).to_contain_text("王小明")
    expect(page.locator(".receipt")).to_contain_text("/status/")


def test_bad_input_is_shown_at_its_field_and_kept_after_a_reload(page: Page, site):
    reference = start_application(page, site)
    id_message = zh(lambda: identity.parse_resident_id(WRONG_CHILD_ID))
    phone_message = zh(lambda: validate_phone(WRONG_PHONE))

    # The autosave, not the button: leave the field and wait for the swapped section.
    page.fill("#id_name", SECTIONS["A"]["name"])
    page.fill("#id_id_number", WRONG_CHILD_ID)
    with page.expect_response(section_post("A")):
        page.locator("#id_id_number").press("Tab")
    expect(page.locator("#section-A .saved")).to_be_visible()
    expect_error_at(page, "id_id_number", WRONG_CHILD_ID, id_message)
    # The valid field beside it was saved; an empty required one is not an error yet.
    expect(page.locator("#id_name")).to_have_value(SECTIONS["A"]["name"])
    expect(page.locator("#section-A .field.has-error")).to_have_count(1)

    page.fill("#id_g1_phone", WRONG_PHONE)
    with page.expect_response(section_post("B")):
        page.locator("#id_g1_phone").press("Tab")
    expect(page.locator("#section-B .saved")).to_be_visible()
    expect_error_at(page, "id_g1_phone", WRONG_PHONE, phone_message)
    expect(page.locator("#section-B .field.has-error")).to_have_count(1)

    application = Application.objects.select_related("child").get(reference=reference)
    # Kept encrypted, as the stored number would be (cases.crypto).
    pending_a = crypto.open_values(application.pending_input["A"], context=services.PENDING)
    assert pending_a == {"id_number": WRONG_CHILD_ID}
    assert WRONG_CHILD_ID not in str(application.pending_input)
    assert application.pending_input["B"] == {"g1_phone": WRONG_PHONE}
    assert application.child.name == SECTIONS["A"]["name"] and not application.child.id_number

    # Never a lost entry: a reload shows the same values and the same messages.
    page.reload()
    expect_error_at(page, "id_id_number", WRONG_CHILD_ID, id_message)
    expect_error_at(page, "id_g1_phone", WRONG_PHONE, phone_message)
    expect(page.locator("#id_name")).to_have_value(SECTIONS["A"]["name"])

    # Corrected, the message goes and the stored value is the right one.
    page.fill("#id_id_number", CHILD_ID)
    save_section(page, "A")
    expect(page.locator("#id_id_number_error")).to_have_count(0)
    expect(page.locator("#id_id_number")).to_have_value(CHILD_ID)
    application.refresh_from_db()
    application.child.refresh_from_db()
    assert application.child.id_number == CHILD_ID and "A" not in application.pending_input


def test_typing_in_the_next_field_is_not_lost_to_the_autosave(page: Page, site):
    """The autosave swaps the whole section: it must not start while the next field is
    being typed, or what is typed during the round trip is replaced by the saved state."""
    reference = start_application(page, site)
    # A slow mobile network: every request takes 0.4 s more.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.fill("#id_name", SECTIONS["A"]["name"])
    page.locator("#id_name").press("Tab")  # a change: the autosave is due in 0.6 s...
    page.locator("#id_id_type").press("Tab")
    # ...but the caseworker is typing the ID number, slower than that.
    page.locator("#id_id_number").press_sequentially(CHILD_ID, delay=120)
    expect(page.locator("#id_id_number")).to_have_value(CHILD_ID)
    expect(page.locator("#id_id_number_error")).to_have_count(0)
    with page.expect_response(section_post("A")):
        page.locator("#id_id_number").press("Tab")
    expect(page.locator("#section-A .saved")).to_be_visible()
    expect(page.locator("#id_id_number")).to_have_value(CHILD_ID)
    expect(page.locator("#id_name")).to_have_value(SECTIONS["A"]["name"])
    child = Application.objects.select_related("child").get(reference=reference).child
    assert (child.name, child.id_number) == (SECTIONS["A"]["name"], CHILD_ID)


def test_axe_finds_no_serious_violation_on_the_application_pages(
    page: Page, site, axe_source, filled_draft
):
    reference = filled_draft.reference
    log_in(page, site, "alice")

    def check(name):
        violations = serious_axe_violations(page, axe_source)
        assert not violations, f"axe on {name}:\n" + json.dumps(
            violations, ensure_ascii=False, indent=2
        )

    page.goto(f"{site}/applications/")
    expect(page.locator(f"a[href='/applications/{reference}/']")).to_have_count(1)
    check("the application list")
    page.goto(f"{site}/applications/{reference}/edit/")
    check("the edit page")
    # With a message at a field, after an htmx swap.
    page.fill("#id_g1_phone", WRONG_PHONE)
    page.locator("#id_g1_phone").press("Tab")
    expect(page.locator("#id_g1_phone_error")).to_be_visible()
    check("the edit page with an error")
    page.goto(f"{site}/applications/{reference}/")
    check("the detail page")


@pytest.mark.parametrize(
    ("width", "height"), [(360, 740), (375, 667), (1280, 800)], ids=["360", "375", "1280"]
)
def test_the_edit_page_fits_the_screen_width(page: Page, site, filled_draft, width, height):
    page.set_viewport_size({"width": width, "height": height})
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    log_in(page, site, "alice")

    def check(name):
        fits, detail = no_horizontal_scroll(page)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/intake-{name}-{width}.png", full_page=True)
        assert fits, f"{name} at {width}px scrolls sideways: {detail}"

    page.goto(f"{site}/applications/{filled_draft.reference}/edit/")
    check("edit")
    page.fill("#id_id_number", WRONG_CHILD_ID)
    page.locator("#id_id_number").press("Tab")
    expect(page.locator("#id_id_number_error")).to_be_visible()
    check("edit-errors")
    page.goto(f"{site}/applications/{filled_draft.reference}/")
    check("detail")
    page.goto(f"{site}/applications/")
    check("list")
