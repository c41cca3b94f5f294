from django import template

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


@register.simple_tag
def change_label(section: str, name: str) -> str:
    """A changed field named by its standard code where it has one: 'B04 g1_phone'."""
    field = name.split("_", 1)[1] if name[:1] == "g" and name[1:2] in "12" else name
    field = {
        "household_province": "household_region",
        "hospital_province": "treating_hospital",
    }.get(field, field)
    code = next(
        (code for code, f in FIELD_CODES.items() if code.startswith(section) and f == field), ""
    )
    return f"{code} {name}".strip()


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
