from django import forms, template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from reports.tables import display, is_number

register = template.Library()


@register.filter
def figure(value) -> str:
    """A report cell as the dashboard and the PDF show it: 12,345.00; '—' for none."""
    return display(value)


@register.filter
def table_body(rows) -> str:
    """A table's rows as <tr>s, each cell shown by `figure` and a number right-aligned:
    built here in one pass, not by a template loop per cell (the dashboard's and the PDF's
    tables are hundreds of cells; the loop was a third of the dashboard's time)."""
    return mark_safe(  # noqa: S308 - every cell is escaped
        "".join(
            "<tr>"
            + "".join(
                f'<td class="n">{escape(display(cell))}</td>'
                if is_number(cell)
                else f"<td>{escape(display(cell))}</td>"
                for cell in row
            )
            + "</tr>"
            for row in rows
        )
    )


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
