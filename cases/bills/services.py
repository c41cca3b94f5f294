"""Receipts, allocations and payments: every write under the unified bill rules (§4).

Each function is one transaction. Locks follow the workflow's order — the application, then
the review, then the receipt — so these functions and the review transitions cannot deadlock
each other. The receipt's row lock is what keeps two members allocating the same receipt at
the same instant from together exceeding what the family paid; the review's row lock does
the same for a pledge. The running totals they update are also bounded by check constraints
in the database (cases.models.bills), a second line should this code ever be wrong.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_alliance.money import yuan
from cases import access, documents, events
from cases.errors import ApplicationError, NotAllowed, WorkflowError
from cases.models import Allocation, Application, MemberReview, Payment, Receipt, ReviewEvent
from reports import aggregates as report_aggregates

State = MemberReview.State
Action = events.Action
# Pledges that can still be paid against receipts.
PAYABLE_STATES = (State.APPROVED, State.PAYING, State.PAID)

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_./]+")
_KEY = re.compile(r"[0-9A-Z]{1,20}")


def same_child(receipt: Receipt, application: Application) -> bool:
    return Receipt.objects.filter(
        pk=receipt.pk, child__identity_id=application.child.identity_id
    ).exists()


def normalize_key(text: str) -> str:
    """A receipt code or number as stored: full-width characters made half-width, upper
    case, and spaces, dashes and dots dropped — the same paper always has the same key.
    "" when what is left is not 1–20 letters and digits."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "").upper())
    return compact if _KEY.fullmatch(compact) else ""


class DuplicateReceipt(ApplicationError):
    """The receipt is in the register already: show it instead of making a second copy."""

    def __init__(self, receipt: Receipt, *, same_child: bool):
        super().__init__(_("This receipt is already recorded."))
        self.receipt = receipt
        self.same_child = same_child


def receipt_find(code: str, number: str) -> Receipt | None:
    code, number = normalize_key(code), normalize_key(number)
    if not (code and number):
        return None
    return (
        Receipt.objects.select_related("recorded_member", "recorded_by")
        .filter(code=code, number=number)
        .first()
    )


@transaction.atomic
def receipt_record(
    *,
    application: Application,
    by,
    code: str,
    number: str,
    check_code: str = "",
    hospital: str,
    issued_on: date,
    kind: str,
    patient_number: str = "",
    total: Decimal,
    insurance_fund: Decimal,
    co_payment: Decimal,
    self_paid: Decimal,
    scan=None,
) -> Receipt:
    """Put a receipt in the alliance's register, once (§4), with an optional scan."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not access.may_record_receipts(by, application):
        raise NotAllowed(
            _("Only the reviewers of a member this application went to record receipts.")
        )
    if application.status in (Application.Status.DRAFT, Application.Status.WITHDRAWN):
        raise WorkflowError(_("Receipts are recorded for submitted applications."))
    code, number = normalize_key(code), normalize_key(number)
    if not (code and number):
        raise WorkflowError(_("Give the receipt code and number as printed on the receipt."))
    existing = receipt_find(code, number)
    if existing is not None:
        raise DuplicateReceipt(existing, same_child=same_child(existing, application))
    if insurance_fund + co_payment + self_paid != total:
        raise WorkflowError(
            _(
                "The parts add up to %(sum)s yuan, not to the total of %(total)s yuan: "
                "check the amounts on the receipt."
            )
            % {"sum": yuan(insurance_fund + co_payment + self_paid), "total": yuan(total)}
        )
    document = None
    if scan is not None:
        document = documents.document_upload(
            application=application,
            doc_type="medical_receipt",
            flag="",
            upload=scan,
            by=by,
        )
    receipt = Receipt(
        code=code,
        number=number,
        check_code=normalize_key(check_code) if check_code else "",
        child_id=application.child_id,
        application=application,
        # Hospital staff record their own hospital's receipts: the issuer is theirs, whatever
        # was posted (issue 17).
        hospital=by.hospital.name if getattr(by, "hospital_id", None) else hospital.strip(),
        issued_on=issued_on,
        kind=kind,
        patient_number=patient_number.strip(),
        total=total,
        insurance_fund=insurance_fund,
        co_payment=co_payment,
        self_paid=self_paid,
        scan=document,
        recorded_by=by,
        # The treating hospital's staff record on the register of the member that entered
        # the application (issue 17); the receipt keeps which hospital recorded it.
        recorded_member_id=by.organization_id or application.member_id,
        recorded_hospital_id=getattr(by, "hospital_id", None),
    )
    try:
        # Two people typing the same paper at the same instant: the unique key decides.
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        if document is not None:
            document.file.delete(save=False)
        existing = receipt_find(code, number)
        if existing is None:
            raise
        raise DuplicateReceipt(existing, same_child=same_child(existing, application)) from None
    events.record_event(
        application=application,
        by=by,
        kind=Action.RECEIPT_RECORDED,
        note=f"{code}-{number} {yuan(total)}",
    )
    return receipt


def _lock_pledge(review: MemberReview) -> tuple[Application, MemberReview]:
    application = Application.objects.select_for_update().get(pk=review.application_id)
    review = (
        MemberReview.objects.select_for_update(of=("self",))
        .select_related("member", "project")
        .get(pk=review.pk)
    )
    return application, review


def _payable(review: MemberReview) -> None:
    if review.state not in PAYABLE_STATES:
        raise WorkflowError(
            _("This review is %(state)s: only an approved pledge is paid.")
            % {"state": review.get_state_display()}
        )
    if review.amount is None:
        raise WorkflowError(_("An in-kind or service pledge is not paid against receipts."))


@transaction.atomic
def allocation_create(
    *, review: MemberReview, receipt: Receipt, amount: Decimal, by, note: str = ""
) -> Allocation:
    """Tie `amount` of a receipt to the member's approved pledge (§4)."""
    application, review = _lock_pledge(review)
    access.require_decider(by, review)
    _payable(review)
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if not same_child(receipt, application):
        raise WorkflowError(_("This receipt belongs to another child."))
    if amount is None or amount <= 0:
        raise WorkflowError(_("Give an amount above zero."))
    if amount > receipt.room:
        raise WorkflowError(
            _(
                "Only %(room)s yuan of this receipt is left to reimburse (the family paid "
                "%(paid)s yuan; %(allocated)s yuan is allocated already)."
            )
            % {
                "room": yuan(receipt.room),
                "paid": yuan(receipt.reimbursable_amount),
                "allocated": yuan(receipt.allocated_total),
            }
        )
    pledge_room = review.amount - review.allocated_total
    if amount > pledge_room:
        raise WorkflowError(
            _("Only %(room)s yuan of the pledge of %(pledge)s yuan is left to allocate.")
            % {"room": yuan(pledge_room), "pledge": yuan(review.amount)}
        )
    allocation = Allocation.objects.create(
        receipt=receipt, review=review, amount=amount, note=note.strip()[:300], created_by=by
    )
    Receipt.objects.filter(pk=receipt.pk).update(allocated_total=F("allocated_total") + amount)
    MemberReview.objects.filter(pk=review.pk).update(allocated_total=F("allocated_total") + amount)
    events.record_event(
        application=application,
        by=by,
        kind=Action.ALLOCATED,
        note=f"{receipt} {yuan(amount)} {review.member.short_name}",
    )
    return allocation


@transaction.atomic
def allocation_reverse(*, allocation: Allocation, by, note: str = "") -> Allocation:
    """Take an allocation back with a new, negative row; the receipt's room returns."""
    original = Allocation.objects.select_related("review").get(pk=allocation.pk)
    application, review = _lock_pledge(original.review)
    access.require_decider(by, review)
    receipt = Receipt.objects.select_for_update().get(pk=original.receipt_id)
    original = Allocation.objects.select_for_update().get(pk=original.pk)
    if original.reverses_id is not None:
        raise WorkflowError(_("A reversal cannot be reversed: allocate again instead."))
    if Allocation.objects.filter(reverses=original).exists():
        raise WorkflowError(_("This allocation is reversed already."))
    if not note.strip():
        raise WorkflowError(_("Say why the allocation is reversed."))
    if review.allocated_total - original.amount < review.paid_total:
        raise WorkflowError(
            _(
                "%(paid)s yuan of this pledge is paid already against its receipts: reverse "
                "the payment first."
            )
            % {"paid": yuan(review.paid_total)}
        )
    reversal = Allocation.objects.create(
        receipt=receipt,
        review=review,
        amount=-original.amount,
        reverses=original,
        note=note.strip()[:300],
        created_by=by,
    )
    Receipt.objects.filter(pk=receipt.pk).update(
        allocated_total=F("allocated_total") - original.amount
    )
    MemberReview.objects.filter(pk=review.pk).update(
        allocated_total=F("allocated_total") - original.amount
    )
    events.record_event(
        application=application,
        by=by,
        kind=Action.ALLOCATION_REVERSED,
        note=f"{receipt} {yuan(original.amount)} {note}"[:300],
    )
    return reversal


def _settle_state(review: MemberReview, *, by, note: str) -> None:
    """approved → paying → paid as money goes out (§3, §4); a reversed payment moves back."""
    if review.paid_total >= review.amount:
        target = State.PAID
    elif review.paid_total > 0:
        target = State.PAYING
    else:
        target = State.APPROVED
    if target != review.state:
        ReviewEvent.objects.create(
            review=review, actor=by, from_state=review.state, to_state=target, note=note[:500]
        )
        review.state = target
        review.save(update_fields=["state"])


@transaction.atomic
def payment_record(
    *,
    review: MemberReview,
    by,
    paid_on: date,
    payee_kind: str,
    payee_name: str,
    amount: Decimal,
    method: str,
    bank_name: str = "",
    account_number: str = "",
    bank_reference: str = "",
    note: str = "",
) -> Payment:
    """拨付: pay out against what is allocated to receipts; paid in full moves to `paid`."""
    application, review = _lock_pledge(review)
    access.require_decider(by, review)
    _payable(review)
    if amount is None or amount <= 0:
        raise WorkflowError(_("Give an amount above zero."))
    if paid_on > timezone.localdate():
        raise WorkflowError(_("The payment date cannot be in the future."))
    unpaid = review.allocated_total - review.paid_total
    if amount > unpaid:
        raise WorkflowError(
            _(
                "Only %(unpaid)s yuan of receipts is allocated and not paid yet: allocate "
                "receipts to the pledge before paying more."
            )
            % {"unpaid": yuan(unpaid)}
        )
    payment = Payment.objects.create(
        review=review,
        paid_on=paid_on,
        payee_kind=payee_kind,
        payee_name=payee_name.strip(),
        bank_name=bank_name.strip(),
        account_number=account_number.strip(),
        amount=amount,
        method=method,
        bank_reference=bank_reference.strip(),
        note=note.strip()[:300],
        created_by=by,
    )
    review.paid_total += amount
    review.save(update_fields=["paid_total"])
    _settle_state(review, by=by, note=ReviewEvent.SystemNote.PAYMENT)
    events.record_event(
        application=application,
        by=by,
        kind=Action.PAID,
        note=f"{review.member.short_name} {yuan(amount)} {paid_on}",
    )
    report_aggregates.refresh(application)
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, by, note: str = "") -> Payment:
    """A payment recorded by mistake (or returned by the bank) is reversed by a new row."""
    original = Payment.objects.select_related("review").get(pk=payment.pk)
    application, review = _lock_pledge(original.review)
    access.require_decider(by, review)
    original = Payment.objects.select_for_update().get(pk=original.pk)
    if original.reverses_id is not None:
        raise WorkflowError(_("A reversal cannot be reversed: record the payment again instead."))
    if Payment.objects.filter(reverses=original).exists():
        raise WorkflowError(_("This payment is reversed already."))
    if not note.strip():
        raise WorkflowError(_("Say why the payment is reversed."))
    reversal = Payment.objects.create(
        review=review,
        paid_on=timezone.localdate(),
        payee_kind=original.payee_kind,
        payee_name=original.payee_name,
        bank_name=original.bank_name,
        account_number=original.account_number,
        amount=-original.amount,
        method=original.method,
        bank_reference=original.bank_reference,
        reverses=original,
        note=note.strip()[:300],
        created_by=by,
    )
    review.paid_total -= original.amount
    review.save(update_fields=["paid_total"])
    _settle_state(review, by=by, note=ReviewEvent.SystemNote.PAYMENT_REVERSED)
    events.record_event(
        application=application,
        by=by,
        kind=Action.PAYMENT_REVERSED,
        note=f"{yuan(original.amount)} {note}"[:300],
    )
    report_aggregates.refresh(application)
    return reversal
