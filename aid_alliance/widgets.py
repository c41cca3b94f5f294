"""A select rendered in Python (issue 18): the filter forms' selects (the member inbox, the
staff list) rendered one template per option, which was a large share of those pages.

The HTML is Django's select's (name, attributes, one option per choice, the first
matching value selected) without its whitespace. Multiple selects and grouped choices
keep Django's template rendering.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

SELECTED = mark_safe(" selected")  # noqa: S308 - a constant


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        # Once: a model choice field's iterator is a query. Not list(): it asks the
        # iterator's length first, which is one more query (a COUNT).
        choices = [choice for choice in self.choices]  # noqa: C416
        if self.allow_multiple_selected or any(
            isinstance(label, list | tuple) for _value, label in choices
        ):
            return super().render(name, value, attrs, renderer)
        values = self.format_value(value)
        options, has_selected = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not has_selected and option_value in values
            has_selected |= selected
            # Escaped as format_html would, without its per-call overhead (tens of options).
            options.append(
                f'<option value="{conditional_escape(option_value)}"'
                f"{SELECTED if selected else ''}>{conditional_escape(label)}</option>"
            )
        final_attrs = {
            key: value
            for key, value in self.build_attrs(self.attrs, attrs).items()
            if value is not False
        }
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            mark_safe("".join(options)),  # noqa: S308 - every part escaped above
        )
