"""The pages issue 16 changed, in Chromium: the home page's link to /status/ followed by a
click, and axe without serious or critical violations at 1280 and 375 px on the home,
login, status, lockout, pre-check, receipt, edit and report pages; none scrolls sideways.

Set BROWSER_SCREENSHOTS=/some/folder to also save screenshots (issue16-*.png).
"""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from cases.intake import services
from tests.browser.test_pages_in_browser import (
    fill_precheck,
    log_in,
    no_horizontal_scroll,
    serious_axe_violations,
    submit_precheck,
)
from tests.test_workflow import fill, submitted

WIDTHS = [(1280, 800), (375, 667)]


def test_a_family_finds_the_status_page_from_the_home_page(page: Page, site):
    page.goto(f"{site}/")
    page.locator("main a[href='/status/']").click()
    expect(page).to_have_url(re.compile(r"/status/$"))
    expect(page.locator("#id_reference")).to_be_visible()
    # And from the navigation of any page.
    page.goto(f"{site}/directory/")
    expect(page.locator("nav.main-nav a[href='/status/']")).to_have_count(1)


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "375"])
def test_the_pages_of_issue_16_pass_axe_and_fit_the_screen(
    page: Page, site, people, axe_source, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    application = submitted(people["alice"])

    def check(name):
        violations = serious_axe_violations(page, axe_source)
        assert not violations, f"axe on {name} at {width}px:\n" + json.dumps(
            violations, ensure_ascii=False, indent=2
        )
        fits, detail = no_horizontal_scroll(page)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/issue16-{name}-{width}.png", full_page=True)
        assert fits, f"{name} at {width}px scrolls sideways: {detail}"

    page.goto(f"{site}/")
    check("home")
    page.goto(f"{site}/accounts/login/")
    check("login")
    page.goto(f"{site}/eligibility/")
    fill_precheck(page)
    submit_precheck(page)
    expect(page.locator(".how-to-apply").first).to_be_visible()
    check("precheck-results")
    page.goto(f"{site}/status/")
    check("status")
    for _ in range(6):  # five wrong phones, then the pause
        page.fill("#id_reference", application.reference)
        page.fill("#id_phone", "13700137000")
        page.locator("form.family-form button[type=submit]").click()
        page.wait_for_load_state()
        if page.locator("#rate-limited").count():
            break
    expect(page.locator("#rate-limited")).to_be_visible()
    check("lockout")

    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/receipt/")
    check("receipt")
    page.goto(f"{site}/applications/{application.reference}/")
    check("detail")
    draft = fill(services.application_create(by=people["alice"]), people["alice"], sequence="457")
    page.goto(f"{site}/applications/{draft.reference}/edit/")
    page.fill("#id_income_source", "个体经营")
    page.locator("#id_income_source").press("Tab")
    expect(page.locator("#section-C [data-save-state]")).to_have_attribute("data-state", "saved")
    check("edit")

    log_in(page, site, "sam")
    page.goto(f"{site}/reports/?period=2026-Q4")
    expect(page.locator("select[name=part]")).to_have_value("Q4")
    check("reports")
