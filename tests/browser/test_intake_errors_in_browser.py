"""A refused submission of the intake (issue 16, finding 2): the GOV.UK error summary at the
top, focused, one link per field in error that moves the focus to the field itself (a radio
group and a region picker at their first input), each field marked aria-invalid with its
message beside it; the section states say 有错误 in the header and the task list; what was
saved stays after a reload.

Set BROWSER_SCREENSHOTS=/some/folder to also save screenshots (intake-*.png).
"""

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_autosave_in_browser import TYPING_DELAY_MS, draft_without, type_slowly
from tests.browser.test_pages_in_browser import (
    fill_precheck,
    log_in,
    serious_axe_violations,
    submit_precheck,
)


def shoot(page: Page, name: str, *, full_page=False) -> None:
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/intake-{name}.png", full_page=full_page)


def active_id(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_refused_submission_lists_every_field_and_its_links_focus_them(
    page: Page, site, people, axe_source
):
    application = draft_without(
        people, household_province="", household_prefecture="", registration="", g1_phone=""
    )
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/edit/")
    shoot(page, "edit-page")
    shoot(page, "edit-page-full", full_page=True)
    # Typed right before the click: flushed first, then kept after the refusal.
    page.locator("#id_address").click()
    page.keyboard.press("End")
    page.keyboard.type("，2 单元", delay=TYPING_DELAY_MS)
    page.get_by_role("button", name="提交申请").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    shoot(page, "refused")
    shoot(page, "refused-full", full_page=True)
    links = summary.locator("a")
    expect(links).to_have_count(3)
    expect(summary.locator("a[href='#id_household_province']")).to_contain_text("A07")
    expect(summary.locator("a[href='#id_registration_0']")).to_contain_text("A08")
    expect(summary.locator("a[href='#id_g1_phone']")).to_contain_text("B04")

    # Each link moves the focus to its field, a radio group's to its first choice.
    for anchor in ("id_household_province", "id_registration_0", "id_g1_phone"):
        summary.locator(f"a[href='#{anchor}']").click()
        assert active_id(page) == anchor
        field = page.locator(f"#{anchor}")
        expect(field).to_have_attribute("aria-invalid", "true")
    province = page.locator("#id_household_province")
    described = province.get_attribute("aria-describedby")
    assert "id_household_province_error" in described.split()
    expect(page.locator("#id_household_province_error")).to_be_visible()
    expect(page.locator("#id_g1_phone_error")).to_contain_text("请")

    for width, height in ((1280, 800), (375, 667)):
        page.set_viewport_size({"width": width, "height": height})
        assert serious_axe_violations(page, axe_source) == [], width
    page.set_viewport_size({"width": 1280, "height": 800})

    # One state per section, in words, the same in the task list and at the section.
    expect(page.locator("#task-A [data-section-state]")).to_have_text("有错误")
    expect(page.locator("#section-A-title [data-section-state]")).to_have_text("有错误")
    expect(page.locator("#task-C [data-section-state]")).to_have_text("已完成")
    expect(page.locator("#section-C-title [data-section-state]")).to_have_text("已完成")

    page.reload()
    expect(page.locator("#id_address")).to_have_value("北京市朝阳区某街道 1 号，2 单元")
    expect(page.locator("#id_name")).to_have_value("王小明")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_count(3)


def test_an_autosave_updates_the_section_state_in_the_task_list(page: Page, site, people):
    application = draft_without(people, g1_phone="")
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/edit/")
    expect(page.locator("#task-B [data-section-state]")).to_have_text("填写中")
    type_slowly(page, "#id_g1_phone", "13800138000")
    page.locator("#id_g1_phone").blur()
    expect(page.locator("#task-B [data-section-state]")).to_have_text("已完成")
    expect(page.locator("#section-B-title [data-section-state]")).to_have_text("已完成")
    # The save indicator is apart from the state: it speaks of saving only.
    expect(page.locator("#section-B [data-save-state]")).to_have_text("已保存")


def test_a_refused_precheck_swapped_in_by_htmx_focuses_its_error_summary(page: Page, site):
    page.goto(f"{site}/eligibility/")
    fill_precheck(page)
    page.fill("#id_household_size", "0")
    submit_precheck(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    shoot(page, "precheck-refused")
    link = summary.locator("a[href='#id_household_size']")
    expect(link).to_have_count(1)
    link.click()
    assert active_id(page) == "id_household_size"
    expect(page.locator("#id_household_size")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_household_size")).to_have_value("0")
    expect(page.locator("#id_household_prefecture")).to_have_value("110101")  # kept
