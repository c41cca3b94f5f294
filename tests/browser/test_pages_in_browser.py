"""The pages as a browser shows them: language switch, accessibility, small screens, the
pre-check with its htmx parts, and the admin gate.

Assertions rely on data (project names kept in both languages, region names) and on
html lang, not on translated UI wording, which may not be translated yet.

Set BROWSER_SCREENSHOTS=/some/folder to also save screenshots of the pages measured by
the small-screen test.
"""

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from organizations.models import User
from tests.conftest import current_code, second_factor_device

PRECHECK_FACTS = {
    "household_size": "4",
    "household_income": "60000",
    "estimated_cost": "200000",
    "coverage": "80000",
    "other_aid": "0",
}


def log_in(page: Page, site: str, username: str) -> None:
    """The password, then, for those who need one, the code their authenticator app would
    show now (their device is added as if they had enrolled)."""
    user = User.objects.get(username=username)
    device = second_factor_device(user)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    if device is not None:
        expect(page).to_have_url(re.compile(r"/accounts/otp/"))
        page.fill("#id_code", current_code(device))
        page.locator("form.form button[type=submit]").click()
        page.wait_for_load_state()
        expect(page).not_to_have_url(re.compile(r"/accounts/otp/"))


def choose_region(page: Page, prefix: str, province: str, city: str | None = None) -> None:
    """Choose a province, wait for htmx to load its cities, then choose one."""
    page.select_option(f"#id_{prefix}_province", label=province)
    if city is not None:
        option = page.locator(f"#id_{prefix}_prefecture option", has_text=city)
        expect(option).to_have_count(1)
        page.select_option(f"#id_{prefix}_prefecture", label=city)


def fill_precheck(page: Page, **overrides: str) -> None:
    """A six-year-old with leukaemia in chemotherapy, registered and treated in Beijing."""
    dob = timezone.localdate() - timedelta(days=6 * 365)
    page.fill("#id_dob", dob.isoformat())
    page.select_option("#id_category", label="白血病")
    choose_region(page, "household", "北京市", "东城区")
    page.check("input[name=registration][value=urban]")
    choose_region(page, "hospital", "北京市", "西城区")
    page.select_option("#id_plan_chemotherapy", "in_progress")
    for name, value in {**PRECHECK_FACTS, **overrides}.items():
        page.fill(f"#id_{name}", value)


def submit_precheck(page: Page) -> None:
    page.locator("form.precheck button[type=submit]").click()


def no_horizontal_scroll(page: Page) -> tuple[bool, str]:
    """Whether the page fits the viewport's width, and what sticks out if not."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            const fits = document.documentElement.scrollWidth <= width;
            const wide = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > width + 0.5)
                .slice(0, 8)
                .map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`
                    + ` right=${Math.round(el.getBoundingClientRect().right)}`);
            return [fits, `scrollWidth=${document.documentElement.scrollWidth}`
                + ` innerWidth=${width}; wide: ${wide.join(', ')}`];
        }"""
    )


def serious_axe_violations(page: Page, axe_source: str) -> list[dict]:
    # Injected through the DevTools protocol, which the page's CSP does not apply to.
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_secretariat_switches_the_directory_to_english(page: Page, site):
    log_in(page, site, "sam")
    expect(page.locator(".nav-user")).to_contain_text("sam")
    page.goto(f"{site}/directory/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#project-P01 h3")).to_contain_text("小天使基金")
    expect(page.get_by_text("Little Angel Fund")).to_have_count(0)

    page.get_by_role("button", name="English").click()

    expect(page).to_have_url(re.compile(r"/directory/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#project-P01 h3")).to_contain_text("Little Angel Fund")
    expect(page.get_by_text("小天使基金")).to_have_count(0)
    # Still signed in, and the choice sticks on the next pages.
    expect(page.locator(".nav-user")).to_contain_text("sam")
    page.locator('.main-nav a[href="/eligibility/"]').click()
    expect(page).to_have_url(re.compile(r"/eligibility/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#id_household_province option", has_text="北京市")).to_have_count(1)
    page.goto(f"{site}/directory/P01/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("P01 Little Angel Fund")
    # And back to Chinese with the same switch.
    page.goto(f"{site}/directory/")
    page.get_by_role("button", name="中文").click()
    expect(page).to_have_url(re.compile(r"/directory/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#project-P01 h3")).to_contain_text("小天使基金")


def test_directory_links_each_project_to_its_page(page: Page, site):
    page.goto(f"{site}/directory/")
    page.locator("#project-P01 h3 a").click()
    expect(page).to_have_url(re.compile(r"/directory/P01/$"))
    expect(page.locator("h1")).to_have_text("P01 小天使基金")


def test_language_switch_on_a_project_page_stays_on_it(page: Page, site):
    page.goto(f"{site}/directory/P01/")
    expect(page.locator("h1")).to_have_text("P01 小天使基金")
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/directory/P01/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("P01 Little Angel Fund")


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/directory/", "/directory/P01/", "/eligibility/"]
)
def test_axe_finds_no_serious_violation(page: Page, site, axe_source, path):
    page.goto(site + path)
    violations = serious_axe_violations(page, axe_source)
    assert not violations, f"axe on {path}:\n" + json.dumps(
        violations, ensure_ascii=False, indent=2
    )


def test_axe_finds_no_serious_violation_in_precheck_results_and_errors(
    page: Page, site, axe_source
):
    page.goto(f"{site}/eligibility/")
    fill_precheck(page)
    submit_precheck(page)
    expect(page.locator("#precheck-results .result").first).to_be_visible()
    violations = serious_axe_violations(page, axe_source)
    assert not violations, "axe on the results:\n" + json.dumps(
        violations, ensure_ascii=False, indent=2
    )
    page.fill("#id_household_size", "0")
    submit_precheck(page)
    expect(page.locator("#id_household_size_error")).to_be_visible()
    violations = serious_axe_violations(page, axe_source)
    assert not violations, "axe on the form with errors:\n" + json.dumps(
        violations, ensure_ascii=False, indent=2
    )


@pytest.mark.parametrize(
    ("width", "height"), [(360, 740), (375, 667), (1280, 800)], ids=["360", "375", "1280"]
)
def test_pages_fit_the_screen_width(page: Page, site, width, height):
    page.set_viewport_size({"width": width, "height": height})
    shots = os.environ.get("BROWSER_SCREENSHOTS")

    def check(name):
        fits, detail = no_horizontal_scroll(page)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)
        assert fits, f"{name} at {width}px scrolls sideways: {detail}"

    for name, path in [("home", "/"), ("directory", "/directory/"), ("precheck", "/eligibility/")]:
        page.goto(site + path)
        check(name)
    fill_precheck(page)
    submit_precheck(page)
    expect(page.locator("#precheck-results .result").first).to_be_visible()
    check("precheck-results")
    page.fill("#id_household_size", "0")
    submit_precheck(page)
    expect(page.locator("#id_household_size_error")).to_be_visible()
    check("precheck-errors")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{site}/directory/")
    check("directory-en")


def test_precheck_flow_with_chained_regions_results_and_field_errors(page: Page, site):
    page.goto(f"{site}/eligibility/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    # Before a province is chosen the city list offers nothing to choose.
    expect(page.locator("#id_household_prefecture option")).to_have_count(1)
    fill_precheck(page)
    expect(page.locator("#id_household_prefecture")).to_have_value("110101")
    expect(page.locator("#id_household_county option")).to_have_count(1)
    # Each radio is named by its own option only (the question is the group's name).
    expect(page.get_by_role("radio", name="农村", exact=True)).to_have_count(1)
    expect(page.get_by_role("radio", name="城镇", exact=True)).to_be_checked()

    submit_precheck(page)

    eligible = page.locator("#precheck-results .result.eligible")
    p01 = eligible.filter(has_text="P01")
    expect(p01).to_have_count(1)
    expect(p01.locator("h3")).to_contain_text("小天使基金")
    # By treatment: 30,000 yuan for chemotherapy, well inside the funding gap.
    expect(p01.locator(".amount")).to_contain_text("30,000")
    # A project for another illness is listed as not fitting, with a reason.
    p02 = page.locator("#precheck-results .result.not-eligible").filter(has_text="P02")
    expect(p02.locator(".reasons li").first).to_be_visible()
    # htmx swapped the results in: the form is still the same page, nothing reloaded.
    expect(page).to_have_url(re.compile(r"/eligibility/$"))

    page.fill("#id_household_size", "0")
    submit_precheck(page)

    error = page.locator("#id_household_size_error")
    expect(error).to_have_text("确保该值大于或等于1。")
    field = page.locator(".field.has-error").filter(has=page.locator("#id_household_size"))
    expect(field).to_have_count(1)
    expect(page.locator("#precheck-form-errors [role=alert]")).to_be_visible()
    # No stale results next to the errors, and everything typed is still there.
    expect(page.locator("#precheck-results .result")).to_have_count(0)
    expect(page.locator("#id_household_size")).to_have_value("0")
    expect(page.locator("#id_household_income")).to_have_value("60000")
    expect(page.locator("#id_estimated_cost")).to_have_value("200000")
    expect(page.locator("#id_category option:checked")).to_have_text("白血病")
    expect(page.locator("#id_household_prefecture")).to_have_value("110101")
    expect(page.locator("#id_hospital_prefecture")).to_have_value("110102")
    expect(page.locator("#id_plan_chemotherapy")).to_have_value("in_progress")
    expect(page.locator("input[name=registration][value=urban]")).to_be_checked()
    # The error is tied to its field for screen readers.
    described_by = page.locator("#id_household_size").get_attribute("aria-describedby") or ""
    assert "id_household_size_error" in described_by.split(), described_by
    expect(page.locator("#id_household_size")).to_have_attribute("aria-invalid", "true")

    # Corrected, the form is accepted again and the error marks go away.
    page.fill("#id_household_size", "4")
    submit_precheck(page)
    expect(page.locator("#precheck-results .result.eligible").filter(has_text="P01")).to_have_count(
        1
    )
    expect(page.locator("#id_household_size_error")).to_have_count(0)
    expect(page.locator(".field.has-error")).to_have_count(0)
    expect(page.locator("#precheck-form-errors [role=alert]")).to_have_count(0)


def test_caseworker_is_not_let_into_the_admin(page: Page, site):
    log_in(page, site, "alice")
    expect(page.locator(".nav-user")).to_contain_text("alice")
    # The navigation does not offer the admin to a caseworker...
    expect(page.locator('.main-nav a[href="/admin/"]')).to_have_count(0)
    # ...and typing its addresses only leads to the admin's login form.
    for path in ["/admin/", "/admin/organizations/aidproject/", "/admin/organizations/user/"]:
        page.goto(site + path)
        expect(page).to_have_url(re.compile(r"/admin/login/\?next="))
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("a[href*='/admin/organizations/']")).to_have_count(0)
        expect(page.get_by_text("小天使基金")).to_have_count(0)
