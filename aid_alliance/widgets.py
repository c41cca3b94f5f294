"""A select rendered in Python (issue 18): the filter forms' selects (the member inbox, the
staff list) rendered one template per option, which was a large share of those pages.

The HTML is Django's select's (name, attributes, one option per choice, the first
matching value selected) without its whitespace. Multiple selects and grouped choices
keep Django's template rendering.
"""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe

from aid_alliance.escaping import escape

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
                f'<option value="{escape(option_value)}"{SELECTED if selected else ""}>'
                f"{escape(label)}</option>"
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


# --- the widgets' own templates, rendered in Python (FORM_RENDERER) ----------------------------


def _text(value) -> str:
    """`{{ value }}` in a template: localised, then escaped unless already safe."""
    return escape(value if type(value) is str else localize(value))


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: str(), escaped unless already safe (the filter keeps
    safety)."""
    return escape(value if isinstance(value, SafeData) else str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: False drops an attribute, True writes its name."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


# Each function writes what its template writes, the newline at the end of the template's file
# included: an included template's newline is part of its includer's HTML (the renderer
# strips only the outermost).


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (text, number, date, checkbox, …)."""
    value = widget["value"]
    value = "" if value is None else f' value="{_formatted(value)}"'
    name, attrs = _text(widget["name"]), _attrs(widget["attrs"])
    return f'<input type="{_text(widget["type"])}" name="{name}"{value}{attrs}>\n'


def _textarea(widget: dict) -> str:
    """django/forms/widgets/textarea.html: its newline after the opening tag included."""
    value = _text(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>\n'
    )


def _input_option(option: dict) -> str:
    """django/forms/widgets/input_option.html: one radio or checkbox in its label."""
    if not option["wrap_label"]:
        return f"{_input(option)}\n"
    label_for = option["attrs"].get("id")
    label_for = f' for="{_text(label_for)}"' if label_for else ""
    return f"<label{label_for}>{_input(option)} {_text(option['label'])}</label>\n"


def _multiple_input(widget: dict) -> str:
    """django/forms/widgets/multiple_input.html (radios, checkboxes)."""
    attrs = widget["attrs"]
    html = [
        "<div",
        f' id="{_text(attrs["id"])}"' if attrs.get("id") else "",
        f' class="{_text(attrs["class"])}"' if attrs.get("class") else "",
        ">",
    ]
    for group, options, _index in widget["optgroups"]:
        if group:
            html.append(f"\n  <div><label>{_text(group)}</label>")
        html.extend(f"<div>\n    {_option(option)}</div>" for option in options)
        if group:
            html.append("\n  </div>")
    html.append("\n</div>\n")
    return "".join(html)


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html (QuickSelect writes it without the whitespace)."""
    html = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options, _index in widget["optgroups"]:
        if group:
            html.append(f'\n  <optgroup label="{_text(group)}">')
        html.extend(f"\n  {_option(option)}" for option in options)
        if group:
            html.append("\n  </optgroup>")
    html.append("\n</select>\n")
    return "".join(html)


def _select_option(option: dict) -> str:
    """django/forms/widgets/select_option.html."""
    value, attrs, label = option["value"], option["attrs"], option["label"]
    return f'<option value="{_formatted(value)}"{_attrs(attrs)}>{_text(label)}</option>\n'


def _including(python):
    """A template that only includes another (text.html: input.html), and its own newline."""
    return lambda widget: f"{python(widget)}\n"


WIDGETS = "django/forms/widgets/"
INPUTS = ("text", "number", "email", "url", "password", "hidden", "search", "tel", "color")
INPUTS += ("date", "datetime", "time", "checkbox")
PYTHON_TEMPLATES = {
    f"{WIDGETS}input.html": _input,
    **{f"{WIDGETS}{name}.html": _including(_input) for name in INPUTS},
    f"{WIDGETS}textarea.html": _textarea,
    f"{WIDGETS}multiple_input.html": _multiple_input,
    f"{WIDGETS}radio.html": _including(_multiple_input),
    f"{WIDGETS}checkbox_select.html": _including(_multiple_input),
    f"{WIDGETS}input_option.html": _input_option,
    f"{WIDGETS}radio_option.html": _including(_input_option),
    f"{WIDGETS}checkbox_option.html": _including(_input_option),
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}select_option.html": _select_option,
}


def _option(option: dict) -> str:
    """An option's own template (`{% include option.template_name with widget=option %}`)."""
    python = PYTHON_TEMPLATES.get(option["template_name"])
    if python is None:
        raise _NotInPython
    return python(option)


class _NotInPython(Exception):
    """An option with a template of its own: the whole widget goes through the templates."""


class PythonWidgetRenderer(DjangoTemplates):
    """The form renderer (settings.FORM_RENDERER, issue 18): Django's own widget templates
    (inputs, textareas, radios, checkboxes, selects) written out in Python, the same HTML
    character for character (tests/test_edit_page_markup.py compares them), at a fraction
    of a template's cost; every other template (a widget's own, forms, errors) goes
    through Django's. The project overrides none of these templates: an override would
    have to be written here too."""

    def render(self, template_name, context, request=None):
        python = PYTHON_TEMPLATES.get(template_name)
        if python is not None and set(context) == {"widget"}:
            try:
                return mark_safe(python(context["widget"]).strip())  # noqa: S308 - escaped
            except _NotInPython:
                pass
        return super().render(template_name, context, request)


# --- templates/_field.html in Python -----------------------------------------------------------

REQUIRED_MARK = ' <span class="req" aria-hidden="true">*</span>'


def field_html(field) -> str:
    """templates/_field.html for one bound field, character for character (the edit page
    shows some 70 fields: an include each was a third of its template time, issue 18).
    tests/test_edit_page_markup.py compares the two on every field of the edit page."""
    auto_id = field.auto_id
    errors = field.errors
    required = REQUIRED_MARK if field.field.required else ""
    html = ["\n", f'<div class="field{" has-error" if errors else ""}">\n']
    if field.use_fieldset:
        described = field.aria_describedby
        described = f' aria-describedby="{_text(described)}"' if described else ""
        html += [
            f'\n  <fieldset class="choices"{described}>\n',
            f"    <legend>{_text(field.label)}{required}</legend>\n",
            f"    {_text(field)}\n  </fieldset>\n",
        ]
    else:
        label_for = _text(field.id_for_label)
        html += [
            f'\n  <label for="{label_for}">{_text(field.label)}{required}</label>\n',
            f"  {_text(field)}\n",
        ]
    html.append("\n  ")
    if field.help_text:
        html.append(f'<p class="help" id="{_text(auto_id)}_helptext">{_text(field.help_text)}</p>')
    html.append("\n  ")
    if errors:
        messages = "".join(f"<p>{_text(error)}</p>" for error in errors)
        html.append(f'<div class="error" id="{_text(auto_id)}_error">{messages}</div>')
    html.append("\n</div>\n\n")
    return mark_safe("".join(html))  # noqa: S308 - every value escaped


class FieldGroup(list):
    """Bound fields that a template writes out as one (`{{ form.some_fields }}`), each as
    templates/_field.html would, or iterates over."""

    def __str__(self):
        return mark_safe("".join(field_html(field) for field in self))  # noqa: S308 - escaped

    __html__ = __str__
