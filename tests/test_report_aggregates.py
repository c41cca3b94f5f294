"""The alliance report's kept aggregates (reports/aggregates.py): built once by a command, then
kept exact by the services in their own transactions, so that the kept figures equal the
live selector's after every submission, decision, pledge, payment, reversal, edit, link of a
child and anonymisation, with no rebuild in between."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.bills import services as bills
from cases.intake import services as intake
from cases.models import Application, Child, MemberReview
from cases.privacy import retention
from cases.review import services as workflow
from organizations.models import User
from reports import aggregates
from reports.models import (
    AggregateStamp,
    ApplicationFigure,
    ApplicationShare,
    ApplicationTiming,
)
from reports.periods import CHINA, PeriodError, parse_period
from reports.selectors import live_report_figures, report_figures
from tests.intake_data import SECTIONS
from tests.test_bills import RECEIPT, pay
from tests.test_reports import generate
from tests.test_workflow import fill, project, querydict, review_of, submitted

pytestmark = pytest.mark.django_db

NOW = timezone.localtime(timezone.now(), CHINA)
# The generated data's years, quarters and months (up to 2026-11-20), and today's.
PERIODS = ["2025", "2026", "2025-Q1", "2025-Q4", "2026-Q2", "2026-Q3", "2026-Q4", "2025-11"]
PERIODS += ["2026-06", "2026-09", "2026-11", f"{NOW:%Y}", f"{NOW:%Y-%m}"]


def rebuild() -> str:
    out = io.StringIO()
    call_command("rebuild_report_aggregates", stdout=out)
    return out.getvalue()


def sql(queries) -> str:
    return "\n".join(query["sql"] for query in queries)


# A column of the member reviews: only the live reads select it.
REVIEW_COLUMN = '"cases_memberreview".'


def periods_of(*applications) -> list[str]:
    """The month, quarter and year of each application's submission, and today's."""
    codes = {f"{NOW:%Y}", f"{NOW:%Y-%m}"}
    for application in applications:
        day = timezone.localtime(Application.objects.get(pk=application.pk).submitted_at, CHINA)
        codes |= {f"{day:%Y}", f"{day:%Y-%m}", f"{day.year}-Q{(day.month - 1) // 3 + 1}"}
    return sorted(codes)


def assert_kept_figures_equal_live_ones(periods=PERIODS):
    for code in periods:
        period = parse_period(code)
        with CaptureQueriesContext(connection) as read:
            kept = report_figures(period, now=NOW)
        assert "reports_applicationfigure" in sql(read), "the aggregates were read"
        assert REVIEW_COLUMN not in sql(read), "not the live tables"
        assert kept == live_report_figures(period, now=NOW), code


def kept_rows() -> dict:
    """Every kept group with something in it, and every timing row."""
    groups = {}
    for kind, model in aggregates.GROUPS.items():
        fields = aggregates.KEYS[kind] + aggregates.VALUES[kind]
        first = aggregates.VALUES[kind][0]
        groups[kind] = sorted(model.objects.filter(**{f"{first}__gt": 0}).values_list(*fields))
    groups["timing"] = sorted(
        ApplicationTiming.objects.values_list(
            "month", "application_id", "submitted_at", "decided_at", "paid_on"
        )
    )
    return groups


def assert_kept_rows_are_a_rebuilds():
    """What the services kept is what a rebuild makes from the live tables."""
    kept = kept_rows()
    rebuild()
    assert kept_rows() == kept


@pytest.fixture
def built(people):
    """Generated history over two years, the aggregates built from it."""
    generate()
    rebuild()
    return people


@pytest.fixture
def activity(built):
    """Today one application with a grant and an in-kind pledge, a decline, a payment and
    its reversal, through the services (no rebuild since)."""
    people = built
    application = submitted(people["alice"])
    pledge = workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
    )
    workflow.review_decline(review=review_of(application, 2), reason="no_budget", by=people["dave"])
    receipt = bills.receipt_record(application=application, by=people["bob"], **RECEIPT)
    bills.allocation_create(review=pledge, receipt=receipt, amount=Decimal(15000), by=people["bob"])
    payment = pay(pledge, people["bob"], 15000)
    bills.payment_reverse(payment=payment, by=people["bob"], note="bank returned it")
    pay(MemberReview.objects.get(pk=pledge.pk), people["bob"], 12000, bank_reference="TX-2")
    return application


def test_the_rebuilt_aggregates_give_the_live_figures_of_every_period(built):
    assert ApplicationFigure.objects.exists() and ApplicationShare.objects.exists()
    assert aggregates.is_kept()
    assert_kept_figures_equal_live_ones()


def test_the_services_keep_them_exact_without_a_rebuild(activity):
    stamp = AggregateStamp.objects.get()
    assert_kept_figures_equal_live_ones()
    assert AggregateStamp.objects.get() == stamp, "no rebuild happened"
    today = parse_period(f"{NOW:%Y-%m}")
    figures = report_figures(today, now=NOW)
    assert figures.received >= 1 and figures.declined >= 1
    assert figures.paid >= Decimal(12000)
    assert_kept_rows_are_a_rebuilds()


def test_without_a_rebuild_the_report_reads_the_live_tables(people):
    generate(count=40)
    with CaptureQueriesContext(connection) as read:
        figures = report_figures(parse_period("2026"), now=NOW)
    assert REVIEW_COLUMN in sql(read)
    assert figures == live_report_figures(parse_period("2026"), now=NOW)
    assert not AggregateStamp.objects.exists()


# --- each change, on its own, keeps the figures of the periods it touches ---------------------


# The generated applications still open were submitted before this month.
THIS_MONTH = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def an_open_review(**where) -> MemberReview:
    """A pending review of a generated application submitted before this month."""
    return (
        MemberReview.objects.filter(
            state="pending",
            application__submitted_at__lt=THIS_MONTH,
            application__status=Application.Status.SUBMITTED,
            **where,
        )
        .select_related("application")
        .order_by("pk")
        .first()
    )


def reviewer_for(review: MemberReview) -> User:
    return User.objects.filter(organization_id=review.member_id, role=User.Role.REVIEWER).first()


def change_submit(people, application):
    return [submitted(people["carol"], sequence="457")]


def change_submit_same_child(people, application):
    """The same ID number: the child's identity is joined, its pledges count one child."""
    second = submitted(
        people["carol"],
        D={"category": "CHD", "icd": "Q21.0", "diagnosis_text": "室间隔缺损"},
    )
    workflow.review_approve(
        review=review_of(second, 2), project=project("P04"), amount=Decimal(9000), by=people["dave"]
    )
    assert Child.objects.get(pk=second.child_id).identity_id == application.child.identity_id
    return [second]


def change_link_child(people, application):
    """The draft linked to the same child, then submitted: one child with two pledges."""
    draft = fill(
        intake.application_create(by=people["carol"]),
        people["carol"],
        D={"category": "CHD", "icd": "Q21.0", "diagnosis_text": "室间隔缺损"},
    )
    intake.application_link_child(application=draft, other=application, by=people["carol"])
    second = intake.application_submit(
        application=Application.objects.get(pk=draft.pk), by=people["carol"]
    )
    workflow.review_approve(
        review=review_of(second, 2), project=project("P04"), amount=Decimal(9000), by=people["dave"]
    )
    return [second]


def change_take(people, application):
    review = an_open_review()
    workflow.review_take(review=review, by=reviewer_for(review))
    return [review.application]


def change_decline_old(people, application):
    review = an_open_review()
    workflow.review_decline(review=review, reason="no_budget", by=reviewer_for(review))
    return [review.application]


def change_approve_old(people, application):
    """A pledge of member 1 on an application submitted before this month."""
    review = an_open_review(member__number=1)
    workflow.review_approve(
        review=review,
        project=project("P01"),
        amount=Decimal(1000),
        override_reason="测试",
        by=people["bob"],
    )
    return [review.application]


def change_expire(people, application):
    due = list(
        MemberReview.objects.filter(state__in=MemberReview.OPEN_STATES)
        .order_by("pk")
        .values_list("application_id", flat=True)
    )
    assert workflow.reviews_expire(now=timezone.now() + timedelta(days=400)) > 10
    return list(Application.objects.filter(pk__in=due[:40]))


def change_pay(people, application):
    pay(review_of(application, 1), people["bob"], 1000, bank_reference="TX-3")
    return [application]


def change_reverse(people, application):
    # The payment still standing: neither reversed nor itself a reversal. (By the model's
    # ordering on paid_on the reversal can come last, when its date is later than the
    # payment's, as it was in CI near midnight.)
    payment = (
        review_of(application, 1)
        .payments.filter(reversal__isnull=True, reverses__isnull=True)
        .order_by("pk")
        .last()
    )
    assert payment is not None and payment.amount > 0
    bills.payment_reverse(payment=payment, by=people["bob"], note="typed wrong")
    return [application]


def change_request_info_and_edit(people, application):
    """An information request, the caseworker's edit of category and province, the answer."""
    review = review_of(application, 3)
    workflow.review_request_info(review=review, items="诊断证明", by=reviewer_for(review))
    intake.section_save(
        application=application,
        section="D",
        data=querydict({**SECTIONS["D"], "category": "CHD"}),
        by=people["alice"],
    )
    workflow.review_answer_info(review=review, by=people["alice"])
    return [application]


def change_withdraw(people, application):
    workflow.application_withdraw(application=application, by=people["alice"])
    return [application]


# Changes of a review's state that the report does not show (only declines are).
UNSEEN = {change_take, change_withdraw}


@pytest.mark.parametrize(
    "change",
    [
        change_submit,
        change_submit_same_child,
        change_link_child,
        change_take,
        change_decline_old,
        change_approve_old,
        change_expire,
        change_pay,
        change_reverse,
        change_request_info_and_edit,
        change_withdraw,
    ],
    ids=lambda f: f.__name__,
)
def test_each_change_keeps_the_figures_of_its_periods(people, activity, change):
    before = {code: report_figures(parse_period(code), now=NOW) for code in PERIODS}
    touched = change(people, activity)
    periods = periods_of(*touched)
    assert_kept_figures_equal_live_ones(periods)
    if change not in UNSEEN:
        changed = [c for c in periods if report_figures(parse_period(c), now=NOW) != before.get(c)]
        assert changed, "the change shows in the figures (else the test proves nothing)"
    assert_kept_rows_are_a_rebuilds()  # the reviews' states too, which the report does not show


def test_anonymised_applications_keep_their_figures(built):
    people = built
    now = timezone.now()
    older = Application.objects.filter(
        status=Application.Status.SUBMITTED, submitted_at__lt=now - timedelta(days=150)
    ).order_by("pk")
    for application in list(older)[::3]:
        Application.objects.filter(pk=application.pk).update(
            status=Application.Status.CLOSED,
            closing_reason=Application.ClosingReason.TREATMENT_ENDED,
            closed_at=application.submitted_at + timedelta(days=60),
        )
    before = {code: report_figures(parse_period(code), now=NOW) for code in PERIODS}

    run = retention.anonymise_closed(older_than_days=60, by=people["sam"], batch=7)

    assert run.anonymised > 10
    assert_kept_figures_equal_live_ones()
    assert {code: report_figures(parse_period(code), now=NOW) for code in PERIODS} == before
    assert_kept_rows_are_a_rebuilds()


def test_a_refresh_with_nothing_changed_changes_no_row(activity):
    rows = kept_rows()
    aggregates.refresh(Application.objects.all())
    assert kept_rows() == rows


def test_a_refresh_of_many_applications_goes_in_batches_and_stays_exact(activity, monkeypatch):
    """A statement takes at most 65,535 parameters (psycopg 3's server-side binding): a
    refresh of every application goes a batch at a time, and its figures are exact."""
    monkeypatch.setattr(aggregates, "REFRESH_BATCH", 3)
    batches, refresh_batch = [], aggregates._refresh
    monkeypatch.setattr(
        aggregates, "_refresh", lambda ids: batches.append(ids) or refresh_batch(ids)
    )
    # Changed outside the services, so the kept figures are wrong until the refresh.
    MemberReview.objects.filter(amount__isnull=False).update(amount=F("amount") + 1)
    aggregates.refresh(Application.objects.all())
    assert len(batches) > 1 and max(len(ids) for ids in batches) == 3
    assert sorted(pk for ids in batches for pk in ids) == sorted(
        Application.objects.values_list("pk", flat=True)
    )
    assert_kept_figures_equal_live_ones()
    assert_kept_rows_are_a_rebuilds()


def test_the_check_command_finds_rows_changed_outside_the_services(activity):
    out = io.StringIO()
    call_command("rebuild_report_aggregates", "--check", f"{NOW:%Y}", stdout=out)
    assert "equal" in out.getvalue()
    MemberReview.objects.filter(pk=review_of(activity, 2).pk).update(state="expired")
    with pytest.raises(CommandError, match="differ"):
        call_command("rebuild_report_aggregates", "--check", f"{NOW:%Y}")
    rebuild()
    call_command("rebuild_report_aggregates", "--check", f"{NOW:%Y}", stdout=io.StringIO())


def test_the_check_command_refuses_a_bad_period_and_unbuilt_aggregates(people):
    """A period it cannot read is a message, not a traceback (as export_report's); before
    the first rebuild there is nothing kept to compare."""
    with pytest.raises(PeriodError) as expected:
        parse_period("2026-13")
    with pytest.raises(CommandError) as refused:
        call_command("rebuild_report_aggregates", "--check", "2026-13")
    assert str(refused.value) == str(expected.value)
    assert not aggregates.is_kept()
    with pytest.raises(CommandError, match="not built yet"):
        call_command("rebuild_report_aggregates", "--check", "2026")


def test_a_second_rebuild_replaces_the_rows_and_the_stamp(activity):
    assert_kept_rows_are_a_rebuilds()
    assert AggregateStamp.objects.count() == 1
    assert (
        ApplicationShare.objects.count()
        == Application.objects.filter(submitted_at__isnull=False).count()
    )


def test_the_dashboard_makes_as_many_queries_from_the_aggregates(
    client, built, django_assert_num_queries
):
    """The pin of tests/test_reports.py holds on both paths: choosing the source rides on
    the directory's query."""
    client.force_login(built["sam"])
    cache.clear()  # no generation yet, whatever earlier tests committed to the database cache
    # As there: cold 4 + 18 (the cache) + 7 (3 of the directory, 3 of the kept figures and
    # the medians, 1 of the reviews), warm 4 + 2.
    with django_assert_num_queries(4 + 18 + 7):
        response = client.get("/reports/?period=2026")
    assert response.status_code == 200
    with django_assert_num_queries(4 + 2):
        assert client.get("/reports/?period=2026").status_code == 200
