"""Pledged, what members have pledged to each application, is kept by database triggers
(migration 0022): after every kind of write it equals the live sum over the reviews
(MemberReview.PLEDGING_STATES), and the lists' funding gap reads it (issue 18)."""

from decimal import Decimal

import pytest
from django.db.models import F, Sum

from cases import funding
from cases.models import Application, MemberReview, Pledged
from cases.review import services as workflow
from tests.test_review_counts import generated_cases
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db


def live() -> dict:
    return {
        row["application_id"]: row["total"]
        for row in MemberReview.objects.pledging()
        .values("application_id")
        .annotate(total=Sum("amount"))
        if row["total"]
    }


def kept() -> dict:
    return {row.application_id: row.total for row in Pledged.objects.all() if row.total}


def pledge(application, number: int, amount: str, by) -> MemberReview:
    """Member `number` (1 or 2) pledges `amount` from one of its projects."""
    code = {1: "P01", 2: "P04"}[number]
    return workflow.review_approve(
        review=review_of(application, number), project=project(code), amount=Decimal(amount), by=by
    )


def test_pledges_their_changes_and_their_end_keep_the_totals(people):
    application = submitted(people["alice"])
    assert kept() == live() == {}
    first = pledge(application, 1, "30000", people["bob"])
    assert kept() == live() == {application.pk: Decimal(30000)}
    pledge(application, 2, "12500.50", people["dave"])
    assert kept() == live() == {application.pk: Decimal("42500.50")}
    # Paying moves a pledge between pledging states: the total stays.
    MemberReview.objects.filter(pk=first.pk).update(state="paying")
    MemberReview.objects.filter(pk=first.pk).update(state="paid")
    assert kept() == live() == {application.pk: Decimal("42500.50")}
    MemberReview.objects.filter(pk=first.pk).update(amount=Decimal(20000))
    assert kept() == live() == {application.pk: Decimal("32500.50")}
    # The application withdrawn: its open reviews end, the pledges made stay.
    workflow.application_withdraw(application=application, by=people["alice"])
    assert MemberReview.objects.filter(application=application, state="withdrawn").exists()
    assert kept() == live() == {application.pk: Decimal("32500.50")}
    # Deleted with its reviews: its total goes to nothing (the row is the triggers' own).
    Application.objects.filter(pk=application.pk).delete()
    assert kept() == live() == {}
    assert Pledged.objects.get(application_id=application.pk).total == 0


def test_bulk_writes_generated_rows_and_moved_reviews_keep_the_totals(people):
    generated_cases()
    assert kept() == live() and len(live()) > 3
    MemberReview.objects.filter(state="approved").update(state="paying")
    assert kept() == live()
    MemberReview.objects.filter(state="paying").update(amount=F("amount") + Decimal("0.10"))
    assert kept() == live()
    two = list(live())[:2]
    moved = MemberReview.objects.pledging().filter(application_id=two[0]).first()
    MemberReview.objects.filter(application_id=two[1], member=moved.member_id).delete()
    assert kept() == live()
    MemberReview.objects.filter(pk=moved.pk).update(application_id=two[1])
    assert kept() == live()
    MemberReview.objects.filter(
        pk__in=list(
            MemberReview.objects.pledging()
            .filter(allocations__isnull=True, payments__isnull=True)[:5]
            .values_list("pk", flat=True)
        )
    ).delete()
    assert kept() == live()
    assert sum(kept().values()) == MemberReview.objects.pledging().aggregate(t=Sum("amount"))["t"]


def test_the_inbox_rows_gap_reads_the_kept_total(people):
    application = submitted(people["alice"])
    pledge(application, 1, "30000", people["bob"])
    review = review_of(application, 2)
    gap = funding.gap_of(funding.with_gap(MemberReview.objects.filter(pk=review.pk)).get())
    assert gap == Application.objects.get(pk=application.pk).need - Decimal(30000)
    Pledged.objects.filter(application=application).update(total=Decimal(0))
    read_again = funding.with_gap(MemberReview.objects.filter(pk=review.pk)).get()
    assert funding.gap_of(read_again) == gap + Decimal(30000)  # the table, not a live sum
