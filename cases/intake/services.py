"""Every change to an application goes through one of these functions (one transaction,
one history row with the acting user)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import access, audit, crypto, events, funding, identity, references
from cases.documents import document_upload  # noqa: F401 - the intake's upload, shared with bills
from cases.errors import (
    ApplicationError,
    DuplicateApplication,
    IncompleteApplication,
    InvalidInput,
    NotAllowed,
    consent_withdrawn_refusal,
)
from cases.identity import MASKED_FIELDS
from cases.intake.forms import SECTION_FORMS, SectionForm, SectionValues
from cases.intake.selectors import (  # noqa: F401 - section_form: the sections' reads
    PENDING,
    PossibleMatch,
    section_complete,
    section_form,
)
from cases.models import (
    Application,
    Child,
    ChildIdentity,
    Document,
    Guardian,
    OtherAid,
)
from cases.review import services as review_services
from cases.standard import SECTIONS
from reports import aggregates as report_aggregates

# What the treating hospital confirms (issue 17): D01-D03, D07 (plan_*) and D08.
HOSPITAL_CONFIRMED_FIELDS = ("category", "icd", "diagnosis_text", "estimated_cost")
Action = events.Action


def _display(name, value):
    text = "" if value is None else str(value)
    return identity.mask_id_number(text) if name in MASKED_FIELDS and text else text


def _lock(application: Application) -> Application:
    return Application.objects.select_for_update().select_related("child").get(pk=application.pk)


def _lock_for_submission(application: Application) -> Application:
    """_lock's rows (the application and its child), with what the completeness check and
    routing both read: the category (read, not locked) and the other aid (one query)."""
    return (
        Application.objects.select_for_update(of=("self", "child"))
        .select_related("child", "category")
        .prefetch_related("other_aid")
        .get(pk=application.pk)
    )


@transaction.atomic
def application_create(*, by) -> Application:
    """A new draft for a new child record; the reference is given now (never reused)."""
    if not by.is_member_staff:
        raise ApplicationError(_("Only a member's caseworkers and reviewers enter applications."))
    child = Child.objects.create(identity=ChildIdentity.objects.create())
    year = timezone.localdate().year
    for _attempt in range(10):
        reference = references.new_reference(year)
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    reference=reference, child=child, member=by.organization, created_by=by
                )
            break
        except IntegrityError:  # the same random reference twice: draw again
            continue
    else:  # pragma: no cover - 10 collisions in 33 million
        raise ApplicationError(_("Could not draw a new reference number; try again."))
    events.record_event(application=application, by=by, kind=Action.CREATED)
    return application


def is_editable(application: Application) -> bool:
    """A draft, or a submitted application a member asked more information for (§3)."""
    if application.status == Application.Status.DRAFT:
        return application.discarded_at is None
    return (
        application.status == Application.Status.SUBMITTED
        and application.reviews.filter(state="info_requested").exists()
    )


# A draft keeps invalid input for the caseworker to correct, not pasted documents.
PENDING_MAX_CHARS = 2000


def _keepable(values) -> bool:
    """Whether typed values can be kept as a draft's pending input: PostgreSQL's jsonb
    refuses a NUL character, and an overlong paste is refused, not stored."""
    return all(
        isinstance(value, str) and "\x00" not in value and len(value) <= PENDING_MAX_CHARS
        for value in values
        if value is not None
    )


@dataclass
class SectionResult:
    form: SectionForm
    changed: dict = field(default_factory=dict)


def _write_guardians(application: Application, values: SectionValues) -> None:
    existing = {g.position: g for g in application.guardians.all()}
    primary = values.primary or next((str(p) for p, g in existing.items() if g.is_primary), "1")
    # Clear the primary flag first: one primary per application is a constraint.
    application.guardians.update(is_primary=False)
    for n, given in values.guardians.items():
        guardian = existing.get(n)
        if given is None:
            if guardian:
                guardian.delete()
            continue
        if guardian is None:
            guardian = Guardian(application=application, position=n)
        for attr, value in given.items():
            setattr(guardian, attr, value)
        guardian.is_primary = str(n) == primary
        guardian.save()


def _write_other_aid(application: Application, rows: dict) -> None:
    existing = {a.position: a for a in application.other_aid.all()}
    for n, given in rows.items():
        if given is None:
            if n in existing:
                existing[n].delete()
            continue
        OtherAid.objects.update_or_create(application=application, position=n, defaults=given)


def _write_section(application: Application, values: SectionValues) -> None:
    """Set a section's valid values on the application (saved by the caller) and write
    the rows it owns: the child, the guardians, the other aid."""
    for name, value in values.application.items():
        setattr(application, name, value)
    if values.treatment_plan:
        plan = dict(application.treatment_plan or {})
        for treatment, stage in values.treatment_plan.items():
            if stage:
                plan[treatment] = stage
            else:
                plan.pop(treatment, None)
        application.treatment_plan = plan
    if values.child:
        child = application.child
        for name, value in values.child.items():
            setattr(child, name, value)
        child.save()
    if values.guardians:
        _write_guardians(application, values)
    if values.other_aid:
        _write_other_aid(application, values.other_aid)


@transaction.atomic
def section_save(*, application: Application, section: str, data, by) -> SectionResult:
    """Save what is valid in one section of a draft and keep the rest as typed."""
    application = _lock(application)
    if not is_editable(application):
        raise ApplicationError(
            _("Only a draft, or an application with an open information request, can be edited.")
        )
    form_class = SECTION_FORMS[section]
    before = form_class.initial_for(application)
    form = form_class(data, application=application)
    form.is_valid()
    cleaned = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    _write_section(application, form.values(cleaned))
    # Keep invalid input as typed (never a lost entry); an empty required field is not kept,
    # nor what a JSON column cannot or should not hold (_keepable).
    pending = {
        name: data.getlist(name)
        if hasattr(data, "getlist") and len(data.getlist(name)) > 1
        else data.get(name, "")
        for name in form.errors
        if name != "__all__"
        and not all(e.code == "required" for e in form.errors.as_data()[name])
        and _keepable(data.getlist(name) if hasattr(data, "getlist") else [data.get(name)])
    }
    # A mistyped ID or bank number is kept encrypted, like a valid one (cases.crypto).
    pending = crypto.seal_values(pending, MASKED_FIELDS, context=PENDING)
    application.pending_input = {**application.pending_input, section: pending}
    if not pending:
        application.pending_input.pop(section, None)
    application.save()
    if application.status == Application.Status.SUBMITTED:
        # Edited while a member asked for information: D08, E02 and E03 change the need,
        # which may never fall below the members' pledges (§3 funding gap).
        funding.refuse_need_below_pledges(application, error=ApplicationError)
    after = form_class.initial_for(application)
    changed = {
        name: [_display(name, before.get(name)), _display(name, after.get(name))]
        for name in sorted(set(before) | set(after))
        if _display(name, before.get(name)) != _display(name, after.get(name))
    }
    if changed:
        events.record_event(
            application=application,
            by=by,
            kind=Action.SECTION_SAVED,
            section=section,
            changes=changed,
        )
    if application.hospital_confirmation_id and any(
        name in HOSPITAL_CONFIRMED_FIELDS or name.startswith("plan_") for name in changed
    ):
        # The hospital confirmed other values than these (issue 17): it confirms again.
        application.hospital_confirmation = None
        application.save(update_fields=["hospital_confirmation"])
    if application.status == Application.Status.SUBMITTED:
        report_aggregates.refresh(application)  # C01 category, A province
    form.quiet_required_errors()
    return SectionResult(form=form, changed=changed)


@transaction.atomic
def application_submit(*, application: Application, by) -> Application:
    """Submit a complete, valid draft with consent H01 (§2 rules)."""
    keyed = _keyed_identity(
        Child.objects.filter(pk=application.child_id).values_list("id_number_hash", flat=True)[0]
    )
    application = _lock_for_submission(application)
    if application.consent_withdrawn_at is not None:
        raise ApplicationError(consent_withdrawn_refusal())
    if application.status != Application.Status.DRAFT:
        raise ApplicationError(_("This application has already been submitted."))
    if application.discarded_at is not None:
        raise ApplicationError(_("This draft was discarded."))
    incomplete = [
        str(SECTIONS[key]) for key in SECTION_FORMS if not section_complete(application, key)
    ]
    if incomplete:
        raise IncompleteApplication(
            _("These sections are not complete or not valid yet: %(sections)s.")
            % {"sections": "、".join(incomplete)}
        )
    if not application.consent_sharing:
        raise ApplicationError(_("Consent H01 is needed before the application can be submitted."))
    _join_identity(application.child, keyed)
    _refuse_second_open_application(application, by)
    application.status = Application.Status.SUBMITTED
    application.submitted_at = timezone.now()
    application.save(update_fields=["status", "submitted_at", "updated_at"])
    events.record_event(application=application, by=by, kind=Action.SUBMITTED)
    # The identity may have joined other records (_join_identity): the aggregates of all
    # of them change (their pledges' child), and routing needs no earlier grants of a first
    # record. Read once, after the join, which holds the keyed identity's lock: no other
    # submission or link adds a record to it before the commit.
    records = sorted(
        Application.objects.filter(child__identity_id=application.child.identity_id)
        .order_by()
        .values_list("pk", flat=True)
    )
    # Routing to every member happens in this same transaction (standard.md §3).
    review_services.route(application, by=by, records=records)
    report_aggregates.refresh(records)
    return application


def _keyed_identity(id_hash: str) -> ChildIdentity | None:
    """The identity keyed by an ID number's hash, made if need be, and locked.

    Taken before any application row is locked: two members submitting the same child at
    once meet on this one row (unique hash), and the second waits here holding nothing,
    so the first may move the second's record without a deadlock (tested on PostgreSQL).
    """
    if not id_hash:
        return None
    # Made if missing: a row another submission inserted and has not committed yet makes
    # this wait for its end, then count as there (two queries, no savepoints).
    ChildIdentity.objects.bulk_create(
        [ChildIdentity(id_number_hash=id_hash)], ignore_conflicts=True
    )
    return ChildIdentity.objects.select_for_update().get(id_number_hash=id_hash)


def _join_identity(child: Child, keyed: ChildIdentity | None) -> None:
    """Join the child's identity with every record of the same ID number (its keyed hash:
    the same number is the same child, whoever entered it, §2). Nothing of another
    record is read or shown; only identities move, and a refused submission rolls the
    move back."""
    id_hash = crypto.keyed_hash(child.id_number)
    if keyed is None or keyed.id_number_hash != id_hash:  # A03 changed since: key again
        keyed = _keyed_identity(id_hash)
    if keyed is None:
        return
    # The identities of the records of this number and this record's own, in one query
    # read from the records (two index look-ups; read from the identities, the OR across
    # the join scanned every identity: 107 ms a submission at 100,000 applications); an
    # identity keyed by another number stays apart: only this record moves.
    joined = set(
        Child.objects.filter(Q(id_number_hash=id_hash) | Q(pk=child.pk))
        .filter(identity__id_number_hash__isnull=True)
        .exclude(identity_id=keyed.pk)
        .values_list("identity_id", flat=True)
    )
    if joined:
        Child.objects.filter(identity_id__in=joined).update(identity=keyed)
        _delete_identities(sorted(joined))
    if child.identity_id != keyed.pk and child.identity_id not in joined:
        Child.objects.filter(pk=child.pk).update(identity=keyed)
    child.identity = keyed


def _delete_identities(ids: list[int]) -> None:
    """Delete identities no record points at any more, in one statement (issue 18: the
    ORM's delete read the identities and then their records for PROTECT first, two more
    round trips). A record that points at one when the statement starts keeps it, and the
    ORM's delete then refuses as PROTECT always did. A link that commits while the
    statement waits on the identity's row is not seen by it (its snapshot is older), as it
    was not by the ORM's reads: the foreign key then refuses the submission at its commit
    (IntegrityError), so no record is left pointing at nothing."""
    identities = connection.ops.quote_name(ChildIdentity._meta.db_table)
    children = connection.ops.quote_name(Child._meta.db_table)
    column = connection.ops.quote_name(Child._meta.get_field("identity").column)
    pk = connection.ops.quote_name(ChildIdentity._meta.pk.column)
    referenced = f"SELECT 1 FROM {children} WHERE {children}.{column} = {identities}.{pk}"  # noqa: S608
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {identities} WHERE {pk} IN ({placeholders})"  # noqa: S608 - names are ours
            f" AND NOT EXISTS ({referenced})",
            ids,
        )
        deleted = cursor.rowcount
    if deleted != len(ids):
        ChildIdentity.objects.filter(pk__in=ids).delete()


def _refuse_second_open_application(application: Application, by) -> None:
    """One open application per child and disease category (§2 one child, one record),
    whichever member entered the other. The refusal names the other application only
    when it is shared with `by`'s member; otherwise the member and its contact (§5)."""
    others = (
        Application.objects.open()
        .filter(child__identity_id=application.child.identity_id)
        .filter(category_id=application.category_id)
        .exclude(pk=application.pk)
        .exclude(status=Application.Status.DRAFT)
    )
    if not others.exists():  # nearly always: the refusal's reads only when refused
        return
    other = (
        access.annotate_routed(by, others)
        .select_related("member")
        .order_by("submitted_at", "pk")
        .first()
    )
    if access.is_shared(by, other, routed_here=other.routed_here):
        raise DuplicateApplication(
            _(
                "This child already has an open application for this disease category: "
                "%(reference)s. Continue that one instead."
            )
            % {"reference": other.reference},
            match=PossibleMatch(member=other.member, basis=["id_number"], application=other),
        )
    raise DuplicateApplication(
        _(
            "This child already has an open application for this disease category at "
            "%(member)s. Contact %(member)s (%(phone)s) before going on."
        )
        % {
            "member": str(other.member),  # in the page's language
            "phone": other.member.contact_phone or _("no phone in the directory"),
        },
        match=PossibleMatch(member=other.member, basis=["id_number"]),
    )


@transaction.atomic
def application_link_child(*, application: Application, other: Application, by) -> Application:
    """Say that a draft is about the same child as `other`, an application shared with
    `by`'s member (a possible duplicate found before submission). Only the identity is
    joined: each application keeps its own section A, so nothing of `other` is copied
    into this draft and no edit of one changes the other (issue 14)."""
    application = _lock(application)
    if application.status != Application.Status.DRAFT or application.discarded_at is not None:
        raise ApplicationError(_("Only a draft can be linked to another child record."))
    if not access.may_link_child(by, application, other):
        raise ApplicationError(_("This application cannot be linked to that one."))
    other_identity = Child.objects.filter(pk=other.child_id).values_list("identity_id", flat=True)
    identity = ChildIdentity.objects.select_for_update().get(pk=other_identity[0])
    if identity.pk == application.child.identity_id:
        return application
    old = application.child.identity_id
    Child.objects.filter(pk=application.child_id).update(identity=identity)
    application.child.identity = identity
    _refuse_second_open_application(application, by)
    # The draft's own identity goes when no other record holds it.
    if not Child.objects.filter(identity_id=old).exists():
        ChildIdentity.objects.filter(pk=old).delete()
    events.record_event(
        application=application,
        by=by,
        kind=Action.CHILD_LINKED,
        section="A",
        note=other.reference,
    )
    return application


DISCARD_REASON_MAX_CHARS = 300


@transaction.atomic
def application_discard_draft(*, application: Application, by, reason: str) -> Application:
    """Discard a draft the caseworker will not go on with (issue 16): it leaves the
    member's lists and can no longer be edited or submitted. Nothing is deleted: the
    draft keeps who discarded it, when and why, with a history row and a row of the
    tamper-evident access record, so the secretariat still sees it (§5)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the draft is discarded."), field="reason")
    if len(reason) > DISCARD_REASON_MAX_CHARS:
        raise InvalidInput(
            _("At most 300 characters."),
            field="reason",
        )
    application = _lock(application)
    if application.status != Application.Status.DRAFT or application.discarded_at is not None:
        raise ApplicationError(_("Only a draft that is not discarded yet can be discarded."))
    if not access.may_discard_draft(by, application):
        raise NotAllowed(_("Only the member's caseworkers discard its drafts."))
    application.discarded_at = timezone.now()
    application.discarded_by = by
    application.discard_reason = reason
    application.save(update_fields=["discarded_at", "discarded_by", "discard_reason", "updated_at"])
    events.record_event(application=application, by=by, kind=Action.DISCARDED, note=reason)
    audit.access_record(application=application, user=by, view="discard", detail=reason)
    return application


@transaction.atomic
def document_review(*, document: Document, accept: bool, reason: str, by) -> Document:
    document = (
        Document.objects.select_for_update().select_related("application").get(pk=document.pk)
    )
    if not accept and not reason.strip():
        raise ApplicationError(_("Say why the document is rejected."))
    document.status = Document.Status.ACCEPTED if accept else Document.Status.REJECTED
    document.reject_reason = "" if accept else reason.strip()
    document.reviewed_by = by
    document.reviewed_at = timezone.now()
    document.save()
    events.record_event(
        application=document.application,
        by=by,
        kind=Action.DOCUMENT_REVIEWED,
        section="F",
        note=f"{document.get_doc_type_display()}: "
        f"{document.get_status_display()} {document.reject_reason}",
    )
    return document
