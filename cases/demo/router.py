"""Routing and a life for every review of the generated applications, in bulk, through
the review services' own builders (applicant_for, earlier_grants_of)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from aid_alliance.money import ZERO
from cases.demo.bulk import insert
from cases.demo.people import HOSPITALS
from cases.models import (
    Allocation,
    Application,
    MemberReview,
    OtherAid,
    Payment,
    Receipt,
    ReviewEvent,
)
from cases.review import services as review_services
from organizations import regions, selectors
from organizations.eligibility import evaluate, results_as_data
from organizations.models import AidProject, MemberOrganization

# Applications routed (and their reviews held in memory) at a time: about 8 reviews of
# 1.5 kB of eligibility snapshot and 2-3 events each per application.
ROUTE_CHUNK = 1000

State = MemberReview.State
DAY = timedelta(days=1)
# What became of a review, by whether its time limit has passed and whether the member has
# an eligible project (weights). Inside the time limit most reviews still wait; after it,
# a member decided on what it can fund, declined or let expire the rest.
OPEN_STATES = (State.PENDING, State.IN_REVIEW, State.INFO_REQUESTED, State.APPROVED, State.DECLINED)
OPEN_ELIGIBLE = (40, 30, 10, 12, 8)
OPEN_NOT_ELIGIBLE = (50, 25, 3, 0, 22)
PAST_STATES = (State.APPROVED, State.DECLINED, State.EXPIRED, State.INFO_REQUESTED)
PAST_ELIGIBLE = (45, 27, 24, 4)
PAST_NOT_ELIGIBLE = (1, 56, 42, 1)
DECLINE_ELIGIBLE = (
    ("funded_elsewhere", 20),
    ("no_budget", 35),
    ("documents", 20),
    ("not_reachable", 15),
    ("other", 10),
)
REQUESTED_ITEMS = (
    "请补充最近三个月的住院费用清单。",
    "请补充加盖医院公章的诊断证明。",
    "请补充村（居）委会出具的家庭经济困难证明。",
    "请补充监护人身份证反面照片。",
    "请补充主治医生签字的治疗方案及费用预估。",
)
IN_KIND_HELP = (
    "提供凝血因子 12 个月用量",
    "安排康复训练 20 次",
    "提供营养包与药品",
    "陪护与心理支持服务",
)
# The money side (§4): a grant decided at least PAY_AFTER ago has its receipt allocated and
# paid, except UNPAID_SHARE of them (bills not in yet).
PAY_AFTER = timedelta(days=10)
UNPAID_SHARE = 0.25
# Families withdraw a few applications nobody funded; some fully paid ones are closed.
WITHDRAWN_SHARE = 0.04
CLOSED_WHEN_PAID_SHARE = 0.5
HUNDRED, ONE = Decimal(100), Decimal(1)
# Processes generating at once on PostgreSQL: the Python side is most of the work and each
# worker waits on the database part of the time, so a few more than the cores (2 here).
DEFAULT_WORKERS = 4


class Bills:
    """Receipts, allocations and payments of a chunk, saved once its reviews have keys."""

    def __init__(self):
        self.receipts, self.allocations, self.payments = [], [], []

    def save(self) -> None:
        insert(Receipt, self.receipts)
        insert(Allocation, self.allocations)
        insert(Payment, self.payments)


class Router:
    """cases.review.services.route for many applications at once, and a life for every review.

    The snapshot is the one route stores (organizations.eligibility.evaluate for every
    open project with rules, as results_as_data, with the project's names, grouped by
    member). The applicant is review.services.applicant_for's, its reads (the children's
    earlier grants: review.services.earlier_grants_of; the other aid) made once per chunk.
    Pledges of another application of the same child in the same chunk are not seen
    (generated children have one application each).
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        now: datetime,
        reviewers: dict[int, list[int]],
        part: tuple[int, int] = (0, 1),
    ):
        self.rng = rng
        self.now = now
        # Worker `part[0]` of `part[1]` draws only receipt numbers ≡ part[0] (mod part[1]),
        # so that workers running at once never draw the same one.
        self.part = part
        self.reviewers = reviewers  # member id -> ids of the users who decide
        self.members = list(MemberOrganization.objects.filter(is_active=True).order_by("number"))
        projects = list(AidProject.objects.open().with_rules().filter(current_rules__isnull=False))
        self.rules = [selectors.project_rules(p) for p in projects]
        self.projects = {m.pk: [p for p in projects if p.member_id == m.pk] for m in self.members}
        self.named = {
            p.code: {"name_zh": p.name_zh, "name_en": p.name_en, "kind": p.kind} for p in projects
        }
        self.labels = selectors.category_labels()
        self.states: Counter[str] = Counter()
        self.reviews = self.events = 0
        self.receipt_keys: set[tuple[str, str]] | None = None  # read at the first receipt

    # --- routing --------------------------------------------------------------------------

    def route(self, applications: list[Application]) -> None:
        for start in range(0, len(applications), ROUTE_CHUNK):
            self._route_chunk(applications[start : start + ROUTE_CHUNK])

    def _route_chunk(self, applications: list[Application]) -> None:
        earlier = review_services.earlier_grants_of(applications)
        other_aid = dict(
            OtherAid.objects.filter(application__in=[a.pk for a in applications])
            .values("application")
            .annotate(total=Sum("amount"))
            .values_list("application", "total")
        )
        results_of = []
        for application in applications:
            applicant = review_services.applicant_for(
                application,
                earlier=earlier.get(application.pk, ({}, {})),
                other_aid=other_aid.get(application.pk) or ZERO,
            )
            results_of.append(
                evaluate(
                    applicant,
                    self.rules,
                    category_labels=self.labels,
                    region_label=regions.name_of,
                )
            )
        # The reasons of the whole chunk in both languages at once (results_as_data).
        data = iter(results_as_data(r for results in results_of for r in results.values()))
        reviews, events, bills, ended = [], [], Bills(), []
        for application, results in zip(applications, results_of, strict=True):
            snapshots = {code: {**self.named[code], **next(data)} for code in results}
            province = application.child.household_region[:2]
            routed = [
                self._review(application, member, snapshots, province) for member in self.members
            ]
            reviews += routed
            first_event = len(events)
            # Members decide in no fixed order; together they pledge at most the need.
            aid = other_aid.get(application.pk) or ZERO
            room = max(
                (application.estimated_cost or ZERO) - application.coverage_total - aid, ZERO
            )
            for review in self.rng.sample(routed, len(routed)):
                room -= self._life(review, application, room, events, bills)
            if self._end(application, routed, events, first_event):
                ended.append(application)
        insert(MemberReview, reviews)
        insert(ReviewEvent, events)
        bills.save()
        Application.objects.bulk_update(
            ended, ["status", "closing_reason", "closed_at", "updated_at"], batch_size=1000
        )
        self.states.update(review.state for review in reviews)
        self.reviews += len(reviews)
        self.events += len(events)

    def _review(self, application, member, snapshots, province) -> MemberReview:
        snapshot = {p.code: snapshots[p.code] for p in self.projects[member.pk]}
        return MemberReview(
            application=application,
            member=member,
            eligibility=snapshot,
            any_eligible=any(item["eligible"] for item in snapshot.values()),
            category_id=application.category_id,
            province=province,
            routed_at=application.submitted_at,
            due_at=application.submitted_at + timedelta(days=member.review_days),
        )

    # --- what became of a review -------------------------------------------------------

    def _life(self, review, application, room: Decimal, events: list, bills: Bills) -> Decimal:
        """Move the review to a state that fits its age, with an event for every change
        (at times between routing and now); returns the amount it pledges."""
        rng = self.rng
        events.append(
            ReviewEvent(
                review=review,
                actor_id=application.created_by_id,  # who submitted, as route(by=...)
                to_state=State.PENDING,
                note=ReviewEvent.SystemNote.ROUTED,
                at=review.routed_at,
            )
        )
        eligible = review.any_eligible
        if self.now < review.due_at:
            states, weights = OPEN_STATES, OPEN_ELIGIBLE if eligible else OPEN_NOT_ELIGIBLE
        else:
            states, weights = PAST_STATES, PAST_ELIGIBLE if eligible else PAST_NOT_ELIGIBLE
        target = rng.choices(states, weights)[0]
        if target == State.PENDING:
            return ZERO
        reviewer = rng.choice(self.reviewers[review.member_id])
        start, end = review.routed_at, min(self.now, review.due_at)
        moments = sorted(start + (end - start) * rng.random() for _ in range(4))
        if target == State.EXPIRED:
            if rng.random() < 0.4:
                self._event(review, events, State.IN_REVIEW, moments[0], reviewer)
            expired = min(self.now, review.due_at + DAY * rng.random())  # the nightly job
            self._event(
                review, events, State.EXPIRED, expired, None, note=ReviewEvent.SystemNote.TIME_LIMIT
            )
            return ZERO
        if target in (State.IN_REVIEW, State.INFO_REQUESTED) or rng.random() < 0.85:
            self._event(review, events, State.IN_REVIEW, moments[0], reviewer)
        if target == State.IN_REVIEW:
            return ZERO
        if target == State.INFO_REQUESTED or rng.random() < 0.15:
            items = rng.choice(REQUESTED_ITEMS)
            self._event(review, events, State.INFO_REQUESTED, moments[1], reviewer, note=items)
            review.requested_items = items
            review.info_requested_at = moments[1]
            if target == State.INFO_REQUESTED:
                return ZERO
            # Answered by the caseworker: the clock was paused meanwhile.
            self._event(review, events, State.IN_REVIEW, moments[2], application.created_by_id)
            review.due_at += moments[2] - moments[1]
            review.info_requested_at = None
        review.decided_at, review.decided_by_id = moments[3], reviewer
        if target == State.APPROVED:
            pledged = self._approve(review, room)
            if pledged is not None:
                self._event(
                    review,
                    events,
                    State.APPROVED,
                    moments[3],
                    reviewer,
                    note=review.override_reason,
                )
                self._pay(review, application, events, bills)
                return pledged
        self._decline(review, funded=target == State.APPROVED)
        note = str(MemberReview.DeclineReason(review.decline_reason).label)
        self._event(review, events, State.DECLINED, moments[3], reviewer, note=note)
        return ZERO

    def _approve(self, review, room: Decimal) -> Decimal | None:
        """Choose a project and a pledge within the remaining need (None: nothing fits)."""
        rng = self.rng
        projects = self.projects[review.member_id]
        eligible = [p for p in projects if review.eligibility[p.code]["eligible"]]
        if not eligible:
            if not projects:
                return None
            eligible = [rng.choice(projects)]
            review.override_reason = "家庭困难情况特殊，经项目评审会讨论同意资助。"
        rng.shuffle(eligible)
        for project in eligible:
            if project.kind != AidProject.Kind.GRANT:
                review.project, review.description = project, rng.choice(IN_KIND_HELP)
                return ZERO
            suggested = review.eligibility[project.code]["suggested"] or 0
            amount = Decimal(suggested) if suggested > 0 else Decimal(rng.randint(50, 500) * 100)
            amount = min(amount, room)
            if amount > 0:
                review.project, review.amount = project, amount
                return amount
        review.override_reason = ""
        return None

    def _decline(self, review, *, funded: bool) -> None:
        if funded:  # meant to approve, but others have pledged the whole need
            review.decline_reason = MemberReview.DeclineReason.FUNDED_ELSEWHERE
        elif not review.any_eligible and self.rng.random() < 0.85:
            review.decline_reason = MemberReview.DeclineReason.NOT_ELIGIBLE
        else:
            reasons, weights = zip(*DECLINE_ELIGIBLE, strict=True)
            review.decline_reason = self.rng.choices(reasons, weights)[0]

    # --- the money side and the end of an application -----------------------------------

    def _between(self, start: datetime, days: float) -> datetime:
        """A moment up to `days` after `start`, never after now."""
        return min(self.now, start + timedelta(days=days * self.rng.random()))

    def _part(self, amount: Decimal) -> Decimal:
        """A part of an amount, in hundreds of yuan, leaving at least 100 for later."""
        if amount < 2 * HUNDRED:
            return amount
        part = (amount * Decimal(self.rng.uniform(0.3, 0.8)) / HUNDRED).quantize(ONE) * HUNDRED
        return min(max(part, HUNDRED), amount - HUNDRED)

    def _receipt_key(self, application, issued: date) -> tuple[str, str]:
        if self.receipt_keys is None:
            self.receipt_keys = set(Receipt.objects.values_list("code", "number"))
        code = f"{(application.hospital_region or '110000')[:6]}{issued:%y}"
        while True:
            worker, workers = self.part
            number = self.rng.randrange(10**10 // workers) * workers + worker
            key = (code, f"{number:010d}")
            if key not in self.receipt_keys:
                self.receipt_keys.add(key)
                return key

    def _pay(self, review, application, events, bills: Bills) -> None:
        """A grant decided long enough ago (§4): the child's receipt, its allocation to the
        pledge (all of it, or a part while bills come in) and one or two payments of what is
        allocated, all or a part; the review moves approved → paying → paid."""
        rng, amount = self.rng, review.amount
        if amount is None or self.now - review.decided_at < PAY_AFTER:
            return
        if rng.random() < UNPAID_SHARE:
            return
        allocated = amount if rng.random() < 0.8 else self._part(amount)
        paid = allocated if rng.random() < 0.7 else self._part(allocated)
        parts = [paid] if rng.random() < 0.6 else [first := self._part(paid), paid - first]
        parts = [part for part in parts if part > 0]
        recorded = self._between(review.decided_at, 6)
        issued = timezone.localdate(
            self._between(
                application.submitted_at, (review.decided_at - application.submitted_at).days
            )
        )
        self_paid = (allocated * Decimal(rng.uniform(0.2, 0.5))).quantize(ONE)
        co_payment = allocated - self_paid + Decimal(rng.randrange(0, 50)) * HUNDRED
        insurance = ((self_paid + co_payment) * Decimal(rng.uniform(0.5, 1.5))).quantize(ONE)
        code, number = self._receipt_key(application, issued)
        receipt = Receipt(
            code=code,
            number=number,
            child_id=application.child_id,
            application=application,
            hospital=application.treating_hospital or HOSPITALS[0][0],
            issued_on=issued,
            kind=rng.choice(Receipt.Kind.values),
            patient_number=f"ZY{rng.randrange(10**8):08d}",
            total=insurance + co_payment + self_paid,
            insurance_fund=insurance,
            co_payment=co_payment,
            self_paid=self_paid,
            allocated_total=allocated,
            recorded_by_id=review.decided_by_id,
            recorded_member_id=review.member_id,
            recorded_at=recorded,
        )
        bills.receipts.append(receipt)
        bills.allocations.append(
            Allocation(
                receipt=receipt,
                review=review,
                amount=allocated,
                created_by_id=review.decided_by_id,
                created_at=recorded,
            )
        )
        review.allocated_total, moment = allocated, recorded
        for part in parts:
            moment = self._between(moment, 20)
            hospital = (application.payee_kind or "hospital") == Application.PayeeKind.HOSPITAL
            bills.payments.append(
                Payment(
                    review=review,
                    paid_on=timezone.localdate(moment),
                    payee_kind=application.payee_kind or Application.PayeeKind.HOSPITAL,
                    payee_name=application.account_name or receipt.hospital,
                    bank_name=application.bank_name,
                    account_number=application.account_number,
                    amount=part,
                    method="hospital_settlement" if hospital else "bank_transfer",
                    bank_reference=f"TX{rng.randrange(10**10):010d}",
                    created_by_id=review.decided_by_id,
                    created_at=moment,
                )
            )
            review.paid_total += part
            to_state = State.PAID if review.paid_total >= amount else State.PAYING
            if to_state != review.state:
                self._event(
                    review,
                    events,
                    to_state,
                    moment,
                    review.decided_by_id,
                    note=ReviewEvent.SystemNote.PAYMENT,
                )

    def _end(self, application, routed, events, first_event: int) -> bool:
        """Withdraw a few applications nobody funded, close some fully paid ones (§3); True
        when the application changed."""
        rng = self.rng
        last = max((event.at for event in events[first_event:]), default=application.submitted_at)
        states = {review.state for review in routed}
        if states & set(MemberReview.PLEDGING_STATES):
            if states & set(MemberReview.OPEN_STATES) or states & {State.APPROVED, State.PAYING}:
                return False
            if rng.random() >= CLOSED_WHEN_PAID_SHARE:
                return False
            application.status = Application.Status.CLOSED
            application.closing_reason = rng.choice(
                (
                    Application.ClosingReason.TREATMENT_ENDED,
                    Application.ClosingReason.FUNDED_IN_FULL,
                )
            )
        elif rng.random() < WITHDRAWN_SHARE and self.now - last > timedelta(days=2):
            application.status = Application.Status.WITHDRAWN
            application.closing_reason = Application.ClosingReason.WITHDRAWN
        else:
            return False
        application.closed_at = application.updated_at = self._between(last, 30)
        for review in routed:
            if review.state in MemberReview.OPEN_STATES:
                self._event(
                    review,
                    events,
                    State.WITHDRAWN,
                    application.closed_at,
                    application.created_by_id,
                    note=ReviewEvent.SystemNote.WITHDRAWN,
                )
        return True

    @staticmethod
    def _event(review, events, to_state, at, actor_id, *, note="") -> None:
        events.append(
            ReviewEvent(
                review=review,
                actor_id=actor_id,
                from_state=review.state,
                to_state=to_state,
                note=note[:500],
                at=at,
            )
        )
        review.state = to_state
