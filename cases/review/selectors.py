"""Reads of the review workflow (§3): a member's inbox, and what the application page
shows of the reviews."""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.timezone import localtime

from aid_alliance.compiled_reads import CompiledRead, padded
from cases import funding
from cases.models import Application, Document, MemberReview, ReviewEvent
from cases.templatetags.case_extras import review_note, state_label
from organizations.templatetags.org_extras import local_name, yuan


def inbox_queryset(member, filters: dict):
    """A member's reviews, filtered, oldest first: only this table and its indexes."""
    queryset = MemberReview.objects.filter(member=member).order_by("routed_at", "pk")
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("category"):
        queryset = queryset.filter(category=filters["category"])
    if filters.get("province"):
        queryset = queryset.filter(province=filters["province"])
    if filters.get("eligible"):
        queryset = queryset.filter(any_eligible=filters["eligible"] == "yes")
    if filters.get("hospital"):
        # 医院已确认 (issue 17): the treating hospital confirmed or corrected section D.
        queryset = queryset.filter(
            application__hospital_confirmation__isnull=filters["hospital"] != "yes"
        )
    if filters.get("waiting") is not None:
        queryset = queryset.filter(
            routed_at__lte=timezone.now() - timedelta(days=filters["waiting"])
        )
    return queryset


# What a row of the inbox reads: one query of values, no model instance per row.
_INBOX_VALUES = (
    "pk",
    "member_id",
    "state",
    "any_eligible",
    "routed_at",
    "due_at",
    "application_id",
    "application__reference",
    "application__member_id",
    "application__consent_withdrawn_at",
    "application__child__name",
    "application__hospital_confirmation__at",
    "application__hospital_confirmation__kind",
    "application__hospital_confirmation__hospital__name",
    "category__name_zh",
    "category__name_en",
    *funding.GAP_VALUES,
)


INBOX_PAGE = 25
# The page's rows by their ids, the member's own only: the SQL (a join of six tables and two
# sums) compiled once per process, the rows read afresh (issue 18).
_INBOX_READ = CompiledRead(
    MemberReview,
    lambda member_id, *ids: (
        funding.with_gap(MemberReview.objects.filter(member=member_id, pk__in=ids))
        .order_by()
        .values_list(*_INBOX_VALUES)
    ),
    size=1 + INBOX_PAGE,
)


def inbox_rows(member, ids: list[int]) -> list[dict]:
    """The inbox's rows for the reviews `ids` of `member` (at most INBOX_PAGE), in that
    order, with their funding gap: read as values, not model instances (issue 18), for the
    page's row renderer (cases.templatetags.list_rows.inbox_rows). Another member's review
    among `ids` is not read.

    The child's name is left out ("") when the guardian withdrew consent to sharing and the
    review is another member's (§5): only the entering member still sees it."""
    read = _INBOX_READ.rows(member.pk, *padded(ids, INBOX_PAGE))
    found = {values[0]: dict(zip(_INBOX_VALUES, values, strict=True)) for values in read}
    rows = []
    for pk in ids:
        row = found.get(pk)
        if row is None:
            continue
        withdrawn_at = row["application__consent_withdrawn_at"]
        own = row["member_id"] == row["application__member_id"]
        confirmed_at = row["application__hospital_confirmation__at"]
        rows.append(
            {
                "pk": pk,
                "member_id": row["member_id"],
                "application_id": row["application_id"],
                "reference": row["application__reference"],
                "child": row["application__child__name"] if own or not withdrawn_at else "",
                "withdrawn_at": withdrawn_at,
                "confirmation": None
                if confirmed_at is None
                else {
                    "hospital": row["application__hospital_confirmation__hospital__name"],
                    "at": confirmed_at,
                    "kind": row["application__hospital_confirmation__kind"],
                },
                "category": {
                    "name_zh": row["category__name_zh"],
                    "name_en": row["category__name_en"],
                }
                if row["category__name_zh"] is not None
                else None,
                "state": row["state"],
                "eligible": row["any_eligible"],
                "gap": funding.gap_of_values(row),
                "routed_at": row["routed_at"],
                "due_at": row["due_at"],
            }
        )
    return rows


def family_waiting(application: Application) -> dict[int, int]:
    """Per review, how many documents the family sent for its open request that nobody
    has checked yet: the caseworker's "needs your answer" (from the prefetched documents)."""
    waiting = Counter(
        document.family_request.review_id
        for document in application.documents.all()
        if document.awaits_check_from_family and document.family_request.answered_at is None
    )
    return dict(waiting)


class _Labels(dict):
    """Values to their labels, each label looked up and translated once per page."""

    def __init__(self, label):
        super().__init__()
        self.label = label

    def __missing__(self, value):
        self[value] = shown = self.label(value)
        return shown


def _day(moment) -> str:
    """A moment as the template's `date:"Y-m-d"` writes it (in the local time zone)."""
    return f"{localtime(moment):%Y-%m-%d}"


@dataclass(frozen=True)
class TimelineRow:
    """One line of the decisions' timeline, as the page writes it: each value formatted
    and translated once here, not through a template filter per line (issue 18)."""

    at: str
    member: str
    from_state: str
    to_state: str
    actor: str
    note: str
    internal_note: str  # only on the user's own member's review (§3)


def _timeline(reviews: list[MemberReview], own: MemberReview | None, states) -> list[TimelineRow]:
    """Every review's history in time order, in one query (the actor's name with it)."""
    names = {review.pk: review.shown_member for review in reviews}
    notes = _Labels(review_note)
    return [
        TimelineRow(
            at=f"{localtime(at):%Y-%m-%d %H:%M}",
            member=names[review_pk],
            from_state=states[from_state],
            to_state=states[to_state],
            actor=actor or "",
            note=notes[note] if note else "",
            internal_note=internal if own is not None and review_pk == own.pk else "",
        )
        for at, review_pk, from_state, to_state, note, internal, actor in (
            ReviewEvent.objects.filter(review__in=list(names))
            .order_by("at", "pk")
            .values_list(
                "at",
                "review_id",
                "from_state",
                "to_state",
                "note",
                "internal_note",
                "actor__username",
            )
        )
    ]


def _matrix_row(review: MemberReview, states) -> None:
    """The matrix's cells of one review, formatted once here, not through a template
    filter per cell (issue 18): set on the review as `shown_*`."""
    review.shown_member = local_name(review.member)
    review.shown_state = states[review.state]
    if review.state == MemberReview.State.INFO_REQUESTED:
        review.shown_state = f"{review.shown_state}: {review.requested_items}"
    review.shown_project = ""
    if review.project is not None:
        review.shown_project = f"{review.project.code} {local_name(review.project)}"
        if review.description:
            review.shown_project = f"{review.shown_project}: {review.description}"
    review.shown_amount = yuan(review.amount) if review.amount else ""
    review.shown_paid = yuan(review.paid_total) if review.amount else ""
    review.shown_date = _day(review.decided_at or review.routed_at)


def review_context(application: Application, user) -> dict:
    """The member matrix, the gap, the timeline and the user's own review, for the page."""
    reviews = list(application.reviews.select_related("member", "project"))
    reviews.sort(key=lambda r: r.member.number)
    states = _Labels(state_label)
    for review in reviews:
        _matrix_row(review, states)
    own = next(
        (r for r in reviews if user.is_member_staff and r.member_id == user.organization_id), None
    )
    timeline = _timeline(reviews, own, states)
    gap = funding.gap_summary(application, reviews)
    own_projects = []
    if own is not None:
        own_projects = [(code, item) for code, item in sorted(own.eligibility.items())]
    approve_form = {}
    if own is not None and own.state in (MemberReview.State.PENDING, MemberReview.State.IN_REVIEW):
        others = [r for r in reviews if r.pk != own.pk]
        approve_form = {
            **approve_form_values(own),
            "room": funding.gap_summary(application, others).gap,
        }
    return {
        "family_waiting": family_waiting(application),
        "requestable_documents": Document.Type.choices,
        "approve_form": approve_form,
        "reviews": reviews,
        "own_review": own,
        "own_projects": own_projects,
        "timeline": timeline,
        "need": gap.need,
        "pledged": gap.pledged,
        "gap": gap.gap,
        "decline_reasons": MemberReview.DeclineReason.choices,
        "closing_reasons": Application.ClosingReason.choices,
        "is_reviewer": user.role == user.Role.REVIEWER,
        "pledging_states": MemberReview.PLEDGING_STATES,
    }


def approve_context(review: MemberReview, user, *, data=None) -> dict:
    """What the approval form and its confirmation show: the member's projects with the
    suggested amount of each for this application (the routing's snapshot), the remaining
    funding gap (cases.funding, the one read model of it), and the values: those sent, or
    at first the first eligible project with its suggested amount."""
    application = review.application
    gap = funding.gap_summary(application)
    return {
        **approve_form_values(review, data=data),
        "application": application,
        "review": review,
        "member": review.member,
        "need": gap.need,
        "pledged": gap.pledged,
        "gap": gap.gap,
        "room": funding.remaining_need(application, excluding=review),
    }


def approve_form_values(review: MemberReview, *, data=None) -> dict:
    projects = [{"code": code, **item} for code, item in sorted((review.eligibility or {}).items())]
    first = next((p for p in projects if p.get("eligible")), projects[0] if projects else None)
    if data is None:
        suggested = first.get("suggested") if first else None
        values = {
            "project": first["code"] if first else "",
            "amount": "" if suggested is None else f"{suggested}",
        }
    else:
        values = {
            name: data.get(name, "")
            for name in ("project", "amount", "description", "override_reason", "note")
        }
    chosen = next((p for p in projects if p["code"] == values.get("project")), None)
    return {"projects": projects, "chosen": chosen, "values": values}
