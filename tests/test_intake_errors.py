"""The intake's error summary and section states (issue 16, findings 2 and 6): a refused
submission lists every missing or wrong field across the sections, by code and label, each
linked to an input of the page that is marked aria-invalid with its message beside it; each
section shows one of four states, computed in one place; E02's amounts count empty as 0;
the codes and order of C04 and D06; no English empty choice in Chinese pages; the pre-check
and the API list every field too."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.http import QueryDict

from cases.intake import selectors, services
from cases.models import Application, Document
from tests.conftest import api_token_for
from tests.intake_data import PDF_BYTES, SECTIONS

pytestmark = pytest.mark.django_db

State = selectors.SectionState


def draft_with(people, *, skip=(), blank=(), extra=None) -> Application:
    """A draft of alice's with the sections of tests.intake_data saved, except the sections
    in `skip` and the fields in `blank`; `extra` overrides values."""
    application = services.application_create(by=people["alice"])
    for key, values in SECTIONS.items():
        if key in skip:
            continue
        data = QueryDict(mutable=True)
        for name, value in {**values, **(extra or {}).get(key, {})}.items():
            if name in blank:
                continue
            data.setlist(name, value if isinstance(value, list) else [value])
        services.section_save(application=application, section=key, data=data, by=people["alice"])
    return Application.objects.get(pk=application.pk)


def edit_url(application, query=""):
    return f"/applications/{application.reference}/edit/{query}"


def input_tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no input with id {element_id}"
    return match.group(0)


# --- a refused submission ----------------------------------------------------------------


def test_a_refused_submission_leads_to_the_check_of_every_section(client, people):
    application = draft_with(people, blank={"household_province", "household_prefecture"})
    client.force_login(people["alice"])
    response = client.post(f"/applications/{application.reference}/submit/")
    assert response.status_code == 302
    assert response["Location"] == edit_url(application, "?check=1")
    assert Application.objects.get(pk=application.pk).status == Application.Status.DRAFT


def test_the_summary_lists_every_missing_or_wrong_field_across_sections(client, people):
    application = draft_with(
        people,
        skip={"H"},
        blank={"household_province", "household_prefecture", "registration", "g1_phone"},
        extra={"G": {"account_number": "12"}},  # wrong, kept as typed
    )
    client.force_login(people["alice"])
    response = client.get(edit_url(application, "?check=1"))
    assert response.status_code == 200
    errors = response.context["errors"]
    labels = [f"{e['label']}：{e['message']}" for e in errors]
    anchors = [e["anchor"] for e in errors]
    # A07 (a region picker: its province select), A08 (radios: the first), B04, G04 and the
    # whole of section H, never started (H01 and H02 twice: date and method).
    assert anchors == [
        "id_household_province",
        "id_registration_0",
        "id_g1_phone",
        "id_account_number",
        "id_consent_sharing",
        "id_consent_date",
        "id_consent_method_0",
    ]
    assert labels[0] == "A07 户籍所在地：省份：请选择一项。"
    assert labels[2] == "B04 手机号码（监护人 1）：请填写此项。"
    assert labels[3].startswith("G04 账号：")
    html = response.content.decode()
    assert html.index('id="error-summary"') < html.index("<h1>")
    for anchor in anchors:
        tag = input_tag(html, anchor)
        assert 'aria-invalid="true"' in tag, tag
        field_id = anchor.removesuffix("_0")
        assert f'id="{field_id}_error"' in html  # the message beside the field
        assert f'href="#{anchor}"' in html
    # A text input and a select name their message; a radio group's fieldset does.
    assert "id_g1_phone_error" in input_tag(html, "id_g1_phone")
    assert "id_household_province_error" in input_tag(html, "id_household_province")
    assert re.search(r'<fieldset[^>]*aria-describedby="[^"]*id_registration_error', html)
    # What was saved and what was typed wrong are all on the page.
    assert 'value="王小明"' in html and 'value="12"' in html and 'value="13900139000"' in html


def test_the_check_names_the_treatment_plan_at_its_first_select(client, people):
    application = draft_with(people, blank={"plan_chemotherapy"})
    client.force_login(people["alice"])
    errors = client.get(edit_url(application, "?check=1")).context["errors"]
    assert [(e["anchor"], e["label"]) for e in errors] == [("id_plan_chemotherapy", "D07 治疗计划")]


def test_without_a_refused_submission_empty_fields_are_not_errors_yet(client, people):
    application = draft_with(people, blank={"g1_phone"})
    client.force_login(people["alice"])
    response = client.get(edit_url(application))
    assert response.context["errors"] == []
    assert 'id="error-summary"' not in response.content.decode()
    assert 'aria-invalid="true"' not in input_tag(response.content.decode(), "id_g1_phone")


def test_a_complete_draft_has_no_summary_and_is_submitted(client, people):
    application = draft_with(people)
    client.force_login(people["alice"])
    assert selectors.submission_errors(application) == []
    response = client.post(f"/applications/{application.reference}/submit/")
    assert response["Location"] == f"/applications/{application.reference}/"


def test_an_autosave_after_the_check_keeps_showing_the_empty_required_fields(client, people):
    application = draft_with(people, blank={"g1_phone", "g1_id_number"})
    client.force_login(people["alice"])
    data = {k: v for k, v in SECTIONS["B"].items() if k not in ("g1_phone", "g1_id_number")}
    response = client.post(
        f"/applications/{application.reference}/sections/B/",
        {**data, "g1_phone": "13800138000", "check": "1"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.context["status"].state == State.HAS_ERRORS
    assert 'aria-invalid="true"' in input_tag(html, "id_g1_id_number")
    assert 'aria-invalid="true"' not in input_tag(html, "id_g1_phone")
    assert 'value="13800138000"' in html
    assert '<input type="hidden" name="check" value="1">' in html


# --- the section states ------------------------------------------------------------------


def states(application, **kwargs) -> dict:
    return {s.key: s.state for s in selectors.application_sections(application, **kwargs)}


def test_a_new_draft_has_every_section_not_started(people):
    application = services.application_create(by=people["alice"])
    assert set(states(application).values()) == {State.NOT_STARTED}
    # Refused at once: every section but the documents has errors.
    checked = states(application, checked=True)
    assert checked.pop("F") == State.NOT_STARTED
    assert set(checked.values()) == {State.HAS_ERRORS}


def test_a_section_is_in_progress_complete_or_has_errors(people):
    application = draft_with(
        people,
        blank={"g1_phone"},
        extra={"C": {"household_size": "四"}},  # kept as typed, pending
        skip={"H"},
    )
    found = states(application)
    assert found["A"] == State.COMPLETE
    assert found["B"] == State.IN_PROGRESS  # a required field left empty: not an error yet
    assert found["C"] == State.HAS_ERRORS
    assert found["H"] == State.NOT_STARTED
    assert found["F"] == State.NOT_STARTED
    checked = states(application, checked=True)
    assert (checked["A"], checked["B"], checked["C"], checked["H"]) == (
        State.COMPLETE,
        State.HAS_ERRORS,
        State.HAS_ERRORS,
        State.HAS_ERRORS,
    )


def test_the_documents_section_has_errors_when_a_needed_document_was_rejected(people):
    application = draft_with(people)
    for doc_type in ("household_register", "guardian_id"):
        Document.objects.create(
            application=application,
            doc_type=doc_type,
            original_name="scan.pdf",
            size=len(PDF_BYTES),
            content_type="application/pdf",
            sha256="0" * 64,
            uploaded_by=people["alice"],
        )
    assert selectors.section_status(application, "F").state == State.IN_PROGRESS
    Document.objects.filter(doc_type="guardian_id").update(
        status=Document.Status.REJECTED, reject_reason="看不清"
    )
    assert selectors.section_status(application, "F").state == State.HAS_ERRORS


def test_the_page_shows_each_state_once_in_the_heading_and_in_the_task_list(client, people):
    application = draft_with(people, blank={"g1_phone"}, skip={"H"})
    client.force_login(people["alice"])
    html = client.get(edit_url(application)).content.decode()
    expected = {"A": "已完成", "B": "填写中", "F": "未开始", "H": "未开始"}
    for key, label in expected.items():
        task = re.search(rf'<li id="task-{key}">.*?</li>', html, re.S).group(0)
        assert f"data-section-state>{label}</span>" in task
        heading = re.search(rf'<h2 id="section-{key}-title">.*?</h2>', html, re.S).group(0)
        assert f"data-section-state>{label}</span>" in heading
    assert "未完成" not in html  # the old badge beside "已保存"
    assert f'href="#section-{"A"}"' in html


def test_the_autosave_answer_updates_the_task_list_state_out_of_band(client, people):
    application = draft_with(people, blank={"g1_phone"})
    client.force_login(people["alice"])
    response = client.post(
        f"/applications/{application.reference}/sections/B/",
        SECTIONS["B"],
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert re.search(
        r'<span class="[^"]*state-complete"[^>]*id="task-state-B"[^>]*hx-swap-oob="true"'
        r"[^>]*>已完成</span>",
        html,
    )
    # The save indicator is apart from the state, outside the heading.
    heading = re.search(r"<h2 .*?</h2>", html, re.S).group(0)
    assert "已保存" not in heading and "已保存" in html


# --- finding 6: E02, field codes, the order of D, the empty choice ---------------------------


def test_empty_e02_amounts_count_as_zero(client, people):
    application = draft_with(
        people,
        blank={"critical_illness_insurance", "medical_assistance", "commercial_insurance"},
    )
    assert application.critical_illness_insurance == Decimal("0.00")
    assert application.medical_assistance == Decimal("0.00")
    assert selectors.section_status(application, "E").state == State.COMPLETE
    token = api_token_for(people["alice"])
    body = client.get(
        f"/api/v1/applications/{application.reference}/", HTTP_AUTHORIZATION=f"Token {token}"
    ).json()
    assert body["sections"]["E"]["medical_assistance"] == "0.00"
    assert body["sections"]["E"]["basic_insurance"] == "80000.00"


def test_a_wrong_e02_amount_is_still_an_error(people):
    application = draft_with(people, extra={"E": {"medical_assistance": "三万"}})
    status = selectors.section_status(application, "E")
    assert status.state == State.HAS_ERRORS
    assert "medical_assistance" in status.form.errors


def test_department_and_debts_have_their_codes_and_the_region_comes_before_the_costs(people):
    application = services.application_create(by=people["alice"])
    medical = selectors.section_form(application, "D")
    names = list(medical.fields)
    assert str(medical.fields["department"].label).startswith("D06 ")
    assert str(medical.fields["hospital_province"].label).startswith("D06 ")
    assert str(selectors.section_form(application, "C").fields["debt_amount"].label).startswith(
        "C04 "
    )
    assert names.index("treating_hospital") < names.index("hospital_province")
    assert names.index("hospital_county") < names.index("department")
    assert names.index("department") < names.index("plan_chemotherapy")
    assert names.index("plan_other") < names.index("estimated_cost")


@pytest.mark.parametrize("language,label", [("zh-hans", "请选择"), ("en", "Select…")])
def test_the_disease_category_offers_select_in_the_pages_language(client, people, language, label):
    application = services.application_create(by=people["alice"])
    client.force_login(people["alice"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(edit_url(application)).content.decode()
    select = re.search(r'<select name="category".*?</select>', html, re.S).group(0)
    assert f'<option value="" selected>{label}</option>' in select


def test_no_select_of_intake_precheck_or_receipts_shows_djangos_english_empty_choice(
    client, people
):
    from tests.test_workflow import submitted

    draft = services.application_create(by=people["alice"])
    application = submitted(people["bob"], sequence="135")
    client.force_login(people["bob"])
    pages = [
        edit_url(draft),
        "/eligibility/",
        f"/applications/{application.reference}/receipts/new/",
        "/applications/",
    ]
    for page in pages:
        html = client.get(page).content.decode()
        assert "Select an option" not in html and "---------" not in html, page


# --- the pre-check and the API -----------------------------------------------------------


def test_a_refused_precheck_has_the_error_summary_and_keeps_what_was_typed(client, directory):
    response = client.post(
        "/eligibility/", {"dob": "2018-02-30", "household_size": "0", "icd": "Q21.0"}
    )
    html = response.content.decode()
    errors = response.context["errors"]
    anchors = [e["anchor"] for e in errors]
    assert {"id_dob", "id_household_size", "id_registration_0", "id_category"} <= set(anchors)
    assert anchors[-1] == "id_plan_chemotherapy"  # "choose at least one treatment"
    assert 'id="error-summary"' in html and 'value="Q21.0"' in html
    for anchor in anchors:
        assert f'href="#{anchor}"' in html
        assert 'aria-invalid="true"' in input_tag(html, anchor) or anchor.endswith("_chemotherapy")


def test_the_apis_submit_refusal_lists_every_field_as_the_page_does(client, people):
    application = draft_with(
        people,
        skip={"H"},
        blank={"household_province", "household_prefecture", "g1_phone", "plan_chemotherapy"},
        extra={"G": {"account_number": "12"}},
    )
    token = api_token_for(people["alice"])
    response = client.post(
        f"/api/v1/applications/{application.reference}/submit/",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    found = {(e["section"], e["field"], e["code"]) for e in response.json()["errors"]}
    assert found == {
        ("A", "household_region", "A07"),
        ("B", "g1_phone", "B04"),
        ("D", "treatment_plan", "D07"),
        ("G", "account_number", "G04"),
        ("H", "consent_sharing", "H01"),
        ("H", "consent_date", "H02"),
        ("H", "consent_method", "H02"),
    }
    page_errors = selectors.submission_errors(application)
    assert len(page_errors) == len(response.json()["errors"]) == 7


def test_the_application_page_shows_empty_e02_amounts_as_zero_not_as_nothing(client, people):
    application = draft_with(
        people,
        blank={"critical_illness_insurance", "medical_assistance", "commercial_insurance"},
    )
    client.force_login(people["alice"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/applications/{application.reference}/").content.decode()
    for label in (
        "Paid by critical illness insurance (yuan)",
        "Paid by government medical assistance (yuan)",
        "Paid by commercial insurance (yuan)",
    ):
        # Zero, in the page's money format (80,000; 0), not an empty answer.
        assert re.search(rf"<dt>E02 {re.escape(label)}</dt><dd>0(\.00)?</dd>", html), label


@pytest.mark.parametrize(
    ("blank", "extra", "complete"),
    [
        ((), None, True),
        (("g2_phone", "plan_chemotherapy", "name", "bank_name"), None, False),  # strict-only
        (("g2_name", "g2_relationship", "g2_id_number", "g2_phone"), None, True),  # one guardian
        ((), {"D": {"icd": "Z99"}, "B": {"primary": "2", "g2_name": ""}}, False),  # wrong
    ],
)
def test_one_drafting_form_knows_whether_the_strict_check_passes(people, blank, extra, complete):
    """passes_strict (issue 18: one form per section) answers as the strict form does,
    with the strict-only rules (a half-filled second guardian, no treatment) included."""
    application = draft_with(people, blank=blank, extra=extra)
    answers = set()
    for key in ("A", "B", "C", "D", "E", "G", "H"):
        drafting = selectors.section_form(application, key)
        strict = selectors.section_form(application, key, strict=True)
        assert drafting.passes_strict() is strict.is_valid(), key
        answers.add(strict.is_valid())
    assert answers == ({True} if complete else {True, False})


def test_d01s_check_takes_the_category_loaded_with_the_application(
    people, django_assert_num_queries
):
    """D01 is checked against the category row read with the application, without a query
    of its own (issue 18); a change of its ICD ranges shows at the next read."""
    application = draft_with(people)
    loaded = Application.objects.select_related("child", "category").get(pk=application.pk)
    with django_assert_num_queries(0):
        assert selectors.section_form(loaded, "D").passes_strict()
    loaded.category.icd_codes = ["D66"]  # C91.0 is no longer in the category
    loaded.category.save()
    reread = Application.objects.select_related("child", "category").get(pk=application.pk)
    form = selectors.section_form(reread, "D")
    assert not form.passes_strict() and "icd" in form.errors
    assert not selectors.section_complete(reread, "D")
