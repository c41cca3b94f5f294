"""{% field form.name %} (aid_alliance/field_tags.py) writes what templates/_field.html
writes, on every page that shows a form: each named user's pages (tests/named_pages.py) are
the same HTML with the tag as with the template, but for what is new on each request."""

import re

import pytest
from django.template.loader import render_to_string

from aid_alliance import field_tags
from tests.named_pages import named_pages
from tests.test_page_languages import _render

pytestmark = pytest.mark.django_db

PER_REQUEST = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')


def field_template(field):
    return render_to_string("_field.html", {"field": field})


def test_every_page_with_a_form_is_the_same_with_the_tag_as_with_the_template(
    client, people, monkeypatch
):
    _application, visits = named_pages(people)
    pages = [visit for visit in visits if not visit.is_post]
    with_fields = 0
    for visit in pages:
        for language in ("zh-hans", "en"):
            tag = _render(client, visit, language)
            with monkeypatch.context() as patch:
                patch.setattr(field_tags, "field_html", field_template)
                template = _render(client, visit, language)
            assert PER_REQUEST.sub("", tag) == PER_REQUEST.sub("", template), visit
            with_fields += '<div class="field' in tag
    assert with_fields >= 20  # the forms' pages were among them
