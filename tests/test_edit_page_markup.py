"""The edit page's markup does not depend on how its fields are rendered (issue 18): the
Python renderer (aid_alliance.widgets.PythonWidgetRenderer, settings.FORM_RENDERER) writes
what Django's widget templates write, and aid_alliance.widgets.field_html what
templates/_field.html writes, character for character, for every widget and value the
pages use and for values that must be escaped."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from aid_alliance import widgets
from aid_alliance.widgets import PYTHON_TEMPLATES, PythonWidgetRenderer, field_html
from cases.intake import selectors, services
from tests.intake_data import SECTIONS

HOSTILE = '<b>"O\'Brien" & co</b>'
CHOICES = [("a", "Apple"), ("b&", HOSTILE), (3, "three"), ("", "—")]
GROUPED = [("fruit", [("a", "Apple"), ("b", HOSTILE)]), ("c", "Carrot")]

WIDGETS = [
    (forms.TextInput(), "x", None),
    (forms.TextInput(attrs={"maxlength": 50, "required": True, "hidden": False}), HOSTILE, None),
    (forms.TextInput(), None, {"id": "id_x", "aria-describedby": "id_x_helptext"}),
    (forms.TextInput(attrs={"class": mark_safe("a&amp;b")}), mark_safe("<i>safe</i>"), None),
    (forms.NumberInput(attrs={"step": "0.01", "min": 0}), "12.50", {"aria-invalid": "true"}),
    (forms.DateInput(attrs={"type": "date"}), "2026-10-01", {"id": "id_dob"}),
    (forms.EmailInput(), "a@b.cn", None),
    (forms.PasswordInput(render_value=True), "secret", None),
    (forms.HiddenInput(), 5, None),
    (forms.CheckboxInput(), True, {"id": "id_c"}),
    (forms.CheckboxInput(), False, None),
    (forms.CheckboxInput(), "on", None),
    (forms.Textarea(attrs={"rows": 3}), "line 1\n" + HOSTILE, None),
    (forms.Textarea(), "", None),
    (forms.Textarea(), None, {"id": "id_t", "required": True}),
    (forms.RadioSelect(choices=CHOICES), "b&", {"id": "id_r", "required": True}),
    (forms.RadioSelect(choices=CHOICES, attrs={"class": "inline"}), None, None),
    (forms.RadioSelect(choices=GROUPED), "b", {"id": "id_g"}),
    (forms.CheckboxSelectMultiple(choices=CHOICES), ["a", "3"], {"id": "id_m"}),
    (forms.CheckboxSelectMultiple(choices=CHOICES), [], None),
    (forms.Select(choices=CHOICES), "3", {"id": "id_s", "aria-invalid": "true"}),
    (forms.Select(choices=GROUPED), "b", None),
    (forms.SelectMultiple(choices=CHOICES), ["a", "b&"], {"id": "id_sm"}),
    (forms.NullBooleanSelect(), True, None),
]


@pytest.mark.parametrize(("widget", "value", "attrs"), WIDGETS)
def test_each_widget_is_written_as_django_writes_it(widget, value, attrs):
    expected = widget.render("field", value, attrs, renderer=DjangoTemplates())
    actual = widget.render("field", value, attrs, renderer=PythonWidgetRenderer())
    assert actual == expected
    assert "&lt;b&gt;" in expected or HOSTILE not in expected  # escaped, not raw


def test_a_template_it_does_not_know_goes_through_django():
    widget = forms.ClearableFileInput()
    expected = widget.render("file", None, renderer=DjangoTemplates())
    assert widget.render("file", None, renderer=PythonWidgetRenderer()) == expected


def test_the_project_renders_forms_with_it():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), PythonWidgetRenderer)


# What differs from one response to the next: the CSRF token and the scripts' nonce.
PER_RESPONSE = re.compile(r'((?:name="csrfmiddlewaretoken" value|nonce)=")[^"]+"')


def edit_page(client, application, renderer, settings, query=""):
    """The page's HTML with this form renderer, the per-response values left out."""
    settings.FORM_RENDERER = renderer
    response = client.get(f"/applications/{application.reference}/edit/{query}")
    assert response.status_code == 200
    return PER_RESPONSE.sub(r'\1…"', response.content.decode())


@pytest.fixture
def drafts(people, client):
    """An empty draft, one filled in, and one with input that breaks the rules (kept as
    typed, shown with its errors)."""
    client.force_login(people["alice"])

    def save(application, key, data):  # as the autosave does: no message for the next page
        client.post(
            f"/applications/{application.reference}/sections/{key}/", data, HTTP_HX_REQUEST="true"
        )

    empty = services.application_create(by=people["alice"])
    filled = services.application_create(by=people["alice"])
    for key, data in SECTIONS.items():
        save(filled, key, data)
    broken = services.application_create(by=people["alice"])
    for key, data in SECTIONS.items():
        wrong = {name: f"{value}<x>\"'&" for name, value in data.items() if isinstance(value, str)}
        save(broken, key, wrong)
    return [empty, filled, broken]


def field_template(field):
    return render_to_string("_field.html", {"field": field})


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?check=1"])
def test_the_edit_page_is_the_same_html_as_with_django_s_templates(
    client, drafts, settings, monkeypatch, query
):
    for application in drafts:
        python_html = edit_page(
            client, application, "aid_alliance.widgets.PythonWidgetRenderer", settings, query
        )
        with monkeypatch.context() as patch:
            patch.setattr(widgets, "field_html", field_template)
            django_html = edit_page(
                client, application, "django.forms.renderers.DjangoTemplates", settings, query
            )
        assert python_html == django_html
        assert 'type="radio"' in python_html and 'type="checkbox"' in python_html
        assert "<textarea" in python_html


OWN_TEMPLATE = {  # a widget that renders with each template, as its own or its options'
    "radio.html": (forms.RadioSelect, "template_name"),
    "multiple_input.html": (forms.RadioSelect, "template_name"),
    "checkbox_select.html": (forms.CheckboxSelectMultiple, "template_name"),
    "input_option.html": (forms.RadioSelect, "option_template_name"),
    "radio_option.html": (forms.RadioSelect, "option_template_name"),
    "checkbox_option.html": (forms.CheckboxSelectMultiple, "option_template_name"),
    "select.html": (forms.Select, "template_name"),
    "select_option.html": (forms.Select, "option_template_name"),
}


@pytest.mark.parametrize("template_name", sorted(PYTHON_TEMPLATES))
def test_every_template_it_writes_is_django_s(template_name):
    base, attribute = OWN_TEMPLATE.get(template_name.rsplit("/")[-1], (forms.TextInput, ""))
    widget = base(attrs={"maxlength": 5})
    setattr(widget, attribute or "template_name", template_name)
    if attribute:
        widget.choices = CHOICES
    value = ["b&"] if base is forms.CheckboxSelectMultiple else HOSTILE
    expected = widget.render("f", value, {"id": "id_f"}, renderer=DjangoTemplates())
    assert widget.render("f", value, {"id": "id_f"}, renderer=PythonWidgetRenderer()) == expected
    assert "&lt;" in expected or "b&amp;" in expected


@pytest.mark.django_db
def test_each_field_of_the_edit_page_is_written_as_the_field_template_writes_it(drafts):
    for application in drafts:
        for status in selectors.application_sections(application, checked=True):
            for field in status.form or []:
                assert field_html(field) == field_template(field), field.name


@pytest.mark.django_db
@pytest.mark.parametrize("widget", [forms.Select, forms.RadioSelect, forms.CheckboxSelectMultiple])
def test_model_choices_are_written_as_django_writes_them(directory, widget):
    """A model's choices: their values are ModelChoiceIteratorValue, their labels str()."""
    from organizations.models import DiseaseCategory

    field_class = forms.ModelMultipleChoiceField if widget.allow_multiple_selected else None
    field_class = field_class or forms.ModelChoiceField
    field = field_class(queryset=DiseaseCategory.objects.all(), widget=widget)
    first = DiseaseCategory.objects.first()
    value = [first.pk] if widget.allow_multiple_selected else first.pk
    expected = field.widget.render("c", value, {"id": "id_c"}, renderer=DjangoTemplates())
    actual = field.widget.render("c", value, {"id": "id_c"}, renderer=PythonWidgetRenderer())
    assert actual == expected
    assert "selected" in expected or "checked" in expected


def test_no_app_overrides_a_template_it_writes():
    """An app's own copy of one of these templates would be ignored by the renderer."""
    from pathlib import Path

    import django

    own = Path(django.__file__).parent / "forms" / "templates"
    for template_name in PYTHON_TEMPLATES:
        origin = PythonWidgetRenderer().get_template(template_name).origin.name
        assert Path(origin).is_relative_to(own), (template_name, origin)
