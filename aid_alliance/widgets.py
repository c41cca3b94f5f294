"""A select rendered in Python (issue 18): the filter forms' selects (the member inbox, the
staff list) rendered one template per option, which was a large share of those pages.

The HTML is Django's select's (name, attributes, one option per choice, the first
matching value selected) without its whitespace. Multiple selects and grouped choices
keep Django's template rendering.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

SELECTED = mark_safe(" selected")  # noqa: S308 - a constant


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)  # once: a model choice field's iterator is a query
        if self.allow_multiple_selected or any(
            isinstance(label, list | tuple) for _value, label in choices
        ):
            return super().render(name, value, attrs, renderer)
        values = self.format_value(value)
        rows, has_selected = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not has_selected and option_value in values
            has_selected |= selected
            rows.append((option_value, SELECTED if selected else "", label))
        final_attrs = {
            key: value
            for key, value in self.build_attrs(self.attrs, attrs).items()
            if value is not False
        }
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            format_html_join("", '<option value="{}"{}>{}</option>', rows),
        )
