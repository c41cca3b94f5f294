"""The alliance report's kept aggregates (reports/aggregates.py): rebuilt by a command, equal
to the live selector's figures after submissions, decisions, payments, reversals and
anonymisation, and used only while nothing has changed since the rebuild."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.bills import services as bills
from cases.models import Application, MemberReview
from cases.privacy import retention
from cases.review import services as workflow
from reports import aggregates
from reports.models import AggregateStamp, ApplicationFigure
from reports.periods import CHINA, parse_period
from reports.selectors import live_report_figures, report_figures
from tests.test_bills import RECEIPT, pay
from tests.test_reports import generate
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db

NOW = timezone.localtime(timezone.now(), CHINA)
# The generated data's years, quarters and months (up to 2026-11-20), and today's.
PERIODS = ["2025", "2026", "2025-Q1", "2025-Q4", "2026-Q2", "2026-Q3", "2026-Q4", "2025-11"]
PERIODS += ["2026-06", "2026-09", "2026-11", f"{NOW:%Y}", f"{NOW:%Y-%m}"]


def rebuild() -> str:
    out = io.StringIO()
    call_command("rebuild_report_aggregates", "--force", stdout=out)
    return out.getvalue()


def sql(queries) -> str:
    return "\n".join(query["sql"] for query in queries)


# A column of the member reviews: the live reads (the freshness check only looks up the
# newest id, under an alias).
REVIEW_COLUMN = '"cases_memberreview".'


def assert_kept_figures_equal_live_ones(periods=PERIODS):
    for code in periods:
        period = parse_period(code)
        with CaptureQueriesContext(connection) as read:
            kept = report_figures(period, now=NOW)
        assert "reports_applicationfigure" in sql(read), "the aggregates were read"
        assert REVIEW_COLUMN not in sql(read), "not the live tables"
        assert kept == live_report_figures(period, now=NOW), code


@pytest.fixture
def activity(people):
    """Generated history (submissions, decisions, payments over two years), and today one
    application with a grant and an in-kind pledge, a decline, a payment and its reversal."""
    generate()
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


def test_the_rebuilt_aggregates_give_the_live_figures_of_every_period(activity):
    message = rebuild()
    assert message.startswith("Report aggregates rebuilt in ")
    assert ApplicationFigure.objects.exists()
    assert aggregates.is_fresh()
    assert_kept_figures_equal_live_ones()


def test_without_a_rebuild_the_report_reads_the_live_tables(people):
    generate(count=40)
    with CaptureQueriesContext(connection) as read:
        figures = report_figures(parse_period("2026"), now=NOW)
    assert REVIEW_COLUMN in sql(read)
    assert figures == live_report_figures(parse_period("2026"), now=NOW)
    assert not AggregateStamp.objects.exists()


def change_submit(people, application):
    submitted(people["carol"], sequence="457")


def change_decide(people, application):
    review = MemberReview.objects.filter(member__number=1, state="pending").first()
    workflow.review_decline(review=review, reason="no_budget", by=people["bob"])


def change_pay(people, application):
    pledge = review_of(application, 1)
    pay(pledge, people["bob"], 1000, bank_reference="TX-3")


def change_reverse(people, application):
    payment = review_of(application, 1).payments.filter(reversal__isnull=True).last()
    bills.payment_reverse(payment=payment, by=people["bob"], note="typed wrong")


@pytest.mark.parametrize(
    "change", [change_submit, change_decide, change_pay, change_reverse], ids=lambda f: f.__name__
)
def test_any_change_makes_the_aggregates_stale_until_the_next_rebuild(people, activity, change):
    rebuild()
    assert aggregates.is_fresh()
    change(people, activity)
    assert not aggregates.is_fresh()
    for code in (f"{NOW:%Y}", f"{NOW:%Y-%m}"):
        with CaptureQueriesContext(connection) as read:
            figures = report_figures(parse_period(code), now=NOW)
        assert REVIEW_COLUMN in sql(read), "stale: the live tables are read"
        assert figures == live_report_figures(parse_period(code), now=NOW)
    rebuild()
    assert_kept_figures_equal_live_ones([f"{NOW:%Y}", f"{NOW:%Y-%m}", "2026"])


def test_anonymised_applications_keep_their_figures_in_the_aggregates(people):
    generate()
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
    rebuild()
    before = {code: report_figures(parse_period(code), now=NOW) for code in PERIODS}

    run = retention.anonymise_closed(older_than_days=60, by=people["sam"], batch=7)

    assert run.anonymised > 10
    assert not aggregates.is_fresh()
    rebuild()
    assert_kept_figures_equal_live_ones()
    assert {code: report_figures(parse_period(code), now=NOW) for code in PERIODS} == before


def test_a_second_rebuild_replaces_the_rows_and_the_stamp(activity):
    rebuild()
    rows = ApplicationFigure.objects.count()
    out = io.StringIO()
    call_command("rebuild_report_aggregates", stdout=out)
    assert "fresh" in out.getvalue()  # nothing changed: nothing done
    rebuild()
    assert ApplicationFigure.objects.count() == rows
    assert AggregateStamp.objects.count() == 1


def test_the_dashboard_makes_as_many_queries_from_the_aggregates(
    client, people, django_assert_num_queries
):
    """The pin of tests/test_reports.py holds on both paths: the freshness check rides on
    the directory's query."""
    generate()
    rebuild()
    client.force_login(people["sam"])
    with django_assert_num_queries(11):
        response = client.get("/reports/?period=2026")
    assert response.status_code == 200
