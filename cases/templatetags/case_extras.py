import ast
from decimal import InvalidOperation

from django import template
from django.forms import DecimalField
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from cases import reveal
from cases.identity import mask_id_number
from cases.models import ApplicationEvent, Document, ReviewEvent
from cases.standard import FIELD_CODES
from organizations.eligibility import ECONOMIC_FLAGS

register = template.Library()


@register.filter
def masked(value) -> str:
    """ID and bank numbers on lists: first 6 and last 4 characters only (§5)."""
    return mask_id_number(str(value or ""))


@register.filter
def shown_value(bound_field, revealed=None) -> str:
    """What a bound field holds, as a person reads it (choice labels, not codes); ID and
    bank numbers masked unless named in `revealed` (cases.reveal)."""
    value = reveal.shown(bound_field.name, bound_field.value(), revealed or reveal.NOTHING)
    field = bound_field.field
    choices = dict(getattr(field, "choices", []) or [])
    if isinstance(value, list | tuple):
        return "、".join(str(choices.get(v, v)) for v in value)
    if hasattr(field, "queryset"):
        found = (
            field.queryset.filter(**{field.to_field_name or "pk": value}).first() if value else None
        )
        return str(found) if found else ""
    if value in (True, "on", "True"):
        return "✔"
    if value in (False, None, "", "False"):
        return "—" if value in (False, "False") else ""
    return str(choices.get(value, value))


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def document_label(doc_type: str, flag: str = "") -> str:
    label = str(Document.Type(doc_type).label)
    return f"{label}（{ECONOMIC_FLAGS[flag]}）" if flag in ECONOMIC_FLAGS else label


@register.filter
def event_label(action: str) -> str:
    """A history row's kind as a person reads it (ApplicationEvent.Action's label)."""
    if action in ApplicationEvent.Action.values:
        return str(ApplicationEvent.Action(action).label)
    return action


def _section_field(forms, section, name):
    """The field `name` of a section: from the section's form (edit page) or from the
    application page's read model (cases.intake.read_model.SectionView): both have
    `fields`, each with a label and choices."""
    form = (forms or {}).get(section)
    return form.fields.get(name) if form is not None else None


@register.simple_tag
def change_label(section: str, name: str, forms=None) -> str:
    """A changed field named by its standard code where it has one and by its label on
    the section's form ('B04 联系电话'), never by its field name (issue 16, finding 5)."""
    found = _section_field(forms, section, name)
    label = str(found.label) if found is not None and found.label else name
    field = name.split("_", 1)[1] if name[:1] == "g" and name[1:2] in "12" else name
    field = {
        "household_province": "household_region",
        "household_prefecture": "household_region",
        "household_county": "household_region",
        "hospital_province": "treating_hospital",
        "hospital_prefecture": "treating_hospital",
        "hospital_county": "treating_hospital",
    }.get(field, field)
    code = next(
        (code for code, f in FIELD_CODES.items() if code.startswith(section) and f == field), ""
    )
    if code and label.startswith(code):
        return label
    return f"{code} {label}".strip()


@register.simple_tag
def change_value(section: str, name: str, value, forms=None) -> str:
    """A changed value as the page shows it: a choice by its label, yes/no in words."""
    if isinstance(value, str) and value.startswith("["):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
    if value in (None, "", []):
        return "—"
    found = _section_field(forms, section, name)
    if isinstance(value, bool) or value in ("True", "False"):
        return str(_("Yes") if value in (True, "True") else _("No"))
    if isinstance(found, DecimalField) or getattr(found, "is_money", False):
        try:  # money as every page writes it (issue 16)
            return money.yuan(value)
        except (InvalidOperation, ValueError, TypeError):
            return str(value)
    choices = dict(getattr(found, "choices", None) or []) if found is not None else {}
    values = value if isinstance(value, list) else [value]
    shown = [str(choices.get(item, choices.get(str(item), item))) for item in values]
    return "、".join(shown)


@register.filter
def state_label(value: str) -> str:
    """A review state as a person reads it; '—' for none."""
    from cases.models import MemberReview

    if value in MemberReview.State.values:
        return str(MemberReview.State(value).label)
    return value or "—"


@register.filter
def review_note(note: str) -> str:
    """A review history row's note: the system's notes by their label
    (ReviewEvent.SystemNote), a person's as written."""
    if note in ReviewEvent.SystemNote.values:
        return str(ReviewEvent.SystemNote(note).label)
    return note


# What each access record's `view` names, in words (cases.audit.access_record's callers).
ACCESS_VIEWS = {
    "list": _("application list"),
    "home": _("home page"),
    "discard": _("draft discarded"),
    "inbox": _("member inbox"),
    "detail": _("application page"),
    "edit": _("edit page"),
    "document": _("document"),
    "pdf": _("application PDF"),
    "receipt": _("receipt"),
    "pledge": _("pledge page"),
    "payments": _("payments"),
    "data-export": _("data export"),
    "api-detail": _("API: application"),
    "api-document": _("API: document"),
    "api-edit": _("API: edit"),
    "api-reveal": _("API: full numbers"),
    "api-section": _("API: section"),
    "hospital-list": _("hospital: list to confirm"),
    "hospital-detail": _("hospital: application"),
    "hospital-confirm": _("hospital: confirmation"),
    "hospital-correct": _("hospital: correction"),
    "hospital-document": _("hospital: document"),
    "hospital-receipt": _("hospital: receipt"),
    "api-hospital-list": _("API: hospital list to confirm"),
    "api-hospital-detail": _("API: hospital application"),
}


@register.filter
def access_view_label(view: str) -> str:
    return str(ACCESS_VIEWS.get(view, view))


@register.filter
def lead_state_label(value: str) -> str:
    """A call-back request's state as a person reads it."""
    from cases.models import Lead

    return str(Lead.State(value).label) if value in Lead.State.values else value or "—"


@register.filter
def region_name(code: str) -> str:
    """A GB/T 2260 code as its name (province, city, county)."""
    from organizations import regions

    return regions.name_of(code) if code else "—"
