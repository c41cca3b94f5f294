"""Reads of the money side (§4): the child's receipts a user may see, what each member
holds of a receipt, and what the application page shows of them."""

from __future__ import annotations

from django.db.models import Prefetch

from aid_alliance.money import ZERO
from cases import access
from cases.models import Allocation, Application, Receipt


def child_receipts(application: Application, user):
    """The receipts of the application's child that `user` may see, recorded on any of the
    child's applications (a receipt is recorded once, alliance-wide, §4): by the child's
    identity, since each application holds its own copy of section A; never those of
    another member's application after its guardian withdrew consent, unless the user's
    member pledged there."""
    receipts = Receipt.objects.filter(child__identity_id=application.child.identity_id)
    if user.is_superuser or getattr(user, "is_secretariat", False):
        return receipts  # the secretariat reads all (§5)
    return receipts.filter(access.receipts_kept_after_withdrawal(user))


def held_by_member(allocations) -> list[tuple]:
    """What each member holds of a receipt, net of reversals: (member, amount) for every
    member whose allocations do not cancel out. Expects review__member loaded."""
    held: dict = {}
    for allocation in allocations:
        member = allocation.review.member
        held[member] = held.get(member, ZERO) + allocation.amount
    return [(member, amount) for member, amount in held.items() if amount]


def bills_context(application, user, *, reviews=None) -> dict:
    """For the application page: the child's receipts and what the user may do with them
    (`reviews`: all of the application's, when the page loaded them already)."""
    receipts = list(
        child_receipts(application, user)
        .select_related("recorded_member")
        .prefetch_related(
            Prefetch("allocations", queryset=Allocation.objects.select_related("review__member"))
        )
        .order_by("issued_on", "pk")
    )
    for receipt in receipts:
        receipt.held = held_by_member(receipt.allocations.all())
    return {
        "receipts": receipts,
        "can_record_receipts": application.status != "draft"
        and access.may_record_receipts(user, application, reviews=reviews),
    }
