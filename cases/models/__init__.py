"""The cases app's models: the application (standard.md §2) and its review (§3)."""

from cases.models.application import (
    AccessChainHead,
    AccessRecord,
    Application,
    ApplicationEvent,
    Child,
    ChildIdentity,
    Document,
    Guardian,
    OtherAid,
    Sex,
    private_storage,
)
from cases.models.bills import Allocation, Payment, Receipt
from cases.models.family import RequestedDocument
from cases.models.hospital import HospitalConfirmation
from cases.models.leads import Lead, LeadEvent
from cases.models.review import MemberReview, Pledged, ReviewCount, ReviewEvent

__all__ = [
    "AccessChainHead",
    "AccessRecord",
    "Allocation",
    "Application",
    "ApplicationEvent",
    "Child",
    "ChildIdentity",
    "Document",
    "Guardian",
    "HospitalConfirmation",
    "Lead",
    "LeadEvent",
    "MemberReview",
    "OtherAid",
    "Payment",
    "Pledged",
    "Receipt",
    "RequestedDocument",
    "ReviewCount",
    "ReviewEvent",
    "Sex",
    "private_storage",
]
