"""The shared review workflow (standard.md §3): routing, every transition, the funding gap.

Every function is one transaction that locks what can race and writes a history row with
the acting user. Locks are always taken in the same order — the application, then its
reviews — so two members deciding at once cannot deadlock; the application's row lock is
what makes the funding-gap check hold when two members approve at the same instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from aid_alliance.money import ZERO, yuan
from cases import access, events, funding, notify
from cases.errors import InvalidInput, NotAllowed, WorkflowError, consent_withdrawn_refusal
from cases.models import Application, Document, MemberReview, RequestedDocument, ReviewEvent
from organizations import directory_cache, regions, selectors
from organizations.eligibility import Applicant, ProjectRules, evaluate, results_as_data
from organizations.models import AidProject, MemberOrganization
from reports import aggregates as report_aggregates

State = MemberReview.State
Action = events.Action
__all__ = ["NotAllowed", "WorkflowError"]  # raised here, defined in cases.errors


# --- eligibility for an application ----------------------------------------------------


def earlier_grants_of(applications) -> dict[int, tuple[dict, dict]]:
    """What each child's other applications already hold from each project, for many
    applications in one query (routing one, or the demo generator's thousands): by
    application id, all disease categories (for cumulative caps) and the application's own
    category (for once-per-child). An application without earlier grants is absent."""
    by_child: dict[int, list[Application]] = {}
    for application in applications:
        by_child.setdefault(application.child.identity_id, []).append(application)
    rows = (
        MemberReview.objects.pledging()
        .filter(application__child__identity_id__in=list(by_child), project__isnull=False)
        .values("application_id", "application__child__identity_id", "application__category_id")
        .annotate(code=F("project__code"), total=Sum("amount"))
    )
    grants: dict[int, tuple[dict, dict]] = {}
    for row in rows:
        code, total = row["code"], row["total"] or ZERO
        for application in by_child[row["application__child__identity_id"]]:
            if application.pk == row["application_id"]:
                continue
            every, this_category = grants.setdefault(application.pk, ({}, {}))
            every[code] = every.get(code, ZERO) + total
            if row["application__category_id"] == application.category_id:
                this_category[code] = this_category.get(code, ZERO) + total
    return grants


def applicant_for(
    application: Application,
    *,
    pledged: Decimal = ZERO,
    earlier: tuple[dict, dict] | None = None,
    other_aid: Decimal | None = None,
) -> Applicant:
    """The application as the eligibility engine reads it. `earlier` (earlier_grants_of's
    entry) and `other_aid` may be given by a caller that read them for many at once."""
    if earlier is None:
        earlier = earlier_grants_of([application]).get(application.pk, ({}, {}))
    every, this_category = earlier
    child = application.child
    on = timezone.localdate(application.submitted_at) if application.submitted_at else None
    return Applicant(
        dob=child.dob,
        application_date=on or timezone.localdate(),
        category=application.category.code if application.category_id else "",
        icd=application.icd,
        household_region=child.household_region,
        registration=child.registration,
        hospital_region=application.hospital_region,
        flags=frozenset(application.economic_flags or []),
        household_size=application.household_size or 1,
        household_income=application.annual_income or ZERO,
        plan=application.treatment_plan or {},
        estimated_cost=application.estimated_cost or ZERO,
        coverage=application.coverage_total,
        other_aid=application.other_aid_total if other_aid is None else other_aid,
        earlier_grants=every,
        earlier_grants_this_category=this_category,
        pledged=pledged,
    )


@dataclass(frozen=True)
class RoutedProject:
    """An open project with current rules, as routing reads it: its member, its engine
    rules and the part of each review's snapshot that names it."""

    member_id: int
    rules: ProjectRules
    named: dict


@dataclass(frozen=True)
class Routing:
    """Who an application is routed to: the active members (id, review days) in number
    order, and the open projects with current rules."""

    members: tuple[tuple[int, int], ...]
    projects: tuple[RoutedProject, ...]


def _routing() -> Routing:
    members = MemberOrganization.objects.filter(is_active=True).order_by("number")
    projects = AidProject.objects.open().with_rules().filter(current_rules__isnull=False)
    return Routing(
        members=tuple(members.values_list("pk", "review_days")),
        projects=tuple(
            RoutedProject(
                member_id=p.member_id,
                rules=selectors.project_rules(p),
                named={"name_zh": p.name_zh, "name_en": p.name_en, "kind": p.kind},
            )
            for p in projects
        ),
    )


def routing(state: directory_cache.DirectoryState) -> Routing:
    """The members and projects routing reads, built once per version of the directory
    (organizations.directory_cache): a published rule, a saved member or project moves the
    version, so the next submission builds it afresh. Read inside the submission's
    transaction, after its locks: a rule version committed before is seen, as when every
    submission read the projects itself."""
    return directory_cache.cached(state, ("routing",), _routing)


def route(
    application: Application, *, by, records: Sequence[int] | None = None
) -> list[MemberReview]:
    """Create one review per active member with its eligibility snapshot (§3).

    Called by services.application_submit inside its transaction: routing and submission
    succeed or fail together. Each project is evaluated once, whichever members there are.
    `records`: the ids of every application of the child, when the caller read them
    under the identity's lock; the child's first application has no earlier grants, and
    their query is left out (issue 18).
    """
    if application.consent_withdrawn_at is not None:
        # PIPL art. 15: no further sharing once the guardian has withdrawn consent.
        raise WorkflowError(consent_withdrawn_refusal())
    state = directory_cache.directory_state()
    plan = routing(state)
    first = records is not None and list(records) == [application.pk]
    results = evaluate(
        applicant_for(application, earlier=({}, {}) if first else None),
        [p.rules for p in plan.projects],
        category_labels=state.labels,
        region_label=regions.name_of,
    )
    snapshots = dict(zip(results, results_as_data(results.values()), strict=True))
    now = timezone.now()
    province = application.child.household_region[:2]
    reviews = []
    for member_id, review_days in plan.members:
        snapshot = {
            p.rules.code: {**p.named, **snapshots[p.rules.code]}
            for p in plan.projects
            if p.member_id == member_id
        }
        reviews.append(
            MemberReview(
                application=application,
                member_id=member_id,
                eligibility=snapshot,
                any_eligible=any(item["eligible"] for item in snapshot.values()),
                category_id=application.category_id,
                province=province,
                due_at=now + timedelta(days=review_days),
            )
        )
    reviews = MemberReview.objects.bulk_create(reviews)
    ReviewEvent.objects.bulk_create(
        ReviewEvent(
            review=review, actor=by, to_state=State.PENDING, note=ReviewEvent.SystemNote.ROUTED
        )
        for review in reviews
    )
    return reviews


# --- who may move a review ---------------------------------------------------------------


def _require_owner_staff(application: Application, user) -> None:
    if not access.is_own_staff(user, application):
        raise NotAllowed(
            _("Only the staff of the member that entered the application can do this.")
        )


def _lock(review: MemberReview) -> tuple[Application, MemberReview]:
    application = Application.objects.select_for_update().get(pk=review.application_id)
    review = MemberReview.objects.select_for_update().select_related("member").get(pk=review.pk)
    return application, review


def _check_move(review, to_state, *, allowed_from):
    if review.state not in allowed_from:
        raise WorkflowError(
            _("This review is %(state)s: it cannot be moved to %(to)s.")
            % {"state": review.get_state_display(), "to": State(to_state).label}
        )


def _move(review, to_state, *, by, allowed_from, note="", internal_note=""):
    _check_move(review, to_state, allowed_from=allowed_from)
    ReviewEvent.objects.create(
        review=review,
        actor=by,
        from_state=review.state,
        to_state=to_state,
        note=note[:500],
        internal_note=internal_note[:500],
    )
    review.state = to_state


def _tell_caseworker(application, subject, body):
    creator = application.created_by
    transaction.on_commit(lambda: notify.email_staff(creator, subject, body))


def _tell_family(application, text):
    """Callers build `text` under override("zh-hans"): families read Chinese, whatever
    language the acting staff member uses."""
    primary = application.guardians.filter(is_primary=True).first()
    if primary and primary.phone:
        phone = primary.phone
        # Every text names the reference and the status page's address (issue 17).
        text = notify.family_text(text, reference=application.reference)
        transaction.on_commit(lambda: notify.family_notifier().send(phone=phone, text=text))


# --- transitions ---------------------------------------------------------------------


@transaction.atomic
def review_take(*, review: MemberReview, by, note: str = "") -> MemberReview:
    application, review = _lock(review)
    access.require_decider(by, review)
    _move(review, State.IN_REVIEW, by=by, allowed_from=(State.PENDING,), internal_note=note)
    review.save(update_fields=["state"])
    report_aggregates.refresh(application)
    return review


@transaction.atomic
def review_request_info(
    *, review: MemberReview, items: str, by, note: str = "", documents: Sequence[str] = ()
) -> MemberReview:
    """Ask for documents or answers; the decision clock pauses until they come.

    `documents` are kinds of the standard's document list (§2 F): the family's status page
    lists them and takes a photo or PDF for each (cases.family.services)."""
    documents = list(dict.fromkeys(documents))  # each kind once, in the order given
    if any(kind not in Document.Type.values for kind in documents):
        raise InvalidInput(_("Choose the documents from the list."), field="documents")
    if not items.strip() and not documents:
        # The input is refused at its field before anything is locked.
        raise InvalidInput(_("Say which documents or answers are needed."), field="items")
    application, review = _lock(review)
    access.require_decider(by, review)
    if not items.strip():
        with override("zh-hans"):  # what every member and the family read
            items = "、".join(str(Document.Type(kind).label) for kind in documents)
    _move(
        review,
        State.INFO_REQUESTED,
        by=by,
        allowed_from=(State.PENDING, State.IN_REVIEW),
        note=items,
        internal_note=note,
    )
    review.requested_items = items.strip()
    review.info_requested_at = timezone.now()
    review.save(update_fields=["state", "requested_items", "info_requested_at"])
    RequestedDocument.objects.bulk_create(
        RequestedDocument(review=review, doc_type=kind, position=n)
        for n, kind in enumerate(documents)
    )
    _tell_caseworker(
        application,
        _("%(member)s needs more information for %(reference)s")
        % {"member": review.member.name_zh, "reference": application.reference},
        items,
    )
    with override("zh-hans"):
        if documents:
            text = _(
                "Application %(reference)s: more documents are needed. You can send photos "
                "of them from the status page, or give them to your caseworker."
            )
        else:
            text = _(
                "Application %(reference)s: more documents are needed. "
                "Your caseworker will contact you."
            )
        _tell_family(application, text % {"reference": application.reference})
    report_aggregates.refresh(application)
    return review


@transaction.atomic
def review_answer_info(*, review: MemberReview, by, note: str = "") -> MemberReview:
    """The caseworker has uploaded or edited what was asked: the review resumes. What the
    family sent from its status page must be checked first (accepted or rejected, §3)."""
    application, review = _lock(review)
    _require_owner_staff(application, by)
    open_items = RequestedDocument.objects.open().filter(review=review)
    if (
        review.state == State.INFO_REQUESTED
        and Document.objects.filter(
            family_request__in=open_items, status=Document.Status.RECEIVED
        ).exists()
    ):
        raise WorkflowError(
            _(
                "The family sent documents that are not checked yet: accept or reject each "
                "of them first, then answer the request."
            )
        )
    _move(review, State.IN_REVIEW, by=by, allowed_from=(State.INFO_REQUESTED,), note=note)
    # The clock was paused while the family gathered the papers.
    review.due_at += timezone.now() - review.info_requested_at
    review.info_requested_at = None
    review.save(update_fields=["state", "due_at", "info_requested_at"])
    open_items.update(answered_at=timezone.now())
    report_aggregates.refresh(application)
    return review


@transaction.atomic
def review_approve(
    *,
    review: MemberReview,
    project: AidProject | str,
    by,
    amount: Decimal | None = None,
    description: str = "",
    override_reason: str = "",
    note: str = "",
    check_only: bool = False,
) -> MemberReview:
    """Pledge a grant (amount) or in-kind/service help (description) from one project.

    `project` may be given by its code, as the page and the API post it: then an unknown
    code, or a grant without an amount, is refused at its field before anything is locked.
    With `check_only` every rule is checked and nothing is written: the page's
    confirmation step names the pledge only once it would be made.
    """
    if isinstance(project, str):
        project = _own_project(review, code=project, amount=amount)
    application, review = _lock(review)
    access.require_decider(by, review)
    if (
        review.member.require_hospital_confirmation
        and application.hospital_confirmation_id is None
        and not access.hospital_can_confirm(application)
    ):
        raise WorkflowError(
            _(
                "Your member approves only after the treating hospital has confirmed the "
                "application, and no hospital can confirm this one: the treating hospital (D06) "
                "is not picked from the hospital directory, or the guardian did not agree to "
                "share the application with it (H04). Ask the caseworker to correct that."
            )
        )
    if review.member.require_hospital_confirmation and application.hospital_confirmation_id is None:
        raise WorkflowError(
            _(
                "Your member approves only after the treating hospital has confirmed the "
                "diagnosis, treatment plan and cost estimate; the hospital has not confirmed "
                "this application yet."
            )
        )
    if project.member_id != review.member_id:
        raise WorkflowError(_("Choose one of your own member's projects."), field="project")
    snapshot = review.eligibility.get(project.code, {})
    if not snapshot.get("eligible") and not override_reason.strip():
        raise WorkflowError(
            _("%(project)s is not eligible here: give the reason for approving anyway.")
            % {"project": str(project)},  # code and name, in the page's language
            field="override_reason",
        )
    if project.kind == AidProject.Kind.GRANT:
        if amount is None or amount <= 0:
            raise WorkflowError(_("Give the amount of the grant."), field="amount")
        # The application's row is locked: a second approval waits here and then sees
        # this pledge, so together they can never exceed the need.
        room = funding.remaining_need(application, excluding=review)
        if amount > room:
            raise WorkflowError(
                _(
                    "The remaining need is %(room)s yuan: a pledge of %(amount)s yuan would go "
                    "beyond it. Revise the estimate first if the costs have grown."
                )
                % {"room": yuan(room), "amount": yuan(amount)},
                field="amount",
            )
        description = ""
    else:
        if not description.strip():
            raise WorkflowError(_("Describe the help this project gives."), field="description")
        amount = None
    if check_only:
        _check_move(review, State.APPROVED, allowed_from=(State.PENDING, State.IN_REVIEW))
        return review
    _move(
        review,
        State.APPROVED,
        by=by,
        allowed_from=(State.PENDING, State.IN_REVIEW),
        note=override_reason,
        internal_note=note,
    )
    review.project = project
    review.amount = amount
    review.description = description.strip()
    review.override_reason = override_reason.strip()
    review.decided_at = timezone.now()
    review.decided_by = by
    review.save()
    _decided(application, review)
    report_aggregates.refresh(application)
    return review


def _own_project(review: MemberReview, *, code: str, amount: Decimal | None) -> AidProject:
    project = AidProject.objects.filter(code=code, member_id=review.member_id).first()
    if project is None:
        raise InvalidInput(_("Choose one of your own member's projects."), field="project")
    if project.kind == AidProject.Kind.GRANT and amount is None:
        raise InvalidInput(
            _("Give the amount of the grant in yuan, e.g. 20000 or 20000.50."), field="amount"
        )
    return project


@transaction.atomic
def review_decline(*, review: MemberReview, reason: str, by, note: str = "") -> MemberReview:
    if reason not in MemberReview.DeclineReason.values:
        raise InvalidInput(_("Choose a reason from the list."), field="reason")
    application, review = _lock(review)
    access.require_decider(by, review)
    _move(
        review,
        State.DECLINED,
        by=by,
        allowed_from=(State.PENDING, State.IN_REVIEW),
        note=MemberReview.DeclineReason(reason).label,
        internal_note=note,
    )
    review.decline_reason = reason
    review.decided_at = timezone.now()
    review.decided_by = by
    review.save()
    _decided(application, review)
    report_aggregates.refresh(application)
    return review


def _decided(application, review):
    state = review.get_state_display()
    _tell_caseworker(
        application,
        _("%(member)s: %(state)s for %(reference)s")
        % {"member": review.member.name_zh, "state": state, "reference": application.reference},
        _("See the application page for the details."),
    )
    with override("zh-hans"):
        _tell_family(
            application,
            _("Application %(reference)s: %(member)s has decided (%(state)s).")
            % {
                "reference": application.reference,
                "member": review.member.name_zh,
                "state": review.get_state_display(),
            },
        )


# pg_advisory_xact_lock's key for reviews_expire (any constant unique in the project).
EXPIRY_LOCK = 0x41494401


def reviews_expire(*, now=None) -> int:
    """Expire reviews past their member's time limit; safe to run twice (or at once)."""
    now = now or timezone.now()
    expired, applications = 0, set()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One run at a time: two runs on disjoint reviews would still update the
            # members' review counts (cases_reviewcount, by trigger) in different orders and
            # deadlock. The second waits, then finds nothing left to expire.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPIRY_LOCK])
        due = (
            MemberReview.objects.select_for_update(skip_locked=True)
            .filter(state__in=(State.PENDING, State.IN_REVIEW), due_at__lt=now)
            .order_by("pk")
        )
        for review in due:
            _move(
                review,
                State.EXPIRED,
                by=None,
                allowed_from=(State.PENDING, State.IN_REVIEW),
                note=ReviewEvent.SystemNote.TIME_LIMIT,
            )
            review.save(update_fields=["state"])
            expired += 1
            applications.add(review.application_id)
        report_aggregates.refresh(applications)
    return expired


def _end_open_reviews(application, *, by, note):
    for review in application.reviews.select_for_update().filter(
        state__in=MemberReview.OPEN_STATES
    ):
        _move(review, State.WITHDRAWN, by=by, allowed_from=MemberReview.OPEN_STATES, note=note)
        review.save(update_fields=["state"])


@transaction.atomic
def application_withdraw(*, application: Application, by, note: str = "") -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk)
    _require_owner_staff(application, by)
    if application.status != Application.Status.SUBMITTED:
        raise WorkflowError(_("Only a submitted application can be withdrawn."))
    application.status = Application.Status.WITHDRAWN
    application.closing_reason = Application.ClosingReason.WITHDRAWN
    application.closed_at = timezone.now()
    application.save(update_fields=["status", "closing_reason", "closed_at", "updated_at"])
    _end_open_reviews(application, by=by, note=note or ReviewEvent.SystemNote.WITHDRAWN)
    events.record_event(application=application, by=by, kind=Action.WITHDRAWN, note=note)
    report_aggregates.refresh(application)
    return application


@transaction.atomic
def application_close(*, application: Application, reason: str, by, note: str = "") -> Application:
    if reason not in Application.ClosingReason.values:
        raise InvalidInput(_("Choose a closing reason from the list."), field="reason")
    application = Application.objects.select_for_update().get(pk=application.pk)
    _require_owner_staff(application, by)
    if application.status != Application.Status.SUBMITTED:
        raise WorkflowError(_("Only a submitted application can be closed."))
    application.status = Application.Status.CLOSED
    application.closing_reason = reason
    application.closed_at = timezone.now()
    application.save(update_fields=["status", "closing_reason", "closed_at", "updated_at"])
    _end_open_reviews(application, by=by, note=note or reason)
    events.record_event(
        application=application, by=by, kind=Action.CLOSED, note=f"{reason} {note}".strip()
    )
    report_aggregates.refresh(application)
    return application


@transaction.atomic
def application_revise_estimate(
    *, application: Application, estimated_cost: Decimal, by, note: str = ""
) -> Application:
    """A new hospital estimate (D08): the only way to widen the funding gap. Entered by
    the member's staff, or by the treating hospital's staff correcting D08 (issue 17,
    cases.hospital.services.hospital_correct); the pledges never exceed the new need."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not access.may_revise_estimate(by, application):
        raise NotAllowed(
            _("Only the staff of the member that entered the application can do this.")
        )
    if application.status != Application.Status.SUBMITTED:
        raise WorkflowError(_("Only a submitted, open application can have its estimate revised."))
    if estimated_cost is None or estimated_cost < 0:
        raise WorkflowError(_("Give the new estimate in yuan."))
    old = application.estimated_cost
    application.estimated_cost = estimated_cost
    funding.refuse_need_below_pledges(application)
    application.save(update_fields=["estimated_cost", "updated_at"])
    events.record_event(
        application=application,
        by=by,
        kind=Action.ESTIMATE_REVISED,
        section="D",
        changes={"estimated_cost": [str(old or ""), str(estimated_cost)]},
        note=note,
    )
    return application


# --- the guardian withdraws consent to sharing (H01; PIPL art. 15) -----------------------------

# The note of a review ended by a withdrawal of consent.
CONSENT_WITHDRAWN_NOTE = ReviewEvent.SystemNote.CONSENT_WITHDRAWN


@transaction.atomic
def consent_withdraw(*, application: Application, by, note: str) -> Application:
    """Record that the guardian withdrew consent to sharing with the alliance's members.

    Withdrawal does not undo what was done while consent held (PIPL art. 15): decisions,
    pledges, allocations and payments stay, and an approved pledge not yet paid may still be
    paid (paying the hospital is in the child's interest). From now on nothing is shared
    any further: the other members' open reviews end, routing is refused, and the other
    members see only the reference, the entering member and the withdrawal
    (cases.access.shared_data_withheld).
    """
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not access.may_withdraw_consent(by, application):
        raise NotAllowed(
            _(
                "Only the staff of the member that entered the application, or the "
                "secretariat, record a withdrawal of consent."
            )
        )
    note = (note or "").strip()
    if not note:
        raise WorkflowError(
            _("Say how the guardian withdrew consent (e.g. a signed letter, in person, by phone).")
        )
    if application.anonymised_at is not None:
        raise WorkflowError(_("This application has been anonymised: nothing is shared any more."))
    if application.consent_withdrawn_at is not None:
        raise WorkflowError(_("The guardian's withdrawal of consent is already recorded."))
    if application.status == Application.Status.DRAFT:
        raise WorkflowError(
            _("A draft has not been shared with anyone: untick consent H01 in section H instead.")
        )
    application.consent_withdrawn_at = timezone.now()
    application.consent_withdrawal_note = note[:300]
    application.save(
        update_fields=["consent_withdrawn_at", "consent_withdrawal_note", "updated_at"]
    )
    # The other members' open reviews end; the entering member's own review goes on (the
    # family applied to it). Locks: the application first, then its reviews, as above.
    for review in (
        application.reviews.select_for_update()
        .filter(state__in=MemberReview.OPEN_STATES)
        .exclude(member_id=application.member_id)
        .order_by("pk")
    ):
        _move(
            review,
            State.WITHDRAWN,
            by=by,
            allowed_from=MemberReview.OPEN_STATES,
            note=CONSENT_WITHDRAWN_NOTE,
        )
        review.save(update_fields=["state"])
    events.record_event(
        application=application, by=by, kind=Action.CONSENT_WITHDRAWN, section="H", note=note
    )
    report_aggregates.refresh(application)
    return application
