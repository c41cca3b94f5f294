"""The treating hospital's confirmation of an application's medical sections (issue 17).

The hospital's staff (organizations.User.Role.HOSPITAL_STAFF) confirm the diagnosis
(D01-D03), the treatment plan (D07) and the cost estimate (D08) as entered by the member's
caseworker, or correct them with a reason. Each confirmation or correction is one row here;
the application points at its latest (Application.hospital_confirmation), which the inbox,
the application page and the family's status page read without a further query.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.application import Application
from organizations.models import Hospital


class HospitalConfirmation(models.Model):
    """医院确认: one hospital user's confirmation, or correction, of the medical sections."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed as entered")
        CORRECTED = "corrected", _("Corrected by the hospital")

    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="hospital_confirmations",
        verbose_name=_("application"),
    )
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="+", verbose_name=_("hospital")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    # field name -> [before, after], as the application's history keeps its changes.
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("hospital confirmation")
        verbose_name_plural = _("hospital confirmations")
        ordering = ["at", "pk"]
        constraints = [
            # A correction says why (issue 17: "or correct them with a reason").
            models.CheckConstraint(
                condition=~Q(kind="corrected") | ~Q(reason=""),
                name="cases_hospital_correction_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.application_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
