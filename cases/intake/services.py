"""Every change to an application goes through one of these functions (one transaction,
one history row with the acting user)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import crypto, documents, identity, references
from cases.intake.forms import SECTION_FORMS, SectionForm
from cases.models import (
    AccessRecord,
    Application,
    ApplicationEvent,
    Child,
    ChildIdentity,
    Document,
    MemberReview,
)
from cases.standard import SECTIONS

# Fields whose values are masked in the history, like on lists (§5 least privilege).
MASKED_FIELDS = {"id_number", "g1_id_number", "g2_id_number", "account_number"}
PENDING = "cases_application.pending_input"


class ApplicationError(Exception):
    """A change refused by a rule of the standard; the message is for the caseworker."""


class DuplicateApplication(ApplicationError):
    """Submission refused: the child already has an open application in this disease
    category (§2). `match` is what the caseworker may be told of it (selectors'
    PossibleMatch: the member always; the application only when shared with them)."""

    code = "duplicate_application"

    def __init__(self, message, *, match):
        super().__init__(message)
        self.match = match


def _event(application, by, action, *, section="", changes=None, note=""):
    ApplicationEvent.objects.create(
        application=application,
        actor=by,
        action=action,
        section=section,
        changes=changes or {},
        note=note[:300],
    )


def _display(name, value):
    text = "" if value is None else str(value)
    return identity.mask_id_number(text) if name in MASKED_FIELDS and text else text


def _lock(application: Application) -> Application:
    return Application.objects.select_for_update().select_related("child").get(pk=application.pk)


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
    _event(application, by, "created")
    return application


def is_editable(application: Application) -> bool:
    """A draft, or a submitted application a member asked more information for (§3)."""
    if application.status == Application.Status.DRAFT:
        return True
    return (
        application.status == Application.Status.SUBMITTED
        and application.reviews.filter(state="info_requested").exists()
    )


def shared_data_withheld(application: Application, user) -> bool:
    """Whether `user` no longer sees the child's personal data of this application: the
    guardian withdrew consent to sharing (PIPL art. 15) and the user is staff of another
    member. The entering member's staff and the secretariat still see it."""
    return bool(
        application.consent_withdrawn_at is not None
        and getattr(user, "is_member_staff", False)
        and user.organization_id != application.member_id
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
    form.save_to(application, cleaned)
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
        pledged = MemberReview.objects.filter(application=application).pledged_total()
        if application.need < pledged:
            raise ApplicationError(
                _("Members have pledged %(pledged)s yuan: the need cannot go below that.")
                % {"pledged": pledged}
            )
    after = form_class.initial_for(application)
    changed = {
        name: [_display(name, before.get(name)), _display(name, after.get(name))]
        for name in sorted(set(before) | set(after))
        if _display(name, before.get(name)) != _display(name, after.get(name))
    }
    if changed:
        _event(application, by, "section_saved", section=section, changes=changed)
    form.quiet_required_errors()
    return SectionResult(form=form, changed=changed)


def section_form(application: Application, section: str, *, strict=False) -> SectionForm:
    """The section as stored, pending input shown back, validated to show its messages."""
    form_class = SECTION_FORMS[section]
    pending = crypto.open_values(application.pending_input.get(section, {}), context=PENDING)
    data = {**form_class.initial_for(application), **pending}
    form = form_class(_as_querydict(data), application=application, strict=strict)
    form.is_valid()
    form.quiet_required_errors()
    return form


def _as_querydict(data: dict):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list | tuple):
            query.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            if value:
                query[key] = "on"
        elif value is not None:
            query[key] = str(value)
    return query


def section_complete(application: Application, section: str) -> bool:
    if section == "F":
        return not documents.missing(application)
    if application.pending_input.get(section):
        return False
    return section_form(application, section, strict=True).is_valid()


@transaction.atomic
def application_submit(*, application: Application, by) -> Application:
    """Submit a complete, valid draft with consent H01 (§2 rules)."""
    keyed = _keyed_identity(
        Child.objects.filter(pk=application.child_id).values_list("id_number_hash", flat=True)[0]
    )
    application = _lock(application)
    if application.consent_withdrawn_at is not None:
        from cases.review.services import consent_withdrawn_refusal

        raise ApplicationError(consent_withdrawn_refusal())
    if application.status != Application.Status.DRAFT:
        raise ApplicationError(_("This application has already been submitted."))
    incomplete = [
        str(SECTIONS[key]) for key in SECTION_FORMS if not section_complete(application, key)
    ]
    if incomplete:
        raise ApplicationError(
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
    _event(application, by, "submitted")
    # Routing to every member happens in this same transaction (standard.md §3).
    from cases.review.services import route  # workflow builds on this module

    route(application, by=by)
    return application


def _keyed_identity(id_hash: str) -> ChildIdentity | None:
    """The identity keyed by an ID number's hash, made if need be, and locked.

    Taken before any application row is locked: two members submitting the same child at
    once meet on this one row (unique hash), and the second waits here holding nothing,
    so the first may move the second's record without a deadlock (tested on PostgreSQL).
    """
    if not id_hash:
        return None
    try:
        with transaction.atomic():
            keyed, _created = ChildIdentity.objects.get_or_create(id_number_hash=id_hash)
    except IntegrityError:  # made by a submission that committed in between
        keyed = ChildIdentity.objects.get(id_number_hash=id_hash)
    return ChildIdentity.objects.select_for_update().get(pk=keyed.pk)


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
    joined = set(Child.objects.filter(id_number_hash=id_hash).values_list("identity_id", flat=True))
    joined = {
        pk
        for pk in joined | {child.identity_id}
        if pk != keyed.pk
        # An identity keyed by another number stays apart: only this record moves.
        and not ChildIdentity.objects.filter(pk=pk, id_number_hash__isnull=False).exists()
    }
    if joined:
        Child.objects.filter(identity_id__in=joined).update(identity=keyed)
        ChildIdentity.objects.filter(pk__in=joined).delete()
    if child.identity_id != keyed.pk:
        Child.objects.filter(pk=child.pk).update(identity=keyed)
    child.identity = keyed


def _refuse_second_open_application(application: Application, by) -> None:
    """One open application per child and disease category (§2 one child, one record),
    whichever member entered the other. The refusal names the other application only
    when it is shared with `by`'s member; otherwise the member and its contact (§5)."""
    from cases import access
    from cases.intake.selectors import PossibleMatch

    other = (
        access.annotate_routed(by, Application.objects.open())
        .filter(child__identity_id=application.child.identity_id)
        .filter(category_id=application.category_id)
        .exclude(pk=application.pk)
        .exclude(status=Application.Status.DRAFT)
        .select_related("member")
        .order_by("submitted_at", "pk")
        .first()
    )
    if other is None:
        return
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
            "member": other.member.name_zh,
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
    from cases import access

    application = _lock(application)
    if application.status != Application.Status.DRAFT:
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
    _event(application, by, "child_linked", section="A", note=other.reference)
    return application


@transaction.atomic
def document_upload(*, application: Application, doc_type: str, flag: str, upload, by) -> Document:
    """Store a checked upload (type by its bytes, size limit) outside public paths."""
    application = _lock(application)
    if application.status in (Application.Status.WITHDRAWN, Application.Status.CLOSED):
        raise ApplicationError(_("This application is closed."))
    try:
        content_type = documents.check_upload(upload, max_bytes=settings.DOCUMENT_MAX_BYTES)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0]) from None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        application=application,
        doc_type=doc_type,
        flag=flag or "",
        original_name=(upload.name or "")[:200],
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=by,
    )
    document.file.save(f"{application.reference}-{digest.hexdigest()[:16]}", upload, save=False)
    try:
        document.full_clean(exclude=["file"])
    except ValidationError as exc:
        document.file.delete(save=False)
        raise ApplicationError("; ".join(exc.messages)) from None
    document.save()
    _event(
        application,
        by,
        "document_uploaded",
        section="F",
        note=f"{document.get_doc_type_display()}: {document.original_name}",
    )
    return document


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
    _event(
        document.application,
        by,
        "document_reviewed",
        section="F",
        note=f"{document.get_doc_type_display()}: "
        f"{document.get_status_display()} {document.reject_reason}",
    )
    return document


def access_record(*, application: Application, user, view: str, detail: str = "") -> None:
    """Record that `user` saw this application's personal data (§5 access record)."""
    AccessRecord.objects.create(application=application, user=user, view=view, detail=detail[:200])


def access_record_list(*, applications, user, view: str = "list") -> None:
    """One record per application shown on a list page, in one query."""
    AccessRecord.objects.bulk_create(
        AccessRecord(application=application, user=user, view=view) for application in applications
    )
