"""The treating hospital's writes (issue 17): confirm or correct the medical section,
upload a medical document, record a receipt; and the secretariat's match of a typed
hospital name to the directory. One function per change, one transaction, a history row
with the acting user; the reads that go with a write are in the access record too."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from cases import access, audit, documents, events, notify
from cases.errors import InvalidInput, NotAllowed, WorkflowError
from cases.models import Application, Document, HospitalConfirmation
from cases.review import services as review_services
from organizations.models import Hospital
from reports import aggregates as report_aggregates

Action = events.Action
Kind = HospitalConfirmation.Kind


def _lock_for_hospital(application: Application, by) -> Application:
    """The application's row, locked, and still the user's to see once locked (a consent
    withdrawn a moment ago ends the hospital's access here too)."""
    # The application's row only (PostgreSQL cannot lock the nullable side of a join).
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not access.hospital_applications(by).filter(pk=application.pk).exists():
        raise NotAllowed(_("This application is not shared with your hospital."))
    return application


def _tell_caseworker(application: Application, subject: str, body: str) -> None:
    creator = application.created_by
    transaction.on_commit(lambda: notify.email_staff(creator, subject, body))


def _confirmed(application, *, by, kind, changes=None, reason="") -> HospitalConfirmation:
    confirmation = HospitalConfirmation.objects.create(
        application=application,
        hospital_id=by.hospital_id,
        by=by,
        kind=kind,
        changes=changes or {},
        reason=reason,
    )
    application.hospital_confirmation = confirmation
    application.save(update_fields=["hospital_confirmation", "updated_at"])
    return confirmation


@transaction.atomic
def hospital_confirm(*, application: Application, by) -> HospitalConfirmation:
    """医院确认: the diagnosis (D01-D03), treatment plan (D07) and estimate (D08) are as
    entered."""
    application = _lock_for_hospital(application, by)
    confirmation = _confirmed(application, by=by, kind=Kind.CONFIRMED)
    events.record_event(
        application=application,
        by=by,
        kind=Action.HOSPITAL_CONFIRMED,
        section="D",
        note=by.hospital.name,
    )
    audit.access_record(application=application, user=by, view="hospital-confirm")
    _tell_caseworker(
        application,
        _("%(hospital)s confirmed %(reference)s")
        % {"hospital": by.hospital.name, "reference": application.reference},
        _("See the application page for the details."),
    )
    return confirmation


def _shown(value) -> str:
    if value is None:
        return ""
    return str(getattr(value, "code", value))


@transaction.atomic
def hospital_correct(
    *,
    application: Application,
    by,
    category,
    icd: str,
    diagnosis_text: str,
    treatment_plan: dict,
    estimated_cost: Decimal,
    reason: str,
) -> HospitalConfirmation:
    """The hospital corrects D01-D03, D07 or D08, with a reason. A new estimate goes
    through the review's own revision (review_services.application_revise_estimate), so
    that the members' pledges never exceed the new need; refused, nothing is written."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the hospital corrects these values."), field="reason")
    application = _lock_for_hospital(application, by)
    given = {"category": category, "icd": icd, "diagnosis_text": diagnosis_text}
    before = {
        "category": application.category,
        "icd": application.icd,
        "diagnosis_text": application.diagnosis_text,
    }
    # Named as the section's form names them (D07 by treatment: plan_chemotherapy …), so
    # the history shows each change by its code and label, as the caseworker's edits.
    changes = {
        name: [_shown(before[name]), _shown(value)]
        for name, value in given.items()
        if _shown(before[name]) != _shown(value)
    }
    plan_before, plan_after = dict(application.treatment_plan or {}), dict(treatment_plan)
    for treatment in sorted(set(plan_before) | set(plan_after)):
        if plan_before.get(treatment, "") != plan_after.get(treatment, ""):
            changes[f"plan_{treatment}"] = [
                plan_before.get(treatment, ""),
                plan_after.get(treatment, ""),
            ]
    cost_changed = application.estimated_cost != estimated_cost
    if cost_changed:
        changes["estimated_cost"] = [_shown(application.estimated_cost), _shown(estimated_cost)]
    if not changes:
        raise WorkflowError(
            _("Nothing differs from what was entered: confirm the application instead.")
        )
    if cost_changed:
        # Locks the application again (already ours) and refuses a need below the pledges.
        review_services.application_revise_estimate(
            application=application, estimated_cost=estimated_cost, by=by, note=reason
        )
        application.refresh_from_db()
    for name, value in given.items():
        setattr(application, name, value)
    application.treatment_plan = plan_after
    application.save(
        update_fields=["category", "icd", "diagnosis_text", "treatment_plan", "updated_at"]
    )
    confirmation = _confirmed(
        application, by=by, kind=Kind.CORRECTED, changes=changes, reason=reason[:300]
    )
    events.record_event(
        application=application,
        by=by,
        kind=Action.HOSPITAL_CORRECTED,
        section="D",
        changes=changes,
        note=f"{by.hospital.name}: {reason}",
    )
    audit.access_record(application=application, user=by, view="hospital-correct")
    _tell_caseworker(
        application,
        _("%(hospital)s corrected %(reference)s")
        % {"hospital": by.hospital.name, "reference": application.reference},
        reason,
    )
    report_aggregates.refresh(application)
    return confirmation


def hospital_document_upload(*, application: Application, doc_type: str, upload, by) -> Document:
    """A medical document from the hospital, through the intake's checks (type by its
    bytes, size limit, a history row): one transaction, the upload's own."""
    if doc_type not in access.HOSPITAL_UPLOAD_TYPES:
        raise InvalidInput(_("Hospitals upload medical documents only."), field="doc_type")
    with transaction.atomic():
        application = _lock_for_hospital(application, by)
        return documents.document_upload(
            application=application, doc_type=doc_type, flag="", upload=upload, by=by
        )


@transaction.atomic
def treating_hospital_match(*, application: Application, hospital: Hospital, by) -> Application:
    """The secretariat says which directory hospital a typed D06 name is; the region then
    comes from the directory."""
    if not access.may_match_hospital(by):
        raise NotAllowed(_("Only the secretariat matches hospitals to the directory."))
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.treating_hospital_ref_id is not None:
        raise WorkflowError(_("This application's treating hospital is already matched."))
    if not hospital.is_active:
        raise InvalidInput(_("Choose an active hospital of the directory."), field="hospital")
    changes = {
        "treating_hospital": [application.treating_hospital, hospital.name],
        "hospital_region": [application.hospital_region, hospital.region],
    }
    application.treating_hospital_ref = hospital
    application.treating_hospital = hospital.name
    application.hospital_region = hospital.region
    application.save(
        update_fields=[
            "treating_hospital_ref",
            "treating_hospital",
            "hospital_region",
            "updated_at",
        ]
    )
    events.record_event(
        application=application, by=by, kind=Action.HOSPITAL_MATCHED, section="D", changes=changes
    )
    return application
