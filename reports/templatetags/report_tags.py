from django import template

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
