"""{% field form.name %}: templates/_field.html for one bound field, written in Python
(aid_alliance.widgets.field_html, character for character; tests/test_field_tag.py).

A builtin of the template engine (TEMPLATES' "builtins"): every form's page writes its fields
with it. An {% include "_field.html" with field=… %} cost a template context and render per
field, about a millisecond of the inbox's six filters (issue 18).
"""

from django import template

from aid_alliance.widgets import field_html

register = template.Library()


@register.simple_tag
def field(bound_field) -> str:
    return field_html(bound_field)
