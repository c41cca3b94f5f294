"""The family status page on a phone (375×667, and 360 px wide): a family finds its status
and the papers still needed; a wrong phone number gets the generic message; the sixth
failure gets the rate-limit page. Accessibility (axe), no sideways scrolling, big targets.

Assertions rely on data (the reference, the member's request, member names, element ids
and state classes) and on messages computed through gettext under the page's language, so
they hold before and after the Chinese translations are merged.

Set BROWSER_SCREENSHOTS=/some/folder to also save full-page screenshots (family-*.png).
"""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from cases.family.selectors import FamilyState
from cases.family.views import NO_MATCH
from cases.models import MemberReview
from organizations.models import AidProject, MemberOrganization, User
from tests.browser.test_pages_in_browser import (
    log_in,
    no_horizontal_scroll,
    serious_axe_violations,
)
from tests.intake_data import SECTIONS
from tests.test_family_status import some_reference

PHONE = SECTIONS["B"]["g1_phone"]
ITEMS = "请补充近三个月的住院费用清单"
PHONE_SIZE = {"width": 375, "height": 667}


def zh(message) -> str:
    with translation.override("zh-hans"):
        return gettext(message) if isinstance(message, str) else str(message)


@pytest.fixture
def application(site, people):
    """alice's application, submitted (so routed to all 8 members); member 2 asks for a
    paper, member 1 pledges 30,000 yuan."""
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
    workflow.review_approve(
        review=MemberReview.objects.get(application=application, member__number=1),
        project=AidProject.objects.get(code="P01"),
        amount=Decimal(30000),
        by=people["bob"],
    )
    MemberOrganization.objects.filter(pk=application.member_id).update(
        contact_phone="010-6512 3456"
    )
    return application


def check_page(page: Page, axe_source: str, name: str) -> None:
    """Fits the width, passes axe, and every target in the page body is at least 44 px."""
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    width = page.viewport_size["width"]
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/family-{name}-{width}.png", full_page=True)
    fits, detail = no_horizontal_scroll(page)
    assert fits, f"{name} at {width}px scrolls sideways: {detail}"
    violations = serious_axe_violations(page, axe_source)
    assert not violations, f"axe on {name}:\n" + json.dumps(
        violations, ensure_ascii=False, indent=2
    )
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                '#main a, #main button, #main input:not([type=hidden])')]
            .filter(el => el.getBoundingClientRect().height < 44)
            .map(el => `${el.tagName} ${el.name || el.textContent.trim()}`
                + ` ${Math.round(el.getBoundingClientRect().height)}px`)"""
    )
    assert not small, f"{name}: targets under 44 px: {small}"


def look_up(page: Page, reference: str, phone: str):
    page.fill("#id_reference", reference)
    page.fill("#id_phone", phone)
    with page.expect_navigation() as navigation:
        page.locator(".family-form button[type=submit]").click()
    return navigation.value


@pytest.mark.parametrize("size", [PHONE_SIZE, {"width": 360, "height": 740}], ids=["375", "360"])
def test_a_family_finds_its_status_and_the_papers_needed(
    page: Page, site, application, axe_source, size
):
    page.set_viewport_size(size)
    page.goto(f"{site}/status/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    check_page(page, axe_source, "form")

    # Typed as people type it: lower case, spaces for dashes, the country code.
    look_up(page, application.reference.lower().replace("-", " "), "+86 138 0013 8000")

    expect(page).to_have_url(f"{site}/status/result/")
    expect(page.locator(".reference .ref")).to_have_text(application.reference)
    overall = page.locator("#overall")
    expect(overall).to_have_class("status-box state-documents")
    expect(overall.locator("h2")).to_have_text(zh(FamilyState.DOCUMENTS.label))
    needed = page.locator("#needed .needed-item")
    cccf = MemberOrganization.objects.get(number=2)
    request = needed.filter(has_text=ITEMS)
    expect(request).to_have_count(1)
    expect(request).to_contain_text(cccf.name_zh)
    # The 低保 certificate and the other checklist papers no one has uploaded yet.
    expect(needed).to_have_count(1 + 6)
    members = page.locator("#members .member-line")
    expect(members).to_have_count(8)
    expect(members.filter(has_text=cccf.name_zh)).to_have_class("member-line state-documents")
    crcf = members.filter(has_text=MemberOrganization.objects.get(number=1).name_zh)
    expect(crcf).to_have_class("member-line state-funded")
    expect(crcf).to_contain_text("30,000")
    contact = page.locator("#contact")
    expect(contact).to_contain_text(application.member.name_zh)
    expect(contact.locator("a[href='tel:010-65123456']")).to_contain_text("010-6512 3456")
    check_page(page, axe_source, "result")

    # English, one click away, on the same page.
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(f"{site}/status/result/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(overall.locator("h2")).to_have_text("Documents needed")
    expect(members.filter(has_text=cccf.name_en)).to_have_count(1)

    # "Done" closes it: back to the form, and the result page is gone.
    page.locator("form.leave button[type=submit]").click()
    expect(page).to_have_url(f"{site}/status/")
    page.goto(f"{site}/status/result/")
    expect(page).to_have_url(f"{site}/status/")


def test_a_wrong_phone_gets_the_generic_message_and_the_sixth_failure_the_rate_limit(
    page: Page, site, application, axe_source
):
    page.set_viewport_size(PHONE_SIZE)
    page.goto(f"{site}/status/")
    for n in range(5):
        response = look_up(page, application.reference, f"1370013700{n}")
        assert response.status == 200
        expect(page.locator("#lookup-error")).to_have_text(zh(NO_MATCH))
        expect(page.locator("#overall")).to_have_count(0)
    # What was typed stays, to be corrected.
    expect(page.locator("#id_phone")).to_have_value("13700137004")
    check_page(page, axe_source, "no-match")

    response = look_up(page, application.reference, PHONE)

    assert response.status == 429
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60
    limited = page.locator("#rate-limited")
    expect(limited).to_be_visible()
    expect(limited.locator(".retry")).to_contain_text(":")
    expect(page.locator("#overall")).to_have_count(0)
    check_page(page, axe_source, "rate-limited")


def test_a_wrong_reference_reads_like_a_wrong_phone(page: Page, site, application):
    page.set_viewport_size(PHONE_SIZE)
    page.goto(f"{site}/status/")
    look_up(page, application.reference, "13700137000")
    wrong_phone = page.locator("#lookup-error").inner_text()
    look_up(page, some_reference(1), PHONE)
    assert page.locator("#lookup-error").inner_text() == wrong_phone == zh(NO_MATCH)


def test_staff_sessions_see_nothing_more(page: Page, site, application, people):
    """A reviewer's browser gets the same family page: no staff data leaks into it."""
    log_in(page, site, "bob")
    assert User.objects.get(username="bob").role == User.Role.REVIEWER
    page.set_viewport_size(PHONE_SIZE)
    page.goto(f"{site}/status/")
    look_up(page, application.reference, PHONE)
    main = page.locator("#main").inner_text()
    assert application.child.name not in main
    assert SECTIONS["B"]["g1_name"] not in main
    assert SECTIONS["D"]["diagnosis_text"] not in main
