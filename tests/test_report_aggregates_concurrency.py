"""The kept report figures under concurrent changes (reports/aggregates.py): no increment is
lost, nothing deadlocks, and the kept figures still equal the live ones.

PostgreSQL only: SQLite serialises every writer, so it cannot show a race. Run with
DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance .venv/bin/pytest -q \
    tests/test_report_aggregates_concurrency.py
"""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.errors import WorkflowError
from cases.review import services as workflow
from reports import aggregates
from reports.models import ApplicationFigure
from reports.periods import CHINA, parse_period
from reports.selectors import live_report_figures, report_figures
from tests.test_workflow import project, review_of, submitted
from tests.test_workflow_concurrency import ROW_LOCKS, at_once

pytestmark = ROW_LOCKS


@pytest.fixture
def slow(monkeypatch):
    """Widen the window between reading an application's contribution and adding it, so
    that a read-then-write of the groups would lose an increment every time."""
    contributions = aggregates.contributions

    def slowly(ids):
        result = contributions(ids)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(aggregates, "contributions", slowly)


def assert_kept_equal_live():
    now = timezone.now()
    for code in (f"{timezone.localtime(now, CHINA):%Y-%m}", f"{now:%Y}"):
        period = parse_period(code)
        assert report_figures(period, now=now) == live_report_figures(period, now=now)


def funded() -> int:
    return sum(ApplicationFigure.objects.values_list("funded", flat=True))


def test_two_approvals_at_once_in_one_group_both_count(people, slow):
    """Two applications of the same month, member, category and province: one group, whose
    `funded` both approvals raise at the same moment."""
    first = submitted(people["alice"], sequence="123")
    second = submitted(people["alice"], sequence="457")
    aggregates.rebuild()
    assert funded() == 0
    outcomes = at_once(
        lambda: workflow.review_approve(
            review=review_of(first, 1),
            project=project("P01"),
            amount=Decimal(10000),
            by=people["bob"],
        ),
        lambda: workflow.review_approve(
            review=review_of(second, 2),
            project=project("P04"),
            amount=Decimal(10000),
            by=people["dave"],
        ),
    )
    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert funded() == 2
    assert_kept_equal_live()


def test_an_expiry_run_and_an_approval_of_one_application_at_once(people, slow):
    """The expiry locks reviews before the application's share, an approval the application
    and its review first: neither waits for the other in a circle."""
    application = submitted(people["alice"])
    aggregates.rebuild()
    outcomes = at_once(
        lambda: workflow.review_approve(
            review=review_of(application, 1),
            project=project("P01"),
            amount=Decimal(10000),
            by=people["bob"],
        ),
        lambda: workflow.reviews_expire(now=timezone.now() + timedelta(days=400)),
    )
    approved, expired = outcomes
    # Whichever locked the review first wins it; no deadlock, no other error.
    if isinstance(approved, WorkflowError):
        assert (expired, funded()) == (8, 0)
    else:
        assert (approved.state, expired, funded()) == ("approved", 7, 1)
    assert_kept_equal_live()
