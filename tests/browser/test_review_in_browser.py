"""The shared review workflow in a browser: the inbox with its funding gap, taking a
review, asking for information and its answer, two members pledging until the gap is
closed, a third member refused; accessibility and small screens of the reviewer's pages.

Assertions rely on data (references, project codes, member names, amounts formatted as
the page formats them, the database), not on translated UI wording, which may not be
translated yet; the one message checked word for word is computed by the workflow itself
under the page's language.

Set BROWSER_SCREENSHOTS=/some/folder to also save full-page screenshots of the reviewer's
pages (review-*.png) at the widths measured.
"""

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.http import QueryDict
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from cases.models import Application, MemberReview
from cases.review import services as workflow
from organizations.models import AidProject, MemberOrganization, User
from organizations.templatetags.org_extras import yuan
from tests.browser.test_pages_in_browser import (
    log_in,
    no_horizontal_scroll,
    serious_axe_violations,
)
from tests.intake_data import SECTIONS

NEED = Decimal("105000")  # 200000 estimated − 90000 insurance − 5000 crowdfunding
ITEMS = "请补充病案首页"
MONEY = re.compile(r"\d[\d,]*(?:\.\d{2})?")  # as money() writes it: grouped, fen if any


def money(value) -> str:
    """An amount as every page shows it: the `yuan` filter (issue 16, finding 5)."""
    return yuan(Decimal(value))


@pytest.fixture
def erin(people):
    """A reviewer of member 3, which has no part in the application until it is routed."""
    from organizations import services

    return services.user_create(
        by=None,
        username="erin",
        password="pw",
        role=User.Role.REVIEWER,
        organization=MemberOrganization.objects.get(number=3),
    )


@pytest.fixture
def submitted(site, people):
    """alice's complete application, submitted (and so routed) through the services."""
    from cases.intake import services

    alice = people["alice"]
    application = services.application_create(by=alice)
    for key, values in SECTIONS.items():
        data = QueryDict(mutable=True)
        for name, value in values.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        services.section_save(application=application, section=key, data=data, by=alice)
    application = services.application_submit(application=application, by=alice)
    assert application.need == NEED, application.need
    return application


def review_of(application: Application, number: int) -> MemberReview:
    return MemberReview.objects.select_related("member", "project").get(
        application=application, member__number=number
    )


def sign_in_as(page: Page, site: str, username: str) -> None:
    """Whoever was signed in leaves; `username` signs in."""
    page.context.clear_cookies()
    log_in(page, site, username)
    expect(page.locator(".nav-user")).to_contain_text(username)


def action_form(page: Page, review: MemberReview, action: str) -> Locator:
    return page.locator(f"form[action='/reviews/{review.pk}/{action}/']")


def press(page: Page, form: Locator) -> None:
    """Submit an ordinary form and wait for the page it redirects to."""
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def matrix_row(page: Page, review: MemberReview) -> Locator:
    return page.locator("table.matrix tbody tr").filter(has_text=review.member.name_zh)


def expect_gap_line(page: Page, need, pledged, gap) -> None:
    """The gap line shows need, pledged and gap, in this order, the gap emphasised."""
    line = page.locator("#reviews .gap-line")
    expect(line.locator("strong")).to_contain_text(money(gap))
    assert MONEY.findall(line.inner_text()) == [money(need), money(pledged), money(gap)], (
        line.inner_text()
    )
    assert MONEY.findall(line.locator("strong").inner_text()) == [money(gap)]


def expect_pledge_in_matrix(page: Page, review: MemberReview, code: str, amount) -> None:
    row = matrix_row(page, review)
    expect(row).to_have_count(1)
    expect(row).to_have_class(re.compile(r"\bstate-approved\b"))
    member, _state, project, pledged, _paid, _date = cells(row)
    assert member == review.member.name_zh
    assert project.startswith(f"{code} "), project
    assert pledged == money(amount)


def approve(
    page: Page, review: MemberReview, code: str, amount, override: str = "", confirm=True
) -> None:
    """Fill the approval form and continue; then, when the confirmation names the member,
    project and amount, confirm (issue 16: a pledge is made only once confirmed)."""
    form = action_form(page, review, "approve")
    form.locator("#approve-project").select_option(code)
    form.locator("#approve-amount").fill(str(amount))
    if override:
        form.locator("#approve-override_reason").fill(override)
    press(page, form)
    if confirm:
        panel = page.locator("#confirm-pledge")
        expect(panel.locator("#confirm-member")).to_have_text(review.member.name_zh)
        expect(panel.locator("#confirm-project")).to_contain_text(code)
        expect(panel.locator("#confirm-amount")).to_contain_text(money(amount))
        press(page, panel.locator("form").first)


def zh_refusal(action) -> str:
    """The message the (Chinese) page shows when the workflow refuses `action`."""
    with translation.override("zh-hans"), pytest.raises(workflow.WorkflowError) as refused:
        action()
    return str(refused.value)


def test_two_members_pledge_until_the_gap_is_closed_and_a_third_is_refused(
    page: Page, site, people, erin, submitted
):
    reference = submitted.reference
    detail = f"/applications/{reference}/"
    crcf, cccf, aiyou = (review_of(submitted, n) for n in (1, 2, 3))
    assert [r.state for r in (crcf, cccf, aiyou)] == ["pending"] * 3

    # bob (member 1) finds it in his inbox with the whole need as its gap, and opens it.
    sign_in_as(page, site, "bob")
    page.goto(f"{site}/inbox/")
    row = page.locator("tbody tr").filter(has=page.locator(f"a[href='{detail}']"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("王小明")
    assert money(NEED) in cells(row), cells(row)
    row.locator(f"a[href='{detail}']").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(detail)}$"))
    expect_gap_line(page, NEED, 0, NEED)

    press(page, action_form(page, crcf, "take"))
    expect(page.locator(".messages .message")).to_have_count(1)
    crcf.refresh_from_db()
    assert crcf.state == "in_review"
    expect(action_form(page, crcf, "take")).to_have_count(0)

    form = action_form(page, crcf, "request-info")
    form.locator("#info-items").fill(ITEMS)
    press(page, form)
    crcf.refresh_from_db()
    assert (crcf.state, crcf.requested_items) == ("info_requested", ITEMS)
    assert crcf.info_requested_at is not None
    expect(matrix_row(page, crcf)).to_contain_text(ITEMS)
    # While the member waits, it cannot decide.
    expect(action_form(page, crcf, "approve")).to_have_count(0)

    # alice sees what member 1 asks for and says the information is there.
    sign_in_as(page, site, "alice")
    page.goto(f"{site}{detail}")
    answer = page.locator(f"form[action='{detail}reviews/{crcf.pk}/answer/']")
    expect(answer).to_have_count(1)
    expect(answer.locator("strong")).to_have_text(ITEMS)
    expect(answer).to_contain_text(crcf.member.name_zh)
    # A caseworker does not get the reviewer's forms.
    expect(page.locator("#own-review")).to_have_count(0)
    press(page, answer)
    crcf.refresh_from_db()
    assert (crcf.state, crcf.info_requested_at) == ("in_review", None)
    expect(page.locator(f"form[action='{detail}reviews/{crcf.pk}/answer/']")).to_have_count(0)

    # bob approves P01, which the eligibility table shows eligible with 30000 suggested.
    sign_in_as(page, site, "bob")
    page.goto(f"{site}{detail}")
    p01 = page.locator("#own-review tbody tr").filter(has_text="P01")
    expect(p01).to_have_count(1)
    code_and_name, eligible, suggested, _reasons = cells(p01)
    assert code_and_name == "P01 " + crcf.eligibility["P01"]["name_zh"]
    # the mark, then its words for screen readers (是 / Yes)
    assert eligible.split()[0] == "✔" and suggested == money(30000), cells(p01)
    approve(page, crcf, "P01", 30000)
    crcf.refresh_from_db()
    assert (crcf.state, crcf.project.code, crcf.amount) == ("approved", "P01", Decimal(30000))
    assert crcf.decided_by == people["bob"]
    expect_pledge_in_matrix(page, crcf, "P01", 30000)
    expect_gap_line(page, NEED, 30000, 75000)
    expect(action_form(page, crcf, "approve")).to_have_count(0)

    # dave (member 2) sees member 1's pledge and the smaller gap, then closes it with P04.
    sign_in_as(page, site, "dave")
    page.goto(f"{site}/inbox/")
    row = page.locator("tbody tr").filter(has=page.locator(f"a[href='{detail}']"))
    assert money(75000) in cells(row), cells(row)
    page.goto(f"{site}{detail}")
    expect_pledge_in_matrix(page, crcf, "P01", 30000)
    expect_gap_line(page, NEED, 30000, 75000)
    # Member 2's own review, not member 1's, is the one it can decide.
    expect(action_form(page, crcf, "approve")).to_have_count(0)
    expect(page.locator("#own-review")).to_contain_text(cccf.member.name_zh)
    assert cccf.eligibility["P04"]["eligible"]
    approve(page, cccf, "P04", 75000)
    cccf.refresh_from_db()
    assert (cccf.state, cccf.project.code, cccf.amount) == ("approved", "P04", Decimal(75000))
    expect_gap_line(page, NEED, NEED, 0)

    # erin (member 3) tries a grant of 10000: the gap is closed, nothing changes.
    code = next(c for c, item in sorted(aiyou.eligibility.items()) if item["kind"] == "grant")
    override = "" if aiyou.eligibility[code]["eligible"] else "家庭特别困难"
    events = aiyou.events.count()
    sign_in_as(page, site, "erin")
    page.goto(f"{site}{detail}")
    expect_gap_line(page, NEED, NEED, 0)
    approve(page, aiyou, code, 10000, override=override, confirm=False)
    message = zh_refusal(
        lambda: workflow.review_approve(
            review=aiyou,
            project=AidProject.objects.get(code=code),
            amount=Decimal("10000"),
            override_reason=override,
            by=erin,
        )
    )
    # The form comes back as sent, the refusal at the amount and in the summary.
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_count(1)
    expect(page.locator("#error-summary a")).to_contain_text(message)
    expect(page.locator("#approve-amount-error")).to_have_text(message)
    expect(page.locator("#approve-amount")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#approve-amount")).to_have_value("10000")
    expect(page.locator("#approve-project")).to_have_value(code)
    aiyou.refresh_from_db()
    assert (aiyou.state, aiyou.project, aiyou.amount, aiyou.decided_at) == (
        "pending",
        None,
        None,
        None,
    )
    assert aiyou.events.count() == events
    assert MemberReview.objects.filter(application=submitted).pledged_total() == NEED
    submitted.refresh_from_db()
    assert submitted.need == NEED
    # The form is still offered (it may decline or give in-kind help), the gap stays 0.
    page.goto(f"{site}{detail}")
    expect(action_form(page, aiyou, "approve")).to_have_count(1)

    # Both pledges in the matrix, the gap 0; the others still pending.
    expect_pledge_in_matrix(page, crcf, "P01", 30000)
    expect_pledge_in_matrix(page, cccf, "P04", 75000)
    expect_gap_line(page, NEED, NEED, 0)
    expect(page.locator("table.matrix tbody tr.state-approved")).to_have_count(2)
    expect(page.locator("table.matrix tbody tr.state-pending")).to_have_count(
        MemberReview.objects.filter(application=submitted, state="pending").count()
    )


def test_a_refused_approval_keeps_project_amount_and_note_with_the_error_at_the_field(
    page: Page, site, people, submitted
):
    """Issue 16, finding 3: "三万元" is refused at the amount; the project, the amount and
    the internal note come back exactly as typed, the summary's link focuses the field; a
    corrected amount is confirmed (member, project, amount named) before it is pledged."""
    crcf = review_of(submitted, 1)
    sign_in_as(page, site, "bob")
    page.goto(f"{site}/applications/{submitted.reference}/")
    form = action_form(page, crcf, "approve")
    # Prefilled with the suggestion of the first eligible project, the gap beside it.
    expect(form.locator("#approve-project")).to_have_value("P01")
    expect(form.locator("#approve-amount")).to_have_value(str(crcf.eligibility["P01"]["suggested"]))
    expect(form.locator("#approve-amount-hint")).to_contain_text(money(NEED))
    other = next(c for c in sorted(crcf.eligibility) if c != "P01")
    form.locator("#approve-project").select_option(other)
    form.locator("#approve-amount").fill("三万元")
    form.locator("#approve-note").fill("理事会 3 月讨论")
    press(page, form)

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#approve-project")).to_have_value(other)
    expect(page.locator("#approve-amount")).to_have_value("三万元")
    expect(page.locator("#approve-note")).to_have_value("理事会 3 月讨论")
    expect(page.locator("#approve-amount")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#approve-amount-error")).to_be_visible()
    if shots := os.environ.get("BROWSER_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/review-approval-refused.png", full_page=True)
    summary.locator("a[href='#approve-amount']").click()
    expect(page.locator("#approve-amount")).to_be_focused()
    crcf.refresh_from_db()
    assert crcf.state == "pending"

    page.locator("#approve-project").select_option("P01")
    page.locator("#approve-amount").fill("30000")
    press(page, page.locator("#approve-form"))
    expect(page.locator("#confirm-member")).to_have_text(crcf.member.name_zh)
    expect(page.locator("#confirm-project")).to_contain_text("P01")
    expect(page.locator("#confirm-amount")).to_contain_text(money(30000))
    if shots:
        page.screenshot(path=f"{shots}/review-approval-confirm.png", full_page=True)
    crcf.refresh_from_db()
    assert crcf.state == "pending"  # nothing pledged before the confirmation
    press(page, page.locator("#confirm-pledge form").first)
    crcf.refresh_from_db()
    assert (crcf.state, crcf.project.code, crcf.amount) == ("approved", "P01", Decimal(30000))
    internal = crcf.events.last().internal_note
    assert internal == "理事会 3 月讨论", internal


def test_a_refused_decline_keeps_its_note_and_shows_the_error_at_the_field(
    page: Page, site, people, submitted
):
    """Issue 16: a note pasted from a chat app carries a zero-width space, which the note
    may not hold. The decline comes back on its own page with the reason and the note as
    sent, the summary focused and linking to the note, the message at the field; nothing
    is decided until the corrected note is sent."""
    crcf = review_of(submitted, 1)
    pasted = "家属电话两次未接通\u200b，按规定婉拒"
    sign_in_as(page, site, "bob")
    page.goto(f"{site}/applications/{submitted.reference}/")
    form = action_form(page, crcf, "decline")
    # Apart from the approval: its own box, after the approval's.
    expect(page.locator(".decline-group #decline-form")).to_have_count(1)
    expect(page.locator(".approve-group #decline-form")).to_have_count(0)
    form.locator("#decline-reason").select_option("not_reachable")
    form.locator("#decline-note").fill(pasted)
    press(page, form)

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.locator(".messages .message.error")).to_have_count(0)  # not a banner
    expect(page.locator("#decline-reason")).to_have_value("not_reachable")
    expect(page.locator("#decline-note")).to_have_value(pasted)
    expect(page.locator("#decline-note")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#decline-note-error")).to_be_visible()
    if shots := os.environ.get("BROWSER_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/review-decline-refused.png", full_page=True)
    crcf.refresh_from_db()
    assert crcf.state == "pending"
    summary.locator("a[href='#decline-note']").click()
    expect(page.locator("#decline-note")).to_be_focused()

    page.locator("#decline-note").fill("家属电话两次未接通，按规定婉拒")
    press(page, page.locator("#decline-form"))
    expect(page).to_have_url(re.compile(rf"/applications/{submitted.reference}/$"))
    crcf.refresh_from_db()
    assert (crcf.state, crcf.decline_reason) == ("declined", "not_reachable")
    assert crcf.events.last().internal_note == "家属电话两次未接通，按规定婉拒"


def test_axe_finds_no_serious_violation_on_the_review_pages(
    page: Page, site, people, axe_source, submitted
):
    reference = submitted.reference

    def check(name):
        violations = serious_axe_violations(page, axe_source)
        assert not violations, f"axe on {name}:\n" + json.dumps(
            violations, ensure_ascii=False, indent=2
        )

    sign_in_as(page, site, "bob")
    page.goto(f"{site}/inbox/")
    expect(page.locator(f"a[href='/applications/{reference}/']")).to_have_count(1)
    check("the inbox")
    page.goto(f"{site}/applications/{reference}/")
    crcf = review_of(submitted, 1)
    for action in ("take", "approve", "request-info", "decline"):
        expect(action_form(page, crcf, action)).to_have_count(1)
    check("the application page of a reviewer (pending)")
    press(page, action_form(page, crcf, "take"))
    expect(action_form(page, crcf, "take")).to_have_count(0)
    check("the application page of a reviewer (in review, with a message)")
    form = action_form(page, crcf, "approve")
    form.locator("#approve-amount").fill("三万元")
    press(page, form)
    expect(page.locator("#error-summary")).to_be_focused()
    check("a refused approval")
    page.locator("#approve-amount").fill("30000")
    press(page, page.locator("#approve-form"))
    expect(page.locator("#confirm-pledge")).to_have_count(1)
    check("the confirmation of a pledge")

    # The caseworker's answer form, and another member's reviewer after a pledge.
    workflow.review_request_info(review=crcf, items=ITEMS, by=people["bob"])
    sign_in_as(page, site, "alice")
    page.goto(f"{site}/applications/{reference}/")
    expect(page.locator(f"form[action$='/reviews/{crcf.pk}/answer/']")).to_have_count(1)
    check("the application page of the caseworker with an information request")
    workflow.review_answer_info(review=crcf, by=people["alice"])
    workflow.review_approve(
        review=crcf, project=AidProject.objects.get(code="P01"), amount=30000, by=people["bob"]
    )
    sign_in_as(page, site, "dave")
    page.goto(f"{site}/applications/{reference}/")
    expect(page.locator("table.matrix tbody tr.state-approved")).to_have_count(1)
    check("the application page of another member's reviewer")


@pytest.mark.parametrize(("width", "height"), [(375, 667), (1280, 800)], ids=["375", "1280"])
def test_the_review_pages_fit_the_screen_width(
    page: Page, site, people, axe_source, submitted, width, height
):
    """No sideways scrolling; and axe is content with the tables stacked as cards."""
    page.set_viewport_size({"width": width, "height": height})
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    reference = submitted.reference

    def check(name):
        fits, detail = no_horizontal_scroll(page)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/review-{name}-{width}.png", full_page=True)
        assert fits, f"{name} at {width}px scrolls sideways: {detail}"
        violations = serious_axe_violations(page, axe_source)
        assert not violations, f"axe on {name} at {width}px:\n" + json.dumps(
            violations, ensure_ascii=False, indent=2
        )

    sign_in_as(page, site, "bob")
    page.goto(f"{site}/applications/{reference}/")
    expect(page.locator("#own-review")).to_have_count(1)
    check("detail-reviewer")
    page.goto(f"{site}/inbox/")
    check("inbox")
    # Member 1 has pledged and member 2 asks for information: longer rows in the matrix.
    workflow.review_approve(
        review=review_of(submitted, 1),
        project=AidProject.objects.get(code="P01"),
        amount=Decimal(30000),
        by=people["bob"],
    )
    workflow.review_request_info(review=review_of(submitted, 2), items=ITEMS, by=people["dave"])
    sign_in_as(page, site, "dave")
    page.goto(f"{site}/applications/{reference}/")
    expect(page.locator("table.matrix tbody tr.state-approved")).to_have_count(1)
    check("detail-other-member")
