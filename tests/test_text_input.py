"""Names and free text (issue 14): bidirectional controls and zero-width characters are
refused at the field, on the pages and in the API; names are stored NFKC-normalised, free
text keeps its Chinese punctuation (aid_alliance/text.py)."""

import json

import pytest
from django.conf import settings as django_settings

from aid_alliance import text
from cases.intake import services
from cases.models import Application, MemberReview, ReviewEvent
from tests.conftest import api_token_for
from tests.intake_data import SECTIONS
from tests.test_workflow import querydict, review_of, submitted

pytestmark = pytest.mark.django_db

INVISIBLE = {
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first-strong isolate": "\u2068",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte-order mark": "\ufeff",
}


@pytest.fixture
def alice(client, people):
    client.force_login(people["alice"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


@pytest.fixture
def draft(people):
    application = services.application_create(by=people["alice"])
    services.section_save(
        application=application,
        section="A",
        data=querydict(SECTIONS["A"]),
        by=people["alice"],
    )
    return application


@pytest.fixture
def token(people):
    return api_token_for(people["alice"])


def post_section(client, application, section, changes):
    return client.post(
        f"/applications/{application.reference}/sections/{section}/",
        {**SECTIONS[section], **changes},
        HTTP_HX_REQUEST="true",
    )


def patch_section(client, token, application, section, body):
    return client.patch(
        f"/api/v1/applications/{application.reference}/sections/{section}/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )


def child(application):
    return Application.objects.select_related("child").get(pk=application.pk).child


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_an_invisible_character_in_the_childs_name_is_refused_at_the_field(alice, draft, char):
    response = post_section(alice, draft, "A", {"name": f"王{char}小明"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "不可见的控制字符" in errors["name"][0], errors
    assert f"U+{ord(char):04X}" in errors["name"][0]
    assert child(draft).name == "王小明"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("A", "address"),
        ("B", "g1_name"),
        ("C", "assets_debts"),
        ("D", "diagnosis_text"),
        ("E", "aid1_source"),
        ("G", "account_name"),
    ],
)
def test_a_right_to_left_override_is_refused_in_every_section(alice, draft, section, field):
    response = post_section(alice, draft, section, {field: "北京\u202e儿童医院"})
    errors = response.context["form"].errors
    assert field in errors and "不可见" in errors[field][0], errors


def test_the_api_refuses_a_right_to_left_override_naming_the_field_and_saves_nothing(
    client, token, draft
):
    response = patch_section(client, token, draft, "A", {"name": "王\u202e小明", "address": "上海"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("name", "A01")], errors
    assert "不可见的控制字符" in errors[0]["message"]
    assert (child(draft).name, child(draft).address) == ("王小明", SECTIONS["A"]["address"])


def test_a_full_width_name_is_stored_normalised_from_the_page_and_the_api(alice, token, draft):
    post_section(alice, draft, "A", {"name": "ＷＡＮＧ小明１"})
    assert child(draft).name == "WANG小明1"
    response = patch_section(alice, token, draft, "A", {"name": "王小明\uf900"})  # 豈, compat.
    assert response.status_code == 200
    assert child(draft).name == response.json()["name"] == "王小明豈"
    response = patch_section(alice, token, draft, "B", {"g1_name": "ＬＩ　Ｈｏｎｇ"})
    assert response.status_code == 200 and response.json()["g1_name"] == "LI Hong"


def test_free_text_keeps_its_chinese_punctuation_but_not_full_width_digits(alice, draft):
    post_section(alice, draft, "A", {"address": "北京市朝阳区（东三环）某路１２号，３单元"})
    assert child(draft).address == "北京市朝阳区（东三环）某路12号，3单元"


def test_a_name_lengthened_by_normalisation_is_measured_after_it():
    field = text.PlainTextField(name=True, max_length=3)
    with pytest.raises(text.ValidationError) as refused:
        field.clean("㍿")  # NFKC: 株式会社, four characters
    assert refused.value.error_list[0].code == "max_length"


@pytest.fixture
def routed(people):
    return submitted(people["alice"])


def test_a_review_note_with_a_zero_width_space_is_refused_on_the_page_and_by_the_api(
    client, people, routed
):
    review = review_of(routed, 1)
    client.force_login(people["bob"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(f"/reviews/{review.pk}/take/", {"note": "好\u200b的"}, follow=True)
    assert any("不可见" in str(m) for m in response.context["messages"])
    key = api_token_for(people["bob"])
    response = client.post(
        f"/api/v1/reviews/{review.pk}/take/",
        {"note": "好\u200b的"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "note"
    review.refresh_from_db()
    assert review.state == MemberReview.State.PENDING
    assert not ReviewEvent.objects.filter(review=review, note__contains="好").exists()


def test_a_receipts_hospital_with_a_bidi_isolate_is_refused_at_the_field(client, people, routed):
    from tests.test_hostile_input import RECEIPT

    client.force_login(people["bob"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(
        f"/applications/{routed.reference}/receipts/new/",
        {**RECEIPT, "hospital": "北京\u2067儿童医院"},
    )
    assert response.status_code == 400
    assert "不可见" in response.context["form"].errors["hospital"][0]


def test_the_directory_admin_refuses_a_bidi_override_in_a_members_name(client, people):
    from organizations.models import MemberOrganization

    member = MemberOrganization.objects.get(number=1)
    client.force_login(people["sam"])
    page = client.get(f"/admin/organizations/memberorganization/{member.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in {**form.initial, "name_zh": "联盟\u202e会"}.items()
        if value is not None
    }
    response = client.post(f"/admin/organizations/memberorganization/{member.pk}/change/", data)
    assert response.status_code == 200
    assert "不可见" in str(response.context["adminform"].form.errors["name_zh"])
    member.refresh_from_db()
    assert "\u202e" not in member.name_zh
