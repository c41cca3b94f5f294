"""The filter forms' selects rendered in Python (aid_alliance.widgets.QuickSelect, issue 18)
give the same HTML as Django's select template."""

import pytest
from django import forms
from django.conf import settings
from django.test.html import parse_html
from django.utils import translation

from aid_alliance.widgets import QuickSelect
from cases.list_choices import list_choices
from cases.review.forms import InboxFilterForm
from organizations.models import DiseaseCategory

pytestmark = pytest.mark.django_db


def same_html(a: str, b: str) -> bool:
    return parse_html(a) == parse_html(b)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"state": "pending", "category": "LEUK", "province": "44", "eligible": "yes"},
        {"state": "nonsense", "province": "<script>"},  # refused values: nothing selected
    ],
)
def test_the_inbox_filters_render_as_djangos_selects_do(directory, data):
    with translation.override("zh-hans"):
        quick = InboxFilterForm(data, choices=list_choices)
        django_form = InboxFilterForm(data, choices=list_choices)
        for field in django_form.fields.values():
            if isinstance(field.widget, QuickSelect):
                field.widget = forms.Select(attrs=field.widget.attrs)
                field.widget.choices = field.choices
        quick.is_valid(), django_form.is_valid()
        for name in ("state", "category", "province", "eligible"):
            assert same_html(str(quick[name]), str(django_form[name])), name
        if data.get("province") == "44":
            assert 'value="44" selected' in str(quick["province"])
        assert "<script>" not in str(quick["province"])


def test_a_quick_select_escapes_labels_and_keeps_attributes():
    class Form(forms.Form):
        pick = forms.ChoiceField(
            choices=[("", "—"), ("a", "<b>A</b>"), ("b", "B & C")],
            widget=QuickSelect(attrs={"class": "x", "hx-get": "/r/?a=1&b=2"}),
        )

    html = str(Form({"pick": "b"})["pick"])
    assert "&lt;b&gt;A&lt;/b&gt;" in html and "B &amp; C" in html
    assert 'hx-get="/r/?a=1&amp;b=2"' in html and " required" in html
    assert same_html(html, str(_with_django_select(Form({"pick": "b"}))["pick"]))


def _with_django_select(form):
    field = form.fields["pick"]
    field.widget = forms.Select(attrs=field.widget.attrs)
    field.widget.choices = field.choices
    return form


def test_the_section_forms_selects_render_as_djangos_do(people):
    from cases.fields import as_querydict
    from cases.intake import services
    from cases.intake.forms import SECTION_FORMS
    from tests.intake_data import SECTIONS

    application = services.application_create(by=people["alice"])
    for key, data in SECTIONS.items():
        services.section_save(
            application=application, section=key, data=as_querydict(data), by=people["alice"]
        )
    application.refresh_from_db()
    compared = 0
    with translation.override("zh-hans"):
        for key in SECTION_FORMS:
            quick = services.section_form(application, key)
            plain = services.section_form(application, key)
            for name, field in plain.fields.items():
                if isinstance(field.widget, QuickSelect):
                    field.widget = forms.Select(attrs=field.widget.attrs)
                    field.widget.choices = field.choices
                    assert same_html(str(quick[name]), str(plain[name])), name
                    compared += 1
    assert compared >= 15  # regions, ID type, ethnic group, relationships, plan, aid kinds


def test_a_model_choice_quick_select_reads_its_choices_in_one_query(
    directory, django_assert_num_queries
):
    """list() of a ModelChoiceIterator asks its length first: a COUNT before the read."""

    class Form(forms.Form):
        category = forms.ModelChoiceField(
            queryset=DiseaseCategory.objects.all(), to_field_name="code", widget=QuickSelect
        )

    form = Form({})
    with django_assert_num_queries(1):
        html = str(form["category"])
    assert 'value="LEUK"' in html


def test_the_inbox_reads_its_categories_from_the_directorys_kept_choices(
    directory, django_assert_num_queries
):
    choices = list_choices()  # as the page reads them: once per directory version
    form = InboxFilterForm({"category": "LEUK"}, choices=lambda: choices)
    with django_assert_num_queries(0):
        assert form.is_valid(), form.errors
        html = str(form["category"])
    assert 'value="LEUK" selected' in html and form.cleaned_data["category"] == "LEUK"
    refused = InboxFilterForm({"category": "NOPE"}, choices=lambda: choices)
    assert not refused.is_valid() and "category" in refused.errors


def test_a_category_renamed_shows_in_the_inbox_filter_at_the_next_request(
    client, people, django_capture_on_commit_callbacks
):
    client.force_login(people["bob"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert client.get("/inbox/").status_code == 200
    category = DiseaseCategory.objects.get(code="LEUK")
    with django_capture_on_commit_callbacks(execute=True):
        category.name_zh = "改名后的白血病"
        category.save()
    page = client.get("/inbox/?category=LEUK").content.decode()
    assert '<option value="LEUK" selected>改名后的白血病</option>' in page
