"""A call-back request, in Chromium (issue 17): a family runs the pre-check, asks one of the
members whose projects could help to call it, and that member's caseworker finds the
request in the list and opens an application from it, prefilled."""

from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from cases.models import Lead
from tests.browser.test_family_status_in_browser import PHONE_SIZE, check_page
from tests.browser.test_pages_in_browser import fill_precheck, log_in, submit_precheck


def zh(message) -> str:
    with translation.override("zh-hans"):
        return gettext(message) if isinstance(message, str) else str(message)


def test_a_family_asks_a_member_to_call_and_the_caseworker_opens_an_application(
    page: Page, site, people, axe_source
):
    page.set_viewport_size(PHONE_SIZE)
    page.goto(f"{site}/eligibility/")
    fill_precheck(page)
    submit_precheck(page)
    callback = page.locator("#callback")
    expect(callback).to_be_visible()
    member = people["alice"].organization
    link = callback.locator(f"a[href^='/contact-me/{member.short_name}/']")
    expect(link).to_have_count(1)
    link.click()

    expect(page.locator("#id_category")).to_have_value("LEUK")
    expect(page.locator("#id_region")).to_have_value("11")
    check_page(page, axe_source, "lead-form")
    page.fill("#id_name", "王大明")
    page.fill("#id_phone", "138 0013 8000")
    # Without consent: refused, and what was typed stays.
    page.locator("form.lead-form button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#id_name")).to_have_value("王大明")
    page.check("#id_consent")
    page.fill("#id_note", "孩子在北京住院")
    page.locator("form.lead-form button[type=submit]").click()
    expect(page.locator("#lead-sent")).to_be_visible()
    check_page(page, axe_source, "lead-sent")

    lead = Lead.objects.get()
    assert lead.member == member and lead.phone == "13800138000"

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, site, "alice")
    page.goto(f"{site}/leads/")
    row = page.locator("#leads tr.lead")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("138****8000")
    row.locator("a").click()
    expect(page.locator("#lead-facts")).to_contain_text("13800138000")
    page.get_by_role("button", name=zh("Open an application from this request")).click()

    lead.refresh_from_db()
    assert lead.state == Lead.State.APPLICATION
    expect(page).to_have_url(f"{site}/applications/{lead.application.reference}/edit/")
    expect(page.locator("#id_g1_name")).to_have_value("王大明")
    expect(page.locator("#id_g1_phone")).to_have_value("13800138000")
