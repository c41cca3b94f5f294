"""The application page's sections from a read model (issue 18): the same rows the section
forms showed, the same masking, without a form per section."""

import pytest
from django import forms
from django.utils import translation

from cases.fields import as_querydict
from cases.identity import MASKED_FIELDS
from cases.intake import read_model, services
from cases.intake.forms import SECTION_FORMS
from cases.templatetags.case_extras import shown_value
from organizations.templatetags.org_extras import money_shown
from tests.intake_data import CHILD_ID, GUARDIAN_1_ID, SECTIONS

pytestmark = pytest.mark.django_db

EVERY_NUMBER = frozenset(MASKED_FIELDS)


def form_rows(application, revealed):
    """What the page showed before the read model: each section form's fields through
    shown_value and money_shown, the fields with nothing shown left out."""
    rows = {}
    for key in SECTION_FORMS:
        form = services.section_form(application, key)
        rows[key] = [
            (str(field.label), shown)
            for field in form
            if (shown := money_shown(shown_value(field, revealed), field))
        ]
    return rows


def model_rows(application, revealed):
    complete = dict.fromkeys(SECTION_FORMS, False)
    views = read_model.application_sections(application, complete=complete, revealed=revealed)
    return {view.key: [(str(label), shown) for label, shown in view.rows] for view in views}


def fill(application, by, sections):
    for key, data in sections.items():
        services.section_save(application=application, section=key, data=as_querydict(data), by=by)
    application.refresh_from_db()
    return application


@pytest.fixture
def full(people):
    application = services.application_create(by=people["alice"])
    return fill(application, people["alice"], SECTIONS)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("revealed", [frozenset(), EVERY_NUMBER, frozenset({"account_number"})])
def test_a_full_application_shows_what_the_forms_showed(full, language, revealed):
    with translation.override(language):
        expected = form_rows(full, revealed)
        shown = model_rows(full, revealed)
    assert shown == expected
    assert sum(len(rows) for rows in shown.values()) > 40  # every section has its rows


def test_choices_regions_money_and_boxes_read_as_people_read_them(full):
    with translation.override("zh-hans"):
        pairs = [pair for rows in model_rows(full, frozenset()).values() for pair in rows]
        category = str(full.category)  # names follow the language (issue 16)
    by_code = {str(label).split(" ")[0]: shown for label, shown in pairs}
    values = [shown for _, shown in pairs]
    assert by_code["A04"] == "男"  # a choice by its label, not "male"
    assert "北京市" in values  # regions by their names, not "11" or "110105"
    assert "朝阳区" in values and "西城区" in values
    assert by_code["D08"] == "200,000"  # money through yuan
    assert by_code["C02"] == "30,000"
    assert by_code["H01"] == "✔"  # a ticked box
    assert by_code["H03"] == "—"  # an unticked one
    assert by_code["D01"] == category == "白血病"  # the category by its name


def test_numbers_are_masked_unless_revealed(full):
    masked = model_rows(full, frozenset())
    values = [shown for rows in masked.values() for _, shown in rows]
    assert CHILD_ID not in values and GUARDIAN_1_ID not in values
    assert CHILD_ID[:6] + "********" + CHILD_ID[-4:] in values
    assert "************5678" in values  # the account number masked too
    assert not any("12345678" in v for v in values)
    only_account = model_rows(full, frozenset({"account_number"}))
    values = [shown for rows in only_account.values() for _, shown in rows]
    assert "6217000012345678" in values  # a pledging member sees G04 in full ...
    assert CHILD_ID not in values  # ... never the ID numbers
    every = [s for rows in model_rows(full, EVERY_NUMBER).values() for _, s in rows]
    assert CHILD_ID in every and GUARDIAN_1_ID in every


def test_pending_input_is_shown_as_typed_like_the_form_showed_it(people):
    application = services.application_create(by=people["alice"])
    broken = {
        **SECTIONS,
        "B": {**SECTIONS["B"], "g1_phone": "12345", "g2_id_number": "110105198907020000"},
        "C": {**SECTIONS["C"], "annual_income": "三万", "economic_flags": ["dibao", "tekun"]},
        "D": {**SECTIONS["D"], "category": "NOPE", "hospital_prefecture": "1101"},
        "G": {**SECTIONS["G"], "account_number": "12ab"},
    }
    application = fill(application, people["alice"], broken)
    assert application.pending_input  # kept as typed
    for revealed in (frozenset(), EVERY_NUMBER):
        assert model_rows(application, revealed) == form_rows(application, revealed)
    values = [s for rows in model_rows(application, frozenset()).values() for _, s in rows]
    assert "12345" in values and "三万" in values


def test_an_empty_draft_shows_the_same_as_its_forms(people):
    application = services.application_create(by=people["alice"])
    assert model_rows(application, frozenset()) == form_rows(application, frozenset())


def test_the_field_list_matches_each_forms_fields():
    for key, form_class in SECTION_FORMS.items():
        form = form_class(application=None)
        specs = read_model.section_fields()[key]
        assert [s.name for s in specs] == list(form.fields)
        money = {s.name for s in specs if s.kind == "money"}
        assert money == {n for n, f in form.fields.items() if isinstance(f, forms.DecimalField)}


def test_the_read_model_opens_pending_numbers_with_the_services_context():
    assert read_model.PENDING == services.PENDING


def test_the_page_shows_the_sections_with_numbers_masked_until_revealed(client, people, full):
    services.application_submit(application=full, by=people["alice"])
    client.force_login(people["alice"])
    own = client.get(f"/applications/{full.reference}/").content.decode()
    assert "Complete" in own or "已完成" in own
    assert "王小明" in own and "200,000" in own
    assert CHILD_ID not in own  # masked until revealed, even for the entering member
    revealed = client.post(f"/applications/{full.reference}/reveal/").content.decode()
    assert CHILD_ID in revealed and "6217000012345678" in revealed
