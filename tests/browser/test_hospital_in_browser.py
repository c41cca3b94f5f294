"""Hospitals join the loop (issue 17) in a browser: a hospital user signs in with both
factors, confirms one application and corrects another's cost estimate with a reason; a
reviewer of a member sees both in the inbox (badge and filter) and on the application
page. Assertions rely on data (references, hospital names, amounts as the page formats
them, the database), not on translated wording."""

import re
from decimal import Decimal

import pytest
from django.http import QueryDict
from playwright.sync_api import Page, expect

from cases.models import Application
from organizations.models import Hospital, User
from organizations.templatetags.org_extras import yuan
from tests.browser.test_pages_in_browser import (
    log_in,
    no_horizontal_scroll,
    serious_axe_violations,
)
from tests.intake_data import SECTIONS, resident_id

BCH = "首都医科大学附属北京儿童医院"


@pytest.fixture
def hana(people):
    from organizations import services

    return services.user_create(
        by=None,
        username="hana",
        password="pw",
        role=User.Role.HOSPITAL_STAFF,
        hospital=Hospital.objects.get(code="bch"),
    )


def _submitted(alice, sequence: str) -> Application:
    from cases.intake import services

    application = services.application_create(by=alice)
    changes = {"D": {"treating_hospital": BCH}, "H": {"consent_hospital": "on"}}
    for key, values in SECTIONS.items():
        values = {**values, **changes.get(key, {})}
        if key == "A":
            values["id_number"] = resident_id("110105", "2018-03-10", sequence)
        data = QueryDict(mutable=True)
        for name, value in values.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        services.section_save(application=application, section=key, data=data, by=alice)
    return services.application_submit(application=application, by=alice)


def test_a_hospital_confirms_one_corrects_another_and_a_reviewer_sees_both(
    page: Page, site, people, hana, axe_source
):
    first = _submitted(people["alice"], "111")
    second = _submitted(people["alice"], "113")

    log_in(page, site, "hana")
    page.goto(f"{site}/hospital/")
    expect(page.locator("table")).to_contain_text(first.reference)
    expect(page.locator("table")).to_contain_text(second.reference)
    assert serious_axe_violations(page, axe_source) == []

    # Confirm the first as entered.
    page.get_by_role("link", name=first.reference).click()
    expect(page.locator("#value-D08")).to_have_text(yuan(Decimal("200000")))
    assert serious_axe_violations(page, axe_source) == []
    page.locator("#confirm-button").click()
    expect(page.locator("#confirmed-badge")).to_be_visible()

    # Correct the second's cost estimate: first without a reason (refused, kept as typed).
    page.goto(f"{site}/hospital/applications/{second.reference}/")
    page.locator("#correct summary").click()
    page.fill("#id_estimated_cost", "236000")
    page.locator("#correct-button").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#id_estimated_cost")).to_have_value("236000")
    expect(page.locator("#id_reason")).to_have_attribute("aria-invalid", "true")
    page.fill("#id_reason", "本院最新费用预估单")
    page.locator("#correct-button").click()
    expect(page.locator("#value-D08")).to_have_text(yuan(Decimal("236000")))
    expect(page.locator("#history")).to_contain_text("本院最新费用预估单")

    second.refresh_from_db()
    assert second.estimated_cost == Decimal("236000")
    assert second.hospital_confirmation.kind == "corrected"

    # The hospital's pages on a 360 px phone.
    page.set_viewport_size({"width": 360, "height": 740})
    for url in ("/hospital/?show=confirmed", f"/hospital/applications/{second.reference}/"):
        page.goto(f"{site}{url}")
        fits, wide = no_horizontal_scroll(page)
        assert fits, (url, wide)
    page.set_viewport_size({"width": 1280, "height": 800})

    # A reviewer of member 2 sees both: the badge, the filter, the page.
    page.context.clear_cookies()
    log_in(page, site, "dave")
    page.goto(f"{site}/inbox/?hospital=yes")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=first.reference).locator(".badge.done")).to_have_count(1)
    expect(rows.filter(has_text=second.reference).locator(".badge.done")).to_have_count(1)
    page.goto(f"{site}/applications/{second.reference}/")
    panel = page.locator("#hospital-confirmation")
    expect(panel).to_contain_text(BCH)
    expect(panel).to_contain_text("hana")
    expect(panel).to_contain_text("本院最新费用预估单")
    expect(panel).to_contain_text(re.compile(r"200,?000"))
    expect(panel).to_contain_text(re.compile(r"236,?000"))
    page.goto(f"{site}/applications/{first.reference}/")
    expect(page.locator("#hospital-confirmation")).to_contain_text(BCH)
