"""What the treating hospital's staff read (issue 17; standard.md §5 hospital staff): the
child's name, age and sex, the medical section, the medical documents, and the totals
pledged and paid. Nothing else leaves here: no guardian, no economics (C), coverage (E)
or payment details (G), no member's notes, no pledge by member. The pages and the API
render only these read models, never the application itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from aid_alliance.money import ZERO
from cases import access
from cases.models import Application, Document, HospitalConfirmation, MemberReview, Receipt
from organizations.eligibility import STAGES, TREATMENTS
from organizations.models import Hospital


def age_in_years(dob: date | None, today: date | None = None) -> int | None:
    if dob is None:
        return None
    today = today or timezone.localdate()
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def to_confirm(user, *, confirmed: bool = False):
    """The hospital user's list: applications waiting for their confirmation (待确认), or
    those already confirmed or corrected; oldest submission first. One query with the
    child and category; constant in rows."""
    queryset = access.hospital_applications(user).filter(
        hospital_confirmation__isnull=not confirmed
    )
    return (
        queryset.select_related("child", "category", "hospital_confirmation")
        .only(
            "reference",
            "submitted_at",
            "estimated_cost",
            "icd",
            "diagnosis_text",
            "hospital_confirmation__kind",
            "hospital_confirmation__at",
            "child__name",
            "child__sex",
            "child__dob",
            "category__code",
            "category__name_zh",
            "category__name_en",
        )
        .order_by("submitted_at", "pk")
    )


@dataclass(frozen=True)
class PlanLine:
    treatment: str
    label: str
    stage: str
    stage_label: str


@dataclass
class HospitalView:
    """One application as hospital staff see it."""

    application: Application  # for the reference and the medical fields (section D) only
    hospital: Hospital
    child_name: str
    child_sex: str
    child_age: int | None
    plan: list[PlanLine]
    documents: list[Document]
    needed: list[str]  # document types of the medical papers not yet received
    pledged: Decimal
    paid: Decimal
    confirmations: list[HospitalConfirmation]
    receipts: list[Receipt] = field(default_factory=list)


def plan_lines(plan: dict) -> list[PlanLine]:
    return [
        PlanLine(t, str(TREATMENTS[t]), s, str(STAGES.get(s, s)))
        for t, s in (plan or {}).items()
        if t in TREATMENTS
    ]


def hospital_view(application: Application, user) -> HospitalView:
    """Four queries: documents, totals, confirmations, the hospital's receipts."""
    documents = list(
        Document.objects.filter(
            application=application, doc_type__in=access.HOSPITAL_DOCUMENT_TYPES
        ).order_by("doc_type", "uploaded_at")
    )
    have = {d.doc_type for d in documents if d.status != Document.Status.REJECTED}
    totals = (
        MemberReview.objects.pledging()
        .filter(application=application)
        .aggregate(
            pledged=Coalesce(Sum("amount"), ZERO),
            paid=Coalesce(Sum("paid_total"), ZERO),
        )
    )
    confirmations = list(
        HospitalConfirmation.objects.filter(application=application)
        .select_related("hospital", "by")
        .order_by("at", "pk")
    )
    receipts = list(
        Receipt.objects.filter(application=application, recorded_hospital_id=user.hospital_id)
        .select_related("recorded_by")
        .order_by("issued_on", "pk")
    )
    child = application.child
    return HospitalView(
        application=application,
        hospital=user.hospital,
        child_name=child.name,
        child_sex=child.get_sex_display(),
        child_age=age_in_years(child.dob),
        plan=plan_lines(application.treatment_plan),
        documents=documents,
        needed=[t for t in access.HOSPITAL_UPLOAD_TYPES if t not in have],
        pledged=totals["pledged"],
        paid=totals["paid"],
        confirmations=confirmations,
        receipts=receipts,
    )


def typed_hospital_names():
    """For the secretariat: submitted or draft applications whose treating hospital was
    typed, not picked from the directory, by name (one query)."""
    return (
        Application.objects.filter(treating_hospital_ref__isnull=True)
        .exclude(treating_hospital="")
        .exclude(status__in=[Application.Status.WITHDRAWN, Application.Status.CLOSED])
        .select_related("member")
        .only(
            "reference",
            "treating_hospital",
            "hospital_region",
            "status",
            "member__name_zh",
            "member__name_en",
            "member__short_name",
        )
        .order_by("treating_hospital", "pk")
    )
