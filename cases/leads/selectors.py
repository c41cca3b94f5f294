"""Reads of the call-back requests: a member's list (masked) and one lead's page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from cases import access
from cases.models import Lead
from organizations import regions


def masked_name(name: str) -> str:
    """王大明 -> 王**: enough to tell requests apart in a list, not to name a family."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def masked_phone(phone: str) -> str:
    """13800138000 -> 138****8000, as the family notifier's log shows a number."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    name: str
    phone: str
    region: str


def member_leads(user, *, state: str = ""):
    """The member's leads, newest first, with their category and application (no query
    per row); `state` filters."""
    leads = access.leads_of(user).select_related("category", "application")
    if state:
        leads = leads.filter(state=state)
    return leads.order_by("-created_at", "-id")


def rows(leads) -> list[LeadRow]:
    return [
        LeadRow(
            lead=lead,
            name=masked_name(lead.name),
            phone=masked_phone(lead.phone),
            region=regions.name_of(lead.region) if lead.region else "",
        )
        for lead in leads
    ]


def state_counts(user) -> list[tuple[str, str, int]]:
    found = dict(
        access.leads_of(user)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return [(value, label, found.get(value, 0)) for value, label in Lead.State.choices]


def lead_history(lead: Lead):
    return lead.events.select_related("actor").order_by("at", "pk")
