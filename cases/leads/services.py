"""Call-back requests (standard.md §3 "联系我"): every change of a lead is one function, one
transaction, one history row (LeadEvent). The family has no account: its request's row
names no actor."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from cases import events, notify
from cases.errors import InvalidInput, NotAllowed, WorkflowError
from cases.fields import as_querydict
from cases.intake import services as intake
from cases.intake.forms import region_initial
from cases.models import Lead, LeadEvent
from organizations.models import DiseaseCategory, MemberOrganization

State = Lead.State


def _record(lead: Lead, *, by, from_state: str, note: str = "") -> None:
    LeadEvent.objects.create(
        lead=lead, actor=by, from_state=from_state, to_state=lead.state, note=note[:300]
    )


@transaction.atomic
def lead_create(
    *,
    member: MemberOrganization,
    name: str,
    phone: str,
    region: str,
    category: DiseaseCategory,
    consent: bool,
    note: str = "",
) -> Lead:
    """A family asks `member` to contact it (from the public pre-check, no account)."""
    if not consent:
        raise InvalidInput(
            _("Tick the box to agree to be contacted: without it we cannot call."),
            field="consent",
        )
    if not member.is_active:
        raise WorkflowError(_("This charity does not take requests at the moment."))
    lead = Lead.objects.create(
        member=member,
        name=name.strip(),
        phone=phone,
        region=region,
        category=category,
        note=note.strip(),
        consented_at=timezone.now(),
    )
    _record(lead, by=None, from_state="")
    return lead


def _lock(lead: Lead, by) -> Lead:
    if not (getattr(by, "is_member_staff", False) and by.organization_id == lead.member_id):
        raise NotAllowed(_("Only the staff of the member the family asked work this request."))
    return Lead.objects.select_for_update().select_related("category", "member").get(pk=lead.pk)


def _refuse_unless_open(lead: Lead) -> None:
    if lead.state not in Lead.OPEN_STATES:
        raise WorkflowError(
            _("This request is %(state)s: it cannot be changed any more.")
            % {"state": lead.get_state_display()}
        )


@transaction.atomic
def lead_mark_contacted(*, lead: Lead, by, note: str = "") -> Lead:
    lead = _lock(lead, by)
    if lead.state != State.NEW:
        raise WorkflowError(_("Only a new request can be marked as contacted."))
    lead.state = State.CONTACTED
    lead.save(update_fields=["state", "updated_at"])
    _record(lead, by=by, from_state=State.NEW, note=note)
    return lead


@transaction.atomic
def lead_close(*, lead: Lead, reason: str, by, note: str = "") -> Lead:
    if reason not in Lead.ClosingReason.values:
        raise InvalidInput(_("Choose a closing reason from the list."), field="reason")
    lead = _lock(lead, by)
    _refuse_unless_open(lead)
    before = lead.state
    lead.state = State.CLOSED
    lead.closing_reason = reason
    lead.save(update_fields=["state", "closing_reason", "updated_at"])
    _record(lead, by=by, from_state=before, note=note or Lead.ClosingReason(reason).label)
    return lead


@transaction.atomic
def lead_open_application(*, lead: Lead, by):
    """A draft through the intake's own services, prefilled with what the family gave: the
    contact as guardian 1 (name and phone), the household's province and the illness. The
    lead names the application from now on; the family gets the reference by text."""
    lead = _lock(lead, by)
    _refuse_unless_open(lead)
    application = intake.application_create(by=by)
    prefill = {
        "A": region_initial("household", lead.region),
        "B": {"g1_name": lead.name, "g1_phone": lead.phone, "primary": "1"},
        "D": {"category": lead.category.code},
    }
    for section, data in prefill.items():
        intake.section_save(
            application=application, section=section, data=as_querydict(data), by=by
        )
    events.record_event(
        application=application,
        by=by,
        kind=events.Action.OPENED_FROM_LEAD,
        note=f"#{lead.pk}",
    )
    before = lead.state
    lead.state = State.APPLICATION
    lead.application = application
    lead.save(update_fields=["state", "application", "updated_at"])
    _record(lead, by=by, from_state=before, note=application.reference)
    with override("zh-hans"):  # families read Chinese, whatever the caseworker's language
        text = _(
            "%(member)s has opened an aid application for your child: reference "
            "%(reference)s. Your caseworker will call you about the papers."
        ) % {"member": lead.member.name_zh, "reference": application.reference}
        text = notify.family_text(text, reference=application.reference, submitted=False)
    phone = lead.phone
    transaction.on_commit(lambda: notify.family_notifier().send(phone=phone, text=text))
    return application
