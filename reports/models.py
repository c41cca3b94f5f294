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
