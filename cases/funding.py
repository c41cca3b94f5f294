"""The funding gap of an application (standard.md §3), read in one place: the need less
every member's pledge. The arithmetic is aid_alliance.money's; this module gathers its
figures, for one application, for an application page's loaded reviews, or for a list of
reviews in two subqueries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from aid_alliance import money
from aid_alliance.money import ZERO
from cases.errors import WorkflowError
from cases.models import Application, MemberReview, OtherAid

_TOTAL = DecimalField(**money.TOTAL)


@dataclass(frozen=True)
class GapSummary:
    need: Decimal
    pledged: Decimal
    gap: Decimal


def gap_summary(application: Application, reviews=None) -> GapSummary:
    """Need, pledged and gap; from `reviews` when the caller loaded them all already."""
    if reviews is None:
        pledged = MemberReview.objects.filter(application=application).pledged_total()
    else:
        pledged = sum(
            (r.amount or ZERO for r in reviews if r.state in MemberReview.PLEDGING_STATES), ZERO
        )
    need = application.need
    return GapSummary(need=need, pledged=pledged, gap=money.funding_gap(need=need, pledged=pledged))


def remaining_need(application: Application, *, excluding: MemberReview | None = None) -> Decimal:
    """The funding gap: the need less every member's pledge (§3), but `excluding`'s."""
    pledges = MemberReview.objects.filter(application=application)
    if excluding is not None:
        pledges = pledges.exclude(pk=excluding.pk)
    return money.funding_gap(need=application.need, pledged=pledges.pledged_total())


def refuse_need_below_pledges(application: Application, *, error=WorkflowError) -> None:
    """A changed estimate, coverage or other aid may never take the need below what the
    members have pledged (§3): they cannot be held to more than the need."""
    pledged = MemberReview.objects.filter(application=application).pledged_total()
    if application.need < pledged:
        raise error(
            _("Members have pledged %(pledged)s yuan: the need cannot go below that.")
            % {"pledged": money.yuan(pledged)}
        )


def with_gap(reviews):
    """The reviews with their application, child and the sums the funding gap needs: what
    members pledged as the database keeps it (Pledged), read with the row."""
    other_aid = (
        OtherAid.objects.filter(application=OuterRef("application"))
        .values("application")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return reviews.select_related("application__child", "category").annotate(
        pledged_total=Coalesce(F("application__pledged__total"), Value(ZERO), output_field=_TOTAL),
        other_aid_total=Coalesce(Subquery(other_aid, output_field=_TOTAL), Value(ZERO)),
    )


# What `gap_of_values` reads of a review loaded through `with_gap(...).values(...)`.
GAP_VALUES = (
    "application__estimated_cost",
    *(f"application__{name}" for name in Application.COVERAGE_FIELDS),
    "other_aid_total",
    "pledged_total",
)


def gap_of_values(row: dict) -> Decimal:
    """The gap of a review read as values (GAP_VALUES among them): a list's rows need no
    model instances (issue 18)."""
    coverage = sum(
        (row[f"application__{name}"] or ZERO for name in Application.COVERAGE_FIELDS), ZERO
    )
    need = money.need(
        estimated_cost=row["application__estimated_cost"],
        coverage=coverage,
        other_aid=row["other_aid_total"],
    )
    return money.funding_gap(need=need, pledged=row["pledged_total"])


def gap_of(review) -> Decimal:
    """The gap of a review loaded through `with_gap`."""
    application = review.application
    need = money.need(
        estimated_cost=application.estimated_cost,
        coverage=application.coverage_total,
        other_aid=review.other_aid_total,
    )
    return money.funding_gap(need=need, pledged=review.pledged_total)
