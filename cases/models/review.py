"""The shared review workflow (standard.md §3): one member review per member."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.utils.translation import gettext_lazy as _

from cases.models.application import ZERO, Application, money_field
from organizations.models import AidProject, DiseaseCategory, MemberOrganization


class MemberReviewQuerySet(models.QuerySet):
    def pledging(self):
        """Reviews whose pledge counts against the funding gap."""
        return self.filter(state__in=MemberReview.PLEDGING_STATES)

    def pledged_total(self):
        return self.pledging().aggregate(total=Sum("amount"))["total"] or ZERO

    def awaiting_decision(self):
        return self.filter(state__in=MemberReview.OPEN_STATES)


class MemberReview(models.Model):
    """成员审核: one member's decision on one application, in the open (§3)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_REVIEW = "in_review", _("In review")
        INFO_REQUESTED = "info_requested", _("Information requested")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")
        PAYING = "paying", _("Paying")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    class DeclineReason(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible", _("Not eligible under our projects")
        FUNDED_ELSEWHERE = "funded_elsewhere", _("Already funded by others")
        NO_BUDGET = "no_budget", _("No budget left this year")
        DOCUMENTS = "documents", _("Documents missing or not credible")
        NOT_REACHABLE = "not_reachable", _("Family could not be reached")
        OTHER = "other", _("Other")

    OPEN_STATES = ("pending", "in_review", "info_requested")
    PLEDGING_STATES = ("approved", "paying", "paid")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    member = models.ForeignKey(MemberOrganization, on_delete=models.PROTECT, related_name="reviews")
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.PENDING)
    # Snapshot at routing: project code -> {eligible, fails, reasons, suggested, rules_version}.
    eligibility = models.JSONField(default=dict)
    any_eligible = models.BooleanField(_("eligible for one of our projects"), default=False)
    # Copied at routing so that inbox filters use this table's indexes.
    category = models.ForeignKey(
        DiseaseCategory, on_delete=models.PROTECT, null=True, related_name="+"
    )
    province = models.CharField(max_length=2, blank=True)
    routed_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(_("decision due"))
    info_requested_at = models.DateTimeField(null=True, blank=True)
    requested_items = models.TextField(_("what is needed"), blank=True)
    project = models.ForeignKey(
        AidProject, on_delete=models.PROTECT, null=True, blank=True, related_name="reviews"
    )
    amount = money_field(_("pledged amount (yuan)"))
    description = models.CharField(_("in-kind or service description"), max_length=300, blank=True)
    override_reason = models.CharField(
        _("why approved although not eligible"), max_length=300, blank=True
    )
    decline_reason = models.CharField(_("reason"), max_length=20, choices=DeclineReason, blank=True)
    # Kept by cases.bills.services under the review's row lock (§4): what receipts were allocated to
    # this pledge and what was paid out, net of reversals.
    allocated_total = models.DecimalField(
        _("allocated to receipts (yuan)"), max_digits=12, decimal_places=2, default=ZERO
    )
    paid_total = models.DecimalField(
        _("paid (yuan)"), max_digits=12, decimal_places=2, default=ZERO
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = MemberReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("member review")
        verbose_name_plural = _("member reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "member"], name="cases_review_one_per_member"
            ),
            # A pledge is a positive amount, held only by a decision that pledges.
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="cases_review_amount_positive",
            ),
            # §4: allocations of a pledge ≤ the pledge; a member pays against receipts, so
            # what is paid ≤ what is allocated.
            models.CheckConstraint(
                condition=Q(allocated_total=0)
                | Q(amount__isnull=False, allocated_total__gt=0, allocated_total__lte=F("amount")),
                name="cases_review_allocated_within_pledge",
            ),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0) & Q(paid_total__lte=F("allocated_total")),
                name="cases_review_paid_within_allocated",
            ),
        ]
        indexes = [
            # The inbox's default order, and the same by state; then one per filter.
            models.Index(fields=["member", "routed_at", "id"], name="cases_review_member_routed"),
            models.Index(fields=["member", "state", "routed_at"], name="cases_review_inbox"),
            models.Index(fields=["member", "category", "state"], name="cases_review_category"),
            models.Index(fields=["member", "province", "state"], name="cases_review_province"),
            models.Index(fields=["member", "any_eligible", "state"], name="cases_review_eligible"),
            models.Index(fields=["state", "due_at"], name="cases_review_due"),
            # The staff list's "information requested" mark (intake.selectors): the planner
            # hashes every such review for the page's EXISTS; with this it reads the index
            # alone, not a heap block per review (issue 18: 259 ms at 100,000 applications).
            models.Index(
                fields=["application"],
                condition=Q(state="info_requested"),
                name="cases_review_info_requested",
            ),
            # The member's payments page: its pledges by state, newest decision first.
            models.Index(
                fields=["member", "state", "-decided_at"], name="cases_review_member_decided"
            ),
        ]

    def __str__(self):
        return f"{self.application_id} {self.member_id} {self.state}"


class ReviewEvent(models.Model):
    """One state change of a review: who, when, from, to, note (§3). An internal note is
    shown only to the reviewing member's staff."""

    class SystemNote(models.TextChoices):
        """The notes the system writes, each shown by its label in the history; any other
        note is a person's words (cleared when the application is anonymised). A review
        ended by the closing of its application carries the closing reason."""

        ROUTED = "routed", _("routed to the member")
        TIME_LIMIT = "time limit", _("no decision within the time limit")
        PAYMENT = "payment", _("payment recorded")
        PAYMENT_REVERSED = "payment reversed", _("payment reversed")
        CONSENT_WITHDRAWN = "consent withdrawn", _("the guardian withdrew consent to sharing")
        FUNDED_IN_FULL = (
            Application.ClosingReason.FUNDED_IN_FULL.value,
            Application.ClosingReason.FUNDED_IN_FULL.label,
        )
        TREATMENT_ENDED = (
            Application.ClosingReason.TREATMENT_ENDED.value,
            Application.ClosingReason.TREATMENT_ENDED.label,
        )
        WITHDRAWN = (
            Application.ClosingReason.WITHDRAWN.value,
            Application.ClosingReason.WITHDRAWN.label,
        )
        DECEASED = (
            Application.ClosingReason.DECEASED.value,
            Application.ClosingReason.DECEASED.label,
        )
        NOT_FUNDED = (
            Application.ClosingReason.NOT_FUNDED.value,
            Application.ClosingReason.NOT_FUNDED.label,
        )
        MERGED = Application.ClosingReason.MERGED.value, Application.ClosingReason.MERGED.label

    review = models.ForeignKey(MemberReview, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    note = models.CharField(max_length=500, blank=True)
    internal_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.review_id} {self.from_state}->{self.to_state}"


class ReviewCount(models.Model):
    """How many reviews each member has in each state: the inbox's counts in one small read
    at any size. Kept by the database itself (triggers of migration 0011 on every insert,
    update and delete of a review, COPY and bulk writes included), so no code path can
    forget it; tests compare it with a GROUP BY after every kind of write."""

    member = models.ForeignKey(MemberOrganization, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "state"], name="cases_reviewcount_unique")
        ]

    def __str__(self):
        return f"{self.member_id} {self.state} {self.n}"


class Pledged(models.Model):
    """What members have pledged to each application: the amounts of its reviews in
    PLEDGING_STATES, summed. The lists' funding gap reads it with each row, where a sum over
    the application's reviews for each row was a third of the inbox's read (0.17 of 0.46 ms
    in PostgreSQL at 100,000, issue 18). Kept by the database itself (triggers of migration
    0022 on every insert, update and delete of a review, as ReviewCount's), in the
    transaction that changes the review; tests compare it with the live sum after every
    kind of write. Services deciding on money still sum the reviews under their locks
    (MemberReviewQuerySet.pledged_total)."""

    application = models.OneToOneField(
        Application,
        # Written by the triggers only: no lock on the application, and Django deletes no
        # row of it (an application deleted with its reviews leaves its row at 0; deleting
        # it first, the reviews' trigger on PostgreSQL would write it again).
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="pledged",
        db_constraint=False,
    )
    total = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    def __str__(self):
        return f"{self.application_id} {self.total}"
