"""Two members deciding at the same instant, two expiry runs at once (standard.md §3).

PostgreSQL only: SQLite serialises every writer, so it cannot show a race. Run with
DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance .venv/bin/pytest -q \
    tests/test_workflow_concurrency.py
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from cases import funding
from cases.models import Application, MemberReview, ReviewEvent
from cases.review import services as workflow
from organizations.models import AidProject
from tests.test_workflow import NEED, review_of, submitted

# Real concurrent connections: PostgreSQL only, each test's rows committed (the other
# connections must see them). Shared by the other concurrency modules.
ROW_LOCKS = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL: set DATABASE_URL=postgres://... to run these",
    ),
    pytest.mark.django_db(transaction=True),
]
pytestmark = ROW_LOCKS

PLEDGE = Decimal("70000")  # two of these do not fit in the need of 105000


def at_once(*calls):
    """Run each call in its own thread (own database connection), all released together by
    a barrier; return each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what is tested
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return outcomes


@pytest.fixture
def slow(monkeypatch):
    """Widen the window between reading the pledges and writing a decision, so that a
    missing lock would let both deciders through every time, not by chance."""

    def slowly(function, seconds):
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            time.sleep(seconds)
            return result

        return wrapper

    monkeypatch.setattr(funding, "remaining_need", slowly(funding.remaining_need, 0.2))
    monkeypatch.setattr(workflow, "_move", slowly(workflow._move, 0.01))


def test_two_members_pledging_at_once_cannot_exceed_the_need(people, slow):
    bob, dave = people["bob"], people["dave"]
    p01, p04 = AidProject.objects.get(code="P01"), AidProject.objects.get(code="P04")
    for attempt in range(5):
        application = submitted(people["alice"], sequence=f"{attempt}01")
        crcf, cccf = review_of(application, 1), review_of(application, 2)
        outcomes = at_once(
            lambda crcf=crcf: workflow.review_approve(
                review=crcf, project=p01, amount=PLEDGE, by=bob
            ),
            lambda cccf=cccf: workflow.review_approve(
                review=cccf, project=p04, amount=PLEDGE, by=dave
            ),
        )
        won = [o for o in outcomes if isinstance(o, MemberReview)]
        lost = [o for o in outcomes if isinstance(o, workflow.WorkflowError)]
        assert (len(won), len(lost)) == (1, 1), outcomes
        assert "35,000" in str(lost[0])  # the remaining need after the winner's pledge
        states = sorted(application.reviews.filter(member__number__lte=2).values_list("state"))
        assert states == [("approved",), ("pending",)]
        pledged = application.reviews.pledged_total()
        assert pledged == PLEDGE <= NEED
        assert (
            ReviewEvent.objects.filter(review__application=application, to_state="approved").count()
            == 1
        )


def test_the_loser_of_a_race_can_still_pledge_what_is_left(people, slow):
    application = submitted(people["alice"])
    p01, p04 = AidProject.objects.get(code="P01"), AidProject.objects.get(code="P04")
    crcf, cccf = review_of(application, 1), review_of(application, 2)
    outcomes = at_once(
        lambda: workflow.review_approve(review=crcf, project=p01, amount=PLEDGE, by=people["bob"]),
        lambda: workflow.review_approve(review=cccf, project=p04, amount=PLEDGE, by=people["dave"]),
    )
    loser, who = (crcf, "bob") if isinstance(outcomes[0], Exception) else (cccf, "dave")
    project = p01 if loser is crcf else p04
    workflow.review_approve(review=loser, project=project, amount=NEED - PLEDGE, by=people[who])
    assert application.reviews.pledged_total() == NEED


def test_two_expiry_runs_at_once_expire_each_review_exactly_once(people, slow):
    applications = [submitted(people["alice"], sequence=f"{n}01") for n in range(3)]
    MemberReview.objects.update(due_at=timezone.now() - timedelta(hours=1))

    def run():
        out = StringIO()
        call_command("expire_reviews", stdout=out)
        return int(out.getvalue().split()[0])

    outcomes = at_once(run, run)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 24  # 3 applications × 8 members, none counted twice
    assert set(MemberReview.objects.values_list("state", flat=True)) == {"expired"}
    per_review = (
        ReviewEvent.objects.filter(to_state="expired")
        .values("review")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    assert sorted(per_review) == [1] * 24
    assert MemberReview.objects.filter(application__in=applications).count() == 24
    assert run() == 0


def test_two_members_submitting_the_same_child_at_once_make_one_application(people):
    """Issue 14: the keyed identity row is where two submissions of one child meet; the
    second waits for the first and is refused as a double application."""
    from cases.intake import services
    from tests.test_workflow import fill

    alice, carol = people["alice"], people["carol"]
    first = fill(services.application_create(by=alice), alice, sequence="357")
    second = fill(services.application_create(by=carol), carol, sequence="357")
    outcomes = at_once(
        lambda: services.application_submit(application=first, by=alice),
        lambda: services.application_submit(application=second, by=carol),
    )
    refused = [o for o in outcomes if isinstance(o, services.DuplicateApplication)]
    assert len(refused) == 1, outcomes
    assert sum(isinstance(o, Application) for o in outcomes) == 1, outcomes
    assert Application.objects.filter(status="submitted").count() == 1
