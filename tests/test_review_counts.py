"""ReviewCount, the inbox's counts per member and state, is kept by database triggers
(migration 0011): after every kind of write it equals a GROUP BY over the reviews."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from cases.models import MemberReview, ReviewCount
from cases.review import services as workflow
from tests.test_workflow import review_of, submitted

pytestmark = pytest.mark.django_db


def counted() -> dict:
    return {
        (row["member_id"], row["state"]): row["n"]
        for row in MemberReview.objects.values("member_id", "state").annotate(n=Count("*"))
    }


def kept() -> dict:
    return {(r.member_id, r.state): r.n for r in ReviewCount.objects.all() if r.n}


def test_routing_and_transitions_keep_the_counts(people):
    application = submitted(people["alice"])
    assert kept() == counted()
    assert sum(kept().values()) == MemberReview.objects.count() > 0
    review = review_of(application, 1)
    workflow.review_take(review=review, by=people["bob"])
    assert kept() == counted()
    review_two = workflow.review_take(review=review_of(application, 2), by=people["dave"])
    workflow.review_decline(
        review=review_two, by=people["dave"], reason=MemberReview.DeclineReason.NO_BUDGET
    )
    assert kept() == counted()
    assert kept()[(review_two.member_id, "declined")] == 1


def generated_cases() -> None:
    """30 demo applications in every state, written in bulk (COPY on PostgreSQL)."""
    call_command(
        "generate_demo_cases",
        "--count=30",
        "--seed=4",
        "--until=2026-06-30",
        "--i-know-this-is-demo",
        stdout=io.StringIO(),
    )


def test_bulk_updates_deletes_and_generated_rows_keep_the_counts(people):
    generated_cases()
    assert kept() == counted()
    MemberReview.objects.filter(state="pending").update(state="expired")
    assert kept() == counted()
    declined = MemberReview.objects.filter(state="declined")
    assert declined.exists()
    MemberReview.objects.filter(pk__in=list(declined.values_list("pk", flat=True)[:10])).delete()
    assert kept() == counted()
    assert sum(kept().values()) == MemberReview.objects.count()


def test_the_inbox_shows_the_kept_counts(client, people):
    submitted(people["alice"])
    client.force_login(people["bob"])
    html = client.get("/inbox/").content.decode()
    ReviewCount.objects.filter(member=people["bob"].organization, state="pending").update(n=41)
    changed = client.get("/inbox/").content.decode()
    assert changed != html and "41" in changed  # the page reads the table, not a GROUP BY
