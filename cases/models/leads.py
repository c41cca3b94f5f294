"""Call-back requests from the public pre-check (standard.md §3 "联系我"): a family asks one
member to contact it; the request is that member's lead and no other member's."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.application import Application
from organizations.models import DiseaseCategory, MemberOrganization


class Lead(models.Model):
    class State(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        APPLICATION = "application", _("Became an application")
        CLOSED = "closed", _("Closed")

    class ClosingReason(models.TextChoices):
        NOT_REACHABLE = "not_reachable", _("The family could not be reached")
        NOT_ELIGIBLE = "not_eligible", _("None of our projects fits")
        NO_LONGER_NEEDED = "no_longer_needed", _("The family no longer needs help")
        DUPLICATE = "duplicate", _("A duplicate of another request")
        SPAM = "spam", _("Not a real request")
        OTHER = "other", _("Other")

    OPEN_STATES = ("new", "contacted")

    member = models.ForeignKey(
        MemberOrganization,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("member organisation"),
    )
    # Personal data (PIPL): shown masked in lists, in full on the lead's page to its
    # member's staff, and cleared by the retention command (cases.privacy.retention).
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("mobile phone"), max_length=11)
    region = models.CharField(_("region"), max_length=6)
    category = models.ForeignKey(
        DiseaseCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("illness")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    consented_at = models.DateTimeField(_("consent to be contacted given at"))
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.NEW)
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("application"),
    )
    closing_reason = models.CharField(
        _("closing reason"), max_length=20, choices=ClosingReason, blank=True
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("call-back request")
        verbose_name_plural = _("call-back requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The member's list, newest first, and the same by state.
            models.Index(fields=["member", "-created_at", "-id"], name="cases_lead_member_created"),
            models.Index(fields=["member", "state", "-created_at"], name="cases_lead_member_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="application") | Q(application__isnull=False),
                name="cases_lead_application_named",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(closing_reason=""),
                name="cases_lead_closing_has_reason",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.member_id} {self.state}"


class LeadEvent(models.Model):
    """One change of a lead: who (None: the family, who has no account), when, from, to."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.lead_id} {self.from_state}->{self.to_state}"
