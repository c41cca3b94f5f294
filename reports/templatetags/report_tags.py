from django import forms, template

from reports.tables import display, is_number

register = template.Library()


@register.filter
def figure(value) -> str:
    """A report cell as the dashboard and the PDF show it: 12,345.00; '—' for none."""
    return display(value)


@register.filter
def numeric(value) -> bool:
    """Whether a cell is a number (right-aligned in tables)."""
    return is_number(value)


@register.filter
def filled(fields) -> bool:
    """Whether a group of section fields (a guardian, an other-aid line) holds anything
    besides its tick boxes: an empty line is left out of the PDF, not printed as "— —"."""
    return any(
        field.value() not in (None, "", [])
        for field in fields
        if not isinstance(field.field, forms.BooleanField)
    )


@register.filter
def as_list(value) -> list:
    return [value]
