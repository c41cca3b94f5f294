"""The caseworker's home in a browser (issue 16): a new application, what waits for her
answer, her drafts, and discarding one in a confirmed decision with a reason; axe and
small screens.

Set BROWSER_SCREENSHOTS=/some/folder to also save screenshots (home-*.png)."""

import json
import os
import re

import pytest
from django.http import QueryDict
from playwright.sync_api import Page, expect

from cases.models import Application, MemberReview
from tests.browser.test_pages_in_browser import log_in, no_horizontal_scroll, serious_axe_violations
from tests.intake_data import SECTIONS

ITEMS = "请补充病案首页"


@pytest.fixture
def work(site, people):
    """alice's submitted application that member 2 asked information for, and her draft."""
    from cases.intake import services
    from cases.review import services as workflow

    alice = people["alice"]
    application = services.application_create(by=alice)
    for key, values in SECTIONS.items():
        data = QueryDict(mutable=True)
        for name, value in values.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        services.section_save(application=application, section=key, data=data, by=alice)
    application = services.application_submit(application=application, by=alice)
    review = MemberReview.objects.get(application=application, member__number=2)
    workflow.review_request_info(review=review, items=ITEMS, by=people["dave"])
    draft = services.application_create(by=alice)
    draft.child.name = "李小红"
    draft.child.save()
    return application, draft


def test_the_caseworker_finds_her_work_and_discards_a_draft(page: Page, site, people, work):
    application, draft = work
    log_in(page, site, "alice")
    page.goto(f"{site}/")
    expect(page.locator("#home-new-application")).to_be_visible()
    waiting = page.locator("#awaiting-answer tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(application.reference)
    expect(waiting).to_contain_text(ITEMS)
    drafts = page.locator("#drafts tbody tr")
    expect(drafts).to_have_count(1)
    expect(drafts).to_contain_text("李小红")
    if shots := os.environ.get("BROWSER_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/home-caseworker.png", full_page=True)

    drafts.locator("a.discard-link").click()
    expect(page).to_have_url(re.compile(rf"/applications/{draft.reference}/discard/$"))
    expect(page.locator("#discard-reference")).to_have_text(draft.reference)
    # Sent without a reason: the summary, the message at the field, nothing discarded.
    page.locator("#confirm-discard").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#id_reason")).to_have_attribute("aria-invalid", "true")
    draft.refresh_from_db()
    assert draft.discarded_at is None
    if shots:
        page.screenshot(path=f"{shots}/home-discard-refused.png", full_page=True)
    summary.locator("a[href='#id_reason']").click()
    expect(page.locator("#id_reason")).to_be_focused()
    page.locator("#id_reason").fill("同一家庭重复录入")
    page.locator("#confirm-discard").click()

    expect(page).to_have_url(f"{site}/")
    expect(page.locator(".messages .message")).to_contain_text(draft.reference)
    expect(page.locator("#drafts tbody tr")).to_have_count(0)
    draft.refresh_from_db()
    assert draft.discarded_by == people["alice"]
    assert draft.discard_reason == "同一家庭重复录入"
    assert Application.objects.filter(pk=draft.pk).exists()  # kept, never deleted


def test_the_new_application_button_opens_a_draft(page: Page, site, people):
    log_in(page, site, "alice")
    page.goto(f"{site}/")
    page.locator("#home-new-application").click()
    expect(page).to_have_url(re.compile(r"/applications/DB-\d{4}-[0-9A-Z]{6}/edit/$"))
    assert Application.objects.filter(created_by=people["alice"]).count() == 1


@pytest.mark.parametrize("width", [1280, 375])
def test_the_home_and_the_discard_page_pass_axe_and_fit(
    page: Page, site, people, axe_source, work, width
):
    _application, draft = work
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, site, "alice")
    for url in ("/", f"/applications/{draft.reference}/discard/"):
        page.goto(f"{site}{url}")
        violations = serious_axe_violations(page, axe_source)
        assert not violations, f"axe on {url} at {width}px:\n" + json.dumps(
            violations, ensure_ascii=False, indent=2
        )
        fits, detail = no_horizontal_scroll(page)
        assert fits, f"{url} at {width}px: {detail}"
