"""A report made in the background (reports/tasks.py): what was asked, how far it got, the file."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import private_storage


class ReportRun(models.Model):
    """One report file asked for by the secretariat, made by a task, kept in private storage
    (it may hold personal data) and served only to whoever asked for it."""

    class Kind(models.TextChoices):
        ALLIANCE = "alliance", _("Alliance report")
        AUTHORITIES = "authorities", _("Report to the authorities")

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("report"), max_length=12, choices=Kind)
    period = models.CharField(_("period"), max_length=8)
    format = models.CharField(_("format"), max_length=4, choices=Format)
    full_ids = models.BooleanField(_("full ID numbers"), default=False)
    language = models.CharField(max_length=10, default="zh-hans")
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file = models.FileField(storage=private_storage, upload_to="reports/%Y/%m/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="reports_run_progress_percent"
            ),
            # Full ID numbers exist only in the report to authorities (§5: masked elsewhere).
            models.CheckConstraint(
                condition=Q(full_ids=False) | Q(kind="authorities"),
                name="reports_run_full_ids_for_authorities",
            ),
        ]
        indexes = [
            # The dashboard's "your recent reports".
            models.Index(fields=["requested_by", "-created_at"], name="reports_run_user_created"),
        ]

    def __str__(self):
        return f"{self.kind} {self.period} {self.format} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def filename(self) -> str:
        return file_name(self.kind, self.period, self.format, full_ids=self.full_ids)


def file_name(kind: str, period: str, fmt: str, *, full_ids: bool = False) -> str:
    stem = "alliance-report" if kind == ReportRun.Kind.ALLIANCE else "authorities"
    return f"{stem}-{period}{'-full-ids' if full_ids else ''}.{fmt}"


# --- the kept aggregates of the alliance report (reports/aggregates.py) ---------------------
#
# Kept exact by the services: each service that changes a figure calls
# reports.aggregates.refresh(application) in its own transaction, which adds the difference
# between the application's new contribution and the one it last added (ApplicationShare).
# Plain ids instead of foreign keys, so that a member or a project can still be deleted.
# `month` is the local month of submission in China as one number, year * 12 + month - 1
# (reports.aggregates.month_index). A group's key has no NULL (0 or "" for none) so that it
# is unique on every database and a delta is one INSERT … ON CONFLICT DO UPDATE.


class ApplicationFigure(models.Model):
    """Applications submitted in a month, by member, disease category (0: none) and the
    child's province: how many, how many routed, how many funded."""

    month = models.IntegerField()
    member_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    province = models.CharField(max_length=2)
    received = models.IntegerField()
    routed = models.IntegerField()
    funded = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "member_id", "category_id", "province"],
                name="reports_appfig_key",
            )
        ]

    def __str__(self):
        return f"{self.month} {self.member_id} {self.received}"


class ReviewFigure(models.Model):
    """Member reviews of the applications submitted in a month, by member, state and
    decline reason ("": none)."""

    month = models.IntegerField()
    member_id = models.BigIntegerField()
    state = models.CharField(max_length=20)
    decline_reason = models.CharField(max_length=30)
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "member_id", "state", "decline_reason"],
                name="reports_reviewfig_key",
            )
        ]

    def __str__(self):
        return f"{self.month} {self.member_id} {self.state} {self.count}"


class PledgeFigure(models.Model):
    """The pledges of one child's applications submitted in a month, by member, project
    (0: none), category (0: none) and province: a child counts once however the rows are
    added up."""

    month = models.IntegerField()
    member_id = models.BigIntegerField()
    project_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    province = models.CharField(max_length=2)
    child_id = models.BigIntegerField()  # the child's identity (cases.ChildIdentity)
    pledges = models.IntegerField()
    pledged = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "member_id", "project_id", "category_id", "province", "child_id"],
                name="reports_pledgefig_key",
            )
        ]

    def __str__(self):
        return f"{self.month} {self.member_id} {self.child_id} {self.pledged}"


class ApplicationTiming(models.Model):
    """An application's submission, first decision and first payment (for the medians),
    for every application with a decision or a payment."""

    month = models.IntegerField()
    application_id = models.BigIntegerField(unique=True)
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True)
    paid_on = models.DateField(null=True)
    decision_us = models.BigIntegerField(null=True)  # decided_at - submitted_at
    payment_days = models.IntegerField(null=True)  # paid_on - the local day of submission

    class Meta:
        indexes = [models.Index(fields=["month"], name="reports_timing_month")]

    def __str__(self):
        return f"{self.month} {self.application_id}"


class ApplicationShare(models.Model):
    """What one application last added to the figures' groups (reports.aggregates): its
    row is also the lock that orders two changes of the same application's figures."""

    application_id = models.BigIntegerField(primary_key=True)
    groups = models.JSONField(default=list)

    def __str__(self):
        return f"share of {self.application_id}"


class AggregateStamp(models.Model):
    """The one row that says the aggregates were built (`rebuild_report_aggregates`) and are
    kept since: without it the report reads the live tables."""

    rebuilt_at = models.DateTimeField()
    seconds = models.FloatField()

    def __str__(self):
        return f"report aggregates of {self.rebuilt_at:%Y-%m-%d %H:%M}"
