"""The family status page's checks and reads (standard.md §3 "as the family sees it", §5).

A family has no account: the reference number and a guardian's mobile number on file are
the key. Guessing is slowed by counting failures per client address and per reference in
the shared rate limiter (organizations.ratelimit, scope "family_status"), so the limit
holds on every app server. What the page shows is built here, field by field, from a short
list: nothing else of the application (ID numbers, diagnosis, names, notes, bank details)
is even loaded.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import models
from django.utils.translation import get_language, pgettext_lazy

from aid_alliance.clients import client_address  # noqa: F401 - used by the views
from aid_alliance.compiled_reads import CompiledRead
from aid_alliance.money import ZERO
from cases import documents, references
from cases.models import (
    Application,
    Document,
    Guardian,
    MemberReview,
    Payment,
    RequestedDocument,
)
from cases.standard import checklist
from organizations.eligibility import ECONOMIC_FLAGS

_PHONE_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212().]+")
# Compared against when no guardian matches the reference, so that a wrong reference
# runs the same comparison as a wrong phone number.
_NO_PHONE = b"\x00" * 11


# --- who is asking -----------------------------------------------------------------------


def normalize_phone(text: str) -> str:
    """A typed mobile number as it is stored (cases.intake.forms.validate_phone): full-width digits
    folded, spaces and dashes dropped, a +86 / 0086 country code removed."""
    phone = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            return phone[len(prefix) :]
    if len(phone) == 13 and phone.startswith("86"):
        return phone[2:]
    return phone


def find_application(*, reference: str, phone: str) -> int | None:
    """The id of the submitted application with this reference and a guardian with this
    phone, or None. Drafts are never found. One query, and every phone on file compared
    in constant time, whether or not the reference exists."""
    on_file = list(
        Guardian.objects.filter(application__reference=reference)
        .exclude(application__status=Application.Status.DRAFT)
        .exclude(phone="")
        .values_list("application_id", "phone")
    ) or [(None, "")]
    typed = phone.encode()
    found = None
    for application_id, stored in on_file:
        if hmac.compare_digest(typed, stored.encode() or _NO_PHONE) and application_id:
            found = application_id
    return found


# --- what the family sees ------------------------------------------------------------------


class FamilyState(models.TextChoices):
    """Application status as the family sees it (§3), in family words."""

    SUBMITTED = "submitted", pgettext_lazy("family status", "Submitted")
    REVIEWING = "reviewing", pgettext_lazy("family status", "Under review")
    DOCUMENTS = "documents", pgettext_lazy("family status", "Documents needed")
    FUNDED = "funded", pgettext_lazy("family status", "Funded")
    NOT_FUNDED = "not_funded", pgettext_lazy("family status", "Not funded")
    PAID = "paid", pgettext_lazy("family status", "Paid")
    CLOSED = "closed", pgettext_lazy("family status", "Closed")


# One short sentence under the status word: what it means, and what (if anything) to do.
EXPLANATIONS = {
    FamilyState.SUBMITTED: pgettext_lazy(
        "family status", "We have your application. The charities will look at it soon."
    ),
    FamilyState.REVIEWING: pgettext_lazy(
        "family status", "The charities are looking at your application. Please wait."
    ),
    FamilyState.DOCUMENTS: pgettext_lazy(
        "family status", "Some papers are still needed. Please give them to your caseworker."
    ),
    FamilyState.FUNDED: pgettext_lazy(
        "family status", "Good news: your child will get help. See below who gives how much."
    ),
    FamilyState.NOT_FUNDED: pgettext_lazy(
        "family status", "No charity can help this time. Your caseworker can tell you why."
    ),
    FamilyState.PAID: pgettext_lazy(
        "family status", "Money has been paid. See below when and how much."
    ),
    FamilyState.CLOSED: pgettext_lazy("family status", "This application is finished."),
}

_REVIEW_TO_FAMILY = {
    MemberReview.State.PENDING: FamilyState.REVIEWING,
    MemberReview.State.IN_REVIEW: FamilyState.REVIEWING,
    MemberReview.State.INFO_REQUESTED: FamilyState.DOCUMENTS,
    MemberReview.State.APPROVED: FamilyState.FUNDED,
    MemberReview.State.PAYING: FamilyState.FUNDED,
    MemberReview.State.PAID: FamilyState.PAID,
    MemberReview.State.DECLINED: FamilyState.NOT_FUNDED,
    MemberReview.State.EXPIRED: FamilyState.NOT_FUNDED,
    MemberReview.State.CANCELLED: FamilyState.NOT_FUNDED,
    MemberReview.State.WITHDRAWN: FamilyState.CLOSED,
}

# The checklist (cases.standard) in words a family uses when gathering the papers.
DOCUMENT_WORDS = {
    "household_register": pgettext_lazy(
        "family document", "Household register (hukou): the head's page and the child's page"
    ),
    "guardian_id": pgettext_lazy("family document", "ID card of the parent or guardian"),
    "diagnosis_certificate": pgettext_lazy(
        "family document", "Diagnosis certificate from the hospital, with the hospital's seal"
    ),
    "inpatient_record": pgettext_lazy("family document", "First page of the hospital stay record"),
    "cost_estimate": pgettext_lazy("family document", "The hospital's estimate of the costs"),
    "hardship_certificate": pgettext_lazy("family document", "Certificate of hardship"),
    "consent_form": pgettext_lazy("family document", "Consent form signed by the guardian"),
}


@dataclass(frozen=True)
class MemberContact:
    """A member as the family sees it: its names and how to reach it, nothing else."""

    name_zh: str
    name_en: str
    contact_phone: str
    contact_email: str


@dataclass(frozen=True)
class MemberLine:
    member: MemberContact
    state: FamilyState
    amount: Decimal | None  # the pledge, for a grant
    description: str  # the pledge, for help in kind or a service
    paid_total: Decimal


@dataclass(frozen=True)
class PaymentLine:
    member: MemberContact
    paid_on: date
    amount: Decimal


@dataclass(frozen=True)
class NeededItem:
    text: str
    member: MemberContact | None = None  # who asked; None for the checklist


class PaperState(models.TextChoices):
    """A requested paper as the family sees it (§3 "documents from the family")."""

    TO_SEND = "to_send", pgettext_lazy("family paper", "Not sent yet")
    RETURNED = "returned", pgettext_lazy("family paper", "Returned: please send it again")
    SENT = "sent", pgettext_lazy("family paper", "Sent, not yet checked")
    ACCEPTED = "accepted", pgettext_lazy("family paper", "Checked and accepted")


@dataclass(frozen=True)
class RequestedPaper:
    """One paper a member asked for, which the family may send from the page."""

    pk: int
    text: str
    state: PaperState
    member: MemberContact
    reject_reason: str = ""

    @property
    def can_send(self) -> bool:
        return self.state in (PaperState.TO_SEND, PaperState.RETURNED)


@dataclass
class FamilyView:
    reference: str
    state: FamilyState
    closing: str  # why the application was closed, in words; "" when open
    members: list[MemberLine] = field(default_factory=list)
    needed: list[NeededItem] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    contact: MemberContact | None = None
    # When the treating hospital confirmed the diagnosis and cost estimate (issue 17).
    hospital_confirmed_at: datetime | None = None
    papers: list[RequestedPaper] = field(default_factory=list)

    @property
    def papers_to_send(self) -> list[RequestedPaper]:
        return [paper for paper in self.papers if paper.can_send]

    @property
    def explanation(self) -> str:
        return str(EXPLANATIONS[self.state])


# The page reads rows (values_list), not model instances: building an instance and its
# select_related tree cost more than the query's round trip (issue 18). Each read names
# the few columns it shows, as the module's docstring promises.
_MEMBER_FIELDS = ("name_zh", "name_en", "contact_phone", "contact_email")


class _Application(NamedTuple):
    reference: str
    status: str
    closing_reason: str
    economic_flags: list  # for the checklist only: which certificate is needed
    consent_method: str  # for the checklist only: whether a signed form is needed
    hospital_confirmed_at: datetime | None
    member: MemberContact


class _Review(NamedTuple):
    pk: int
    state: str
    amount: Decimal | None
    description: str
    paid_total: Decimal
    requested_items: str
    member: MemberContact


class _Document(NamedTuple):
    """What the checklist and the papers read of a document."""

    pk: int
    doc_type: str
    flag: str
    status: str
    family_request_id: int | None
    reject_reason: str
    uploaded_at: datetime


# The reads of every request, compiled once (aid_alliance.compiled_reads): Django compiling
# them cost the page more CPU than running them. The application and its reviews are one
# read, a row per review (the application's columns on each; one row of NULL reviews when
# there are none): the join on its own key gives the reviews of this application only.
_APPLICATION_COLUMNS = (
    *_Application._fields[:5],
    "hospital_confirmation__at",
    *(f"member__{name}" for name in _MEMBER_FIELDS),
)
_REVIEW_COLUMNS = (
    *(f"reviews__{name}" for name in _Review._fields[:6]),
    *(f"reviews__member__{name}" for name in _MEMBER_FIELDS),
)
# Where each part sits in a row of that read.
_OWN = slice(0, 6)
_OWN_MEMBER = slice(6, len(_APPLICATION_COLUMNS))
_REVIEW = slice(len(_APPLICATION_COLUMNS), len(_APPLICATION_COLUMNS) + 6)
_REVIEW_MEMBER = slice(_REVIEW.stop, None)
_APPLICATION_AND_REVIEWS = CompiledRead(
    Application,
    lambda application_id: (
        Application.objects.exclude(status=Application.Status.DRAFT)
        .filter(pk=application_id)
        .order_by("reviews__member__number")
        .values_list(*_APPLICATION_COLUMNS, *_REVIEW_COLUMNS)
    ),
)
_DOCUMENTS = CompiledRead(
    Document,
    lambda application_id: (
        Document.objects.filter(application_id=application_id)
        .order_by()  # the checklist reads a set; the papers sort by upload time themselves
        .values_list(*_Document._fields)
    ),
)


def _read_application(application_id: int) -> tuple[_Application, list[_Review]] | None:
    rows = _APPLICATION_AND_REVIEWS.rows(application_id)
    if not rows:
        return None
    application = _Application(*rows[0][_OWN], MemberContact(*rows[0][_OWN_MEMBER]))
    reviews = [
        _Review(*row[_REVIEW], MemberContact(*row[_REVIEW_MEMBER]))
        for row in rows
        if row[_REVIEW.start] is not None  # the one row of an application with no review
    ]
    return application, reviews


def _read_documents(application_id: int) -> list[_Document]:
    return [_Document(*row) for row in _DOCUMENTS.rows(application_id)]


def family_view(application_id: int) -> FamilyView | None:
    """Everything the status page shows, or None if the application is gone or a draft.

    One query, the application with its member and its reviews with theirs; then its
    documents while a member is still deciding (the checklist and the papers need them),
    the papers asked for while a member asks, and the payments that stand (neither a
    reversal nor reversed) when a review has any: a review's paid_total is the sum of its
    standing payments (cases.bills.services), all of them positive, so a review with none
    paid has none to list.
    """
    read = _read_application(application_id)
    if read is None:
        return None
    application, reviews = read
    is_open = application.status == Application.Status.SUBMITTED
    deciding = is_open and any(review.state in MemberReview.OPEN_STATES for review in reviews)
    docs = _read_documents(application_id) if deciding else []
    needed = _needed(application, reviews, docs) if deciding else []
    return FamilyView(
        reference=application.reference,
        state=_overall(is_open, reviews, needed),
        closing=_closing_words(application.closing_reason) if not is_open else "",
        members=[
            MemberLine(
                member=review.member,
                state=_REVIEW_TO_FAMILY.get(review.state, FamilyState.REVIEWING),
                amount=review.amount,
                description=review.description,
                paid_total=review.paid_total,
            )
            for review in reviews
        ],
        needed=needed,
        payments=_payments(reviews),
        contact=application.member,
        papers=_papers(reviews, docs) if deciding else [],
        hospital_confirmed_at=application.hospital_confirmed_at,
    )


def _payments(reviews: list[_Review]) -> list[PaymentLine]:
    """The standing payments (neither a reversal nor reversed), read only when a review has
    paid something: a review's paid_total is the sum of its standing payments
    (cases.bills.services), all of them positive."""
    members = {review.pk: review.member for review in reviews if review.paid_total > ZERO}
    if not members:
        return []
    rows = (
        Payment.objects.filter(review_id__in=members, reverses__isnull=True)
        .filter(reversal__isnull=True)
        .order_by("paid_on", "pk")
        .values_list("review_id", "paid_on", "amount")
    )
    return [PaymentLine(members[review_id], paid_on, amount) for review_id, paid_on, amount in rows]


def _papers(reviews: list[_Review], docs: list[_Document]) -> list[RequestedPaper]:
    """The papers of the open information requests, each with what the family sent for it
    (its latest upload decides). One query, and only while a member asks for something."""
    asking = {r.pk: r for r in reviews if r.state == MemberReview.State.INFO_REQUESTED}
    if not asking:
        return []
    latest: dict[int, _Document] = {}
    for document in sorted(docs, key=lambda d: (d.uploaded_at, d.pk)):
        if document.family_request_id:
            latest[document.family_request_id] = document
    papers = []
    for pk, review_id, doc_type in (
        RequestedDocument.objects.open()
        .filter(review_id__in=asking)
        .values_list("pk", "review_id", "doc_type")
    ):
        sent = latest.get(pk)
        if sent is None:
            state = PaperState.TO_SEND
        elif sent.status == Document.Status.REJECTED:
            state = PaperState.RETURNED
        elif sent.status == Document.Status.ACCEPTED:
            state = PaperState.ACCEPTED
        else:
            state = PaperState.SENT
        papers.append(
            RequestedPaper(
                pk=pk,
                text=_document_words(doc_type, ""),
                state=state,
                member=asking[review_id].member,
                reject_reason=sent.reject_reason if state == PaperState.RETURNED else "",
            )
        )
    return papers


def _closing_words(reason: str) -> str:
    # Every closing reason but one is worth telling; a family that lost its child needs
    # no page to say so.
    if reason == Application.ClosingReason.DECEASED:
        return ""
    try:
        return str(Application.ClosingReason(reason).label)
    except ValueError:  # none given, or a reason no longer offered
        return ""


def _needed(
    application: _Application, reviews: list[_Review], docs: list[_Document]
) -> list[NeededItem]:
    """What members asked for, and the checklist's missing papers while anyone is still
    deciding (once all have decided, a missing paper no longer holds anything up)."""
    state = MemberReview.State
    needed = [
        NeededItem(text=review.requested_items, member=review.member)
        for review in reviews
        if review.state == state.INFO_REQUESTED and review.requested_items
    ]
    if any(review.state in MemberReview.OPEN_STATES for review in reviews):
        have = ((d.doc_type, d.flag, d.status) for d in docs)
        needed += [
            NeededItem(text=_document_words(doc_type, flag))
            for doc_type, flag in documents.missing_among(checklist(application), have)
        ]
    return needed


def _document_words(doc_type: str, flag: str) -> str:
    words = str(DOCUMENT_WORDS.get(doc_type) or _type_label(doc_type))
    # Which hardship the certificate must prove: 低保, 特困 …
    if flag not in ECONOMIC_FLAGS:
        return words
    if (get_language() or "").startswith("en"):
        return f"{words} ({ECONOMIC_FLAGS[flag]})"
    return f"{words}（{ECONOMIC_FLAGS[flag]}）"


def _type_label(doc_type: str) -> str:
    # Not `in Document.Type.values`: an enum's values list is built afresh on every call.
    try:
        return Document.Type(doc_type).label
    except ValueError:
        return doc_type


def _overall(is_open: bool, reviews: list[_Review], needed: list[NeededItem]) -> FamilyState:
    """One word for the whole application (§3). What the family must do comes first, then
    the best news, then what is still going on."""
    if not is_open:
        return FamilyState.CLOSED
    if not reviews:
        return FamilyState.SUBMITTED
    states = {review.state for review in reviews}
    state = MemberReview.State
    if needed:
        return FamilyState.DOCUMENTS
    if any(review.paid_total > ZERO for review in reviews):
        return FamilyState.PAID
    if states & set(MemberReview.PLEDGING_STATES):
        return FamilyState.FUNDED
    if state.IN_REVIEW in states:
        return FamilyState.REVIEWING
    if state.PENDING in states:
        return FamilyState.SUBMITTED
    return FamilyState.NOT_FUNDED


def canonical_reference(text: str) -> str:
    """The typed reference in canonical form, or "" when it cannot be one."""
    reference = references.normalize_reference(text)
    return reference if reference and references.is_valid_reference(reference) else ""
