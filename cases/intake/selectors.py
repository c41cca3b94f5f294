"""Named reads of applications."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    Exists,
    Func,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    TextChoices,
    TextField,
    Value,
)
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy

from cases import access, crypto, documents, identity, references
from cases.fields import as_querydict
from cases.intake.forms import SECTION_FORMS, SectionForm
from cases.models import Application, ApplicationEvent, Document, Guardian, MemberReview
from cases.standard import SECTIONS
from organizations.models import MemberOrganization

# The encryption context of a draft's pending input (cases.crypto).
PENDING = "cases_application.pending_input"


def application_list(user, *, q="", status="", category=None, member=None):
    """The staff list: what the user may see, filtered; select_related keeps it one query
    per page whatever the number of rows (pinned by a test)."""
    # Member staff list their own member's applications; those routed to them from other
    # members are in the inbox. The secretariat lists all.
    # A discarded draft leaves the member's list; the secretariat still lists it, marked.
    if user.is_superuser or user.is_secretariat:
        base = Application.objects.all()
    else:
        base = Application.objects.filter(member_id=user.organization_id).not_discarded()
    queryset = (
        base.select_related("child", "category", "member")
        # "Information requested" instead of "submitted" while a member waits for an answer.
        .annotate(info_requested=_any_row(_info_requests()))
        # Only what the list shows: narrower rows make sorting and deep pages cheaper.
        .only(
            "reference",
            "status",
            "created_at",
            "consent_withdrawn_at",
            "discarded_at",
            "child__name",
            "child__id_number",
            "category__name_zh",
            "category__name_en",  # names follow the page's language (local_name)
            "member__name_zh",
            "member__name_en",
        )
        .annotate(
            # "Needs your answer": papers the family sent for an open request, not yet
            # checked (issue 17). A subquery in the page's one query, evaluated per row shown.
            family_waiting=_any_row(
                Document.objects.filter(
                    application=OuterRef("pk"),
                    family_request__isnull=False,
                    family_request__answered_at__isnull=True,
                    status=Document.Status.RECEIVED,
                )
            )
        )
        .order_by("-created_at", "-pk")
    )
    if status:
        queryset = queryset.filter(status=status)
    if category is not None:
        queryset = queryset.filter(category=category)
    if member is not None:
        queryset = queryset.filter(member=member)
    q = (q or "").strip()
    if q:
        reference = references.normalize_reference(q)
        id_number = identity.normalize_resident_id(q)
        if reference:
            queryset = queryset.filter(reference=reference)
        elif id_number[:17].isdigit() and len(id_number) >= 15:
            queryset = queryset.filter(child__id_number_hash=crypto.keyed_hash(id_number))
        else:
            queryset = name_contains(queryset, q)
    return queryset


def _any_row(rows):
    """Whether `rows` (correlated to the application) has one, as `(SELECT id … LIMIT 1) IS
    NOT NULL`, not EXISTS: PostgreSQL may turn an EXISTS into one hashed scan of every
    matching row, planned for all the applications the list could show rather than the
    page's 25; at 100,000 the unfiltered list read all 18,488 information requests for
    each page (11 ms; a scalar subquery is a look-up per row shown: 0.3 ms; issue 18)."""
    return IsNull(Subquery(rows.order_by().values("pk")[:1]), False)


def _info_requests():
    return MemberReview.objects.filter(
        application=OuterRef("pk"), state=MemberReview.State.INFO_REQUESTED
    )


# The caseworker's home shows at most this many of each list (oldest request first,
# newest draft first); the application list has the rest.
HOME_ROWS = 50


def awaiting_answer(user) -> list[MemberReview]:
    """The information requests the user's member has not answered yet (§3: the review
    waits in "information requested" until the caseworker says it is there), oldest
    first: one query whatever their number."""
    if not getattr(user, "is_member_staff", False):
        return []
    return list(
        MemberReview.objects.filter(
            state=MemberReview.State.INFO_REQUESTED,
            application__member_id=user.organization_id,
        )
        .select_related("application__child", "member")
        .only(
            "requested_items",
            "info_requested_at",
            "member__name_zh",
            "member__name_en",
            "application__reference",
            "application__member_id",
            "application__child__name",
        )
        .order_by("info_requested_at", "pk")[:HOME_ROWS]
    )


def own_drafts(user) -> list[Application]:
    """The drafts the user began and has not submitted or discarded, newest change first:
    one query whatever their number."""
    if not getattr(user, "is_member_staff", False):
        return []
    return list(
        Application.objects.filter(
            member_id=user.organization_id,
            created_by=user,
            status=Application.Status.DRAFT,
        )
        .not_discarded()
        .select_related("child", "category")
        .only(
            "reference",
            "status",
            "member_id",
            "discarded_at",
            "created_at",
            "updated_at",
            "child__name",
            "category__name_zh",
            "category__name_en",
        )
        .order_by("-updated_at", "-pk")[:HOME_ROWS]
    )


class NameGrams(Func):
    """aid_name_grams(name): a name's single characters and pairs (migration 0010)."""

    function = "aid_name_grams"
    output_field = ArrayField(TextField())


def name_contains(queryset, text: str):
    """Applications whose child's name contains `text`. On PostgreSQL the GIN index of the
    names' characters and pairs finds the candidates (a pair typed is one index key, not
    a scan of every child), then LIKE checks them."""
    queryset = queryset.filter(child__name__contains=text)
    if connection.vendor != "postgresql":
        return queryset
    grams = sorted({text[i : i + 2] for i in range(len(text) - 1)} or {text})
    return queryset.alias(child_name_grams=NameGrams("child__name")).filter(
        child_name_grams__contains=grams
    )


def application_detail(queryset):
    return queryset.select_related("child", "category", "member", "created_by").prefetch_related(
        "guardians",
        "other_aid",
        "documents",
        Prefetch("events", queryset=ApplicationEvent.objects.select_related("actor")),
    )


@dataclass
class PossibleMatch:
    """One possible record of the same child elsewhere (§2 one child, one record; §5).

    `application` is set only when it is shared with the user's member (its own member's,
    or routed to it while consent stands): then the caseworker may open and link it. For
    anything else only the member and how to reach it are told, never a reference, a name,
    a date, a number or an address the caseworker did not type (issue 14).
    """

    member: MemberOrganization
    basis: list[str] = field(default_factory=list)  # MATCH_BASES keys, in that order
    application: Application | None = None

    @property
    def basis_text(self) -> str:
        # The list separator is the language's own ("、" in Chinese).
        return gettext(", ").join(str(MATCH_BASES[key]) for key in self.basis)


MATCH_BASES = {
    "id_number": gettext_lazy("the same ID number"),
    "name_dob": gettext_lazy("the same name and date of birth"),
    "name_phone": gettext_lazy("the same name and a guardian's phone"),
}
MATCHES_SHOWN = 10


def possible_duplicates(application: Application, user) -> list[PossibleMatch]:
    """Other applications that may be about this child: the same ID number (its keyed
    hash), the same name and birth date, or the same name and a guardian's phone; one
    entry per shared application, one per member for the rest. The child's other records
    already linked to it are not listed, nor anonymised ones, nor another member's
    application after its guardian withdrew consent (the match tells nothing new)."""
    child = application.child
    if not child.name and not child.id_number:
        return []
    id_hash = crypto.keyed_hash(child.id_number)
    phones = sorted({g.phone for g in application.guardians.all() if g.phone})
    match = Q()
    if id_hash:
        match |= Q(child__id_number_hash=id_hash)
    if child.name and child.dob:
        match |= Q(child__name=child.name, child__dob=child.dob)
    same_phone = Exists(Guardian.objects.filter(application=OuterRef("pk"), phone__in=phones))
    if child.name and phones:
        match |= Q(same_phone, child__name=child.name)
    if not match:
        return []
    candidates = (
        access.annotate_routed(user, Application.objects.filter(match))
        .annotate(phone_match=same_phone if phones else Value(False))
        .exclude(pk=application.pk)
        .exclude(child__identity_id=child.identity_id)
        .filter(anonymised_at__isnull=True, discarded_at__isnull=True)
        .select_related("member", "child")
        # Never the other record's encrypted numbers, not even in memory.
        .only(
            "reference",
            "status",
            "member",
            "consent_withdrawn_at",
            "created_at",
            "child__name",
            "child__dob",
            "child__id_number_hash",
            "child__identity_id",
        )
        .order_by("-created_at", "-pk")[: MATCHES_SHOWN * 3]
    )
    shared, by_member = [], {}
    for other in candidates:
        basis = [
            key
            for key, hit in (
                ("id_number", bool(id_hash) and other.child.id_number_hash == id_hash),
                (
                    "name_dob",
                    bool(child.dob)
                    and (other.child.name, other.child.dob) == (child.name, child.dob),
                ),
                ("name_phone", other.phone_match and other.child.name == child.name),
            )
            if hit
        ]
        if access.is_shared(user, other, routed_here=other.routed_here):
            shared.append(PossibleMatch(member=other.member, basis=basis, application=other))
        elif other.consent_withdrawn_at is None:
            entry = by_member.setdefault(other.member_id, PossibleMatch(member=other.member))
            entry.basis = [key for key in MATCH_BASES if key in entry.basis or key in basis]
    return (shared + sorted(by_member.values(), key=lambda m: m.member.number))[:MATCHES_SHOWN]


def linkable_match(application: Application, user, reference: str) -> Application | None:
    """The shared application `reference` if the match offers it for linking to this draft
    (the page's button and the API's link-child alike); None for anything else."""
    wanted = references.normalize_reference(reference)
    return next(
        (
            match.application
            for match in possible_duplicates(application, user)
            if match.application is not None and match.application.reference == wanted
        ),
        None,
    )


# --- the draft's sections: as stored, checked, and each one's state -------------------------


def section_form(application: Application, section: str, *, strict=False) -> SectionForm:
    """The section as stored, pending input shown back, validated to show its messages;
    `strict`: as the submission checks it, an empty required field an error too."""
    form_class = SECTION_FORMS[section]
    pending = crypto.open_values(application.pending_input.get(section, {}), context=PENDING)
    data = {**form_class.initial_for(application), **pending}
    form = form_class(as_querydict(data), application=application, strict=strict)
    form.is_valid()
    form.quiet_required_errors()
    return form


def section_complete(application: Application, section: str) -> bool:
    if section == "F":
        return not documents.missing(application)
    if application.pending_input.get(section):
        return False
    return section_form(application, section).passes_strict()


# The read-only page's section states, remembered in this process by a keyed digest of
# everything their check reads (issue 18: validating the 7 sections was about a sixth of
# the page): the values as the form gets them, the language (dates are parsed in it), the
# day (no date in the future) and, for D, the category's ICD codes and the child's birth
# date. A change through any service changes the values or the rows, hence the digest: no
# invalidation, nothing stale, and only a yes or no is kept, under a digest with a key of
# this process (no personal data is kept). A check that read the hospital directory
# (`read_directory`) is not remembered. Not for the submission: it validates afresh.
_COMPLETE_KEY = secrets.token_bytes(32)
_COMPLETE_KEPT = 20_000
_complete_kept: dict[bytes, bool] = {}


def _complete_digest(application: Application, section: str, data) -> bytes | None:
    parts = [section, get_language(), timezone.localdate().isoformat(), sorted(data.lists())]
    if section == "D":
        if not Application.category.is_cached(application):
            return None  # its check would read the category by its code
        category = application.category
        parts += [
            application.child.dob,
            category and (category.pk, category.code, category.icd_codes),
        ]
    text = repr(parts).encode()
    return hashlib.blake2b(text, key=_COMPLETE_KEY, digest_size=20).digest()


def sections_complete(application: Application) -> dict[str, bool]:
    """`section_complete` of every section with a form, for the read-only page: the same
    answers, each validated once per process for the same inputs (see above)."""
    complete = {}
    for section, form_class in SECTION_FORMS.items():
        if application.pending_input.get(section):
            complete[section] = False
            continue
        data = as_querydict(form_class.initial_for(application))
        digest = _complete_digest(application, section, data)
        # One look-up (.get), not `in` then [ ]: under threads another request can clear
        # the dict in between (the review of issue 18).
        kept = _complete_kept.get(digest) if digest is not None else None
        if kept is not None:
            complete[section] = kept
            continue
        form = form_class(data, application=application)
        form.is_valid()
        form.quiet_required_errors()
        complete[section] = form.passes_strict()
        if digest is not None and not form.read_directory:
            if len(_complete_kept) >= _COMPLETE_KEPT:
                _complete_kept.clear()
            _complete_kept[digest] = complete[section]
    return complete


class SectionState(TextChoices):
    NOT_STARTED = "not_started", gettext_lazy("Not started")
    IN_PROGRESS = "in_progress", gettext_lazy("In progress")
    COMPLETE = "complete", gettext_lazy("Complete")
    HAS_ERRORS = "has_errors", gettext_lazy("Has errors")


@dataclass
class SectionStatus:
    """One section of the application page: its one state, the form to show (F, the
    documents, has none) and, once a submission was refused, its fields in error."""

    key: str
    title: str
    state: SectionState
    form: SectionForm | None = None
    errors: list[dict] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(self.state.label)


def _has_input(form: SectionForm) -> bool:
    """Whether anything is stored or kept as typed in the section (the form's data is
    what is stored with the pending input over it; an unticked box is absent)."""
    return any(value.strip() for _name, values in form.data.lists() for value in values)


def section_status(application: Application, key: str, *, checked=False) -> SectionStatus:
    """The section's one state, in one place for the page, its task list and the autosave's
    answer, from what is stored and how it validates:

    - complete: it passes the submission's check and nothing typed waits to be corrected;
    - has errors: something typed or stored breaks a rule; once a submission was refused
      (`checked`), a required field left empty too, and the form shows those messages;
    - not started: nothing stored or typed; in progress: the rest.
    """
    title = str(SECTIONS[key])
    if key == "F":
        return _documents_status(application, title)
    form = section_form(application, key)
    if not application.pending_input.get(key) and form.passes_strict():
        state = SectionState.COMPLETE
    elif checked:
        state = SectionState.HAS_ERRORS
        form = section_form(application, key, strict=True)
    elif form.errors:
        state = SectionState.HAS_ERRORS
    elif _has_input(form):
        state = SectionState.IN_PROGRESS
    else:
        state = SectionState.NOT_STARTED
    errors = form.error_summary() if checked else []
    return SectionStatus(key=key, title=title, state=state, form=form, errors=errors)


def _documents_status(application: Application, title: str) -> SectionStatus:
    """F: complete when no document of the checklist is missing; has errors when a missing
    one was rejected (the family must send it again); not started before any upload."""
    missing = documents.missing(application)
    uploaded = list(application.documents.all())
    if not missing:
        state = SectionState.COMPLETE
    elif not uploaded:
        state = SectionState.NOT_STARTED
    elif any(
        doc.status == Document.Status.REJECTED and (doc.doc_type, doc.flag) in missing
        for doc in uploaded
    ):
        state = SectionState.HAS_ERRORS
    else:
        state = SectionState.IN_PROGRESS
    return SectionStatus(key="F", title=title, state=state)


def read_only_states(
    application: Application, *, complete: dict[str, bool], has_values: dict[str, bool]
) -> dict[str, SectionStatus]:
    """The sections' states on the read-only application page by the rules of
    `section_status`, without a form per section (issue 18): complete as the submission
    checks it (`complete`, services.section_complete); has errors while typed input waits to
    be corrected (it is kept apart only when its section did not validate); otherwise in
    progress or not started by whether anything is stored (`has_values`, the read model)."""
    states = {}
    for key in SECTIONS:
        title = str(SECTIONS[key])
        if key == "F":
            states[key] = _documents_status(application, title)
            continue
        if complete[key]:
            state = SectionState.COMPLETE
        elif application.pending_input.get(key):
            state = SectionState.HAS_ERRORS
        elif has_values[key]:
            state = SectionState.IN_PROGRESS
        else:
            state = SectionState.NOT_STARTED
        states[key] = SectionStatus(key=key, title=title, state=state)
    return states


def application_sections(application: Application, *, checked=False) -> list[SectionStatus]:
    """Every section of the application page in the standard's order (F included)."""
    return [section_status(application, key, checked=checked) for key in SECTIONS]


def submission_errors(application: Application) -> list[dict]:
    """Every field that keeps the draft from being submitted, across all sections, as the
    error summary's entries (what services.application_submit refuses)."""
    return [
        error
        for status in application_sections(application, checked=True)
        for error in status.errors
    ]
