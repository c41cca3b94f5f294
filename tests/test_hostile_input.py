"""Hostile input in every text field (issue 10): markup is shown as text on the pages and in
the PDF, overlong values and characters a database cannot hold get a message at the field,
and nothing is half saved. Uploads: tests/test_upload_hardening.py; JSON bodies to the API:
tests/test_api_bad_bodies.py; spreadsheet formulas: tests/test_export_formulas.py."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils.html import escape

from cases.intake import services
from cases.models import Application, ApplicationEvent, MemberReview, Receipt, ReviewEvent
from tests.intake_data import SECTIONS
from tests.test_reports import get_bytes, pdf_text
from tests.test_workflow import project, querydict, review_of, submitted

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = (SCRIPT, IMG)
RAW_TAGS = ("<script>alert", "<img src=x")

# Every free-text field of sections A–H with its form's max_length (cases.intake.forms).
TEXT_FIELDS = [
    ("A", "name", 50),
    ("A", "address", 200),
    ("B", "g1_name", 50),
    ("B", "g1_occupation", 100),
    ("B", "g2_name", 50),
    ("B", "g2_occupation", 100),
    ("C", "income_source", 100),
    ("C", "assets_debts", 1000),
    ("D", "diagnosis_text", 200),
    ("D", "diagnosing_hospital", 100),
    ("D", "treating_hospital", 100),
    ("D", "department", 50),
    ("E", "aid1_source", 100),
    ("E", "aid2_source", 100),
    ("E", "aid3_source", 100),
    ("G", "bank_name", 100),
    ("G", "account_name", 100),
]
AID_ROW = {"kind": "charity", "amount": "1000"}


def section_data(section: str, field: str, value: str) -> dict:
    data = {**SECTIONS[section], field: value}
    if section == "E" and field != "aid1_source":  # a row of other aid needs all its parts
        row = field.split("_")[0]
        data |= {f"{row}_{key}": part for key, part in AID_ROW.items()}
    return data


def post_section(client, application, section, data, **headers):
    return client.post(
        f"/applications/{application.reference}/sections/{section}/", data, **headers
    )


def stored(application, section, field):
    application = Application.objects.select_related("child").get(pk=application.pk)
    return services.SECTION_FORMS[section].initial_for(application).get(field, "")


def assert_escaped(html: str, value: str):
    assert escape(value) in html
    for tag in RAW_TAGS:
        assert tag not in html, tag


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
def alice(client, people):
    client.force_login(people["alice"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


# --- (a) markup is text ---------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE, ids=["script", "img"])
@pytest.mark.parametrize(("section", "field", "max_length"), TEXT_FIELDS)
def test_markup_in_a_section_field_is_stored_as_typed_and_shown_as_text(
    alice, draft, section, field, max_length, value
):
    response = post_section(alice, draft, section, section_data(section, field, value))
    assert response.status_code == 302
    assert stored(draft, section, field) == value
    for page in (f"/applications/{draft.reference}/edit/", f"/applications/{draft.reference}/"):
        assert_escaped(alice.get(page).content.decode(), value)
    # The htmx fragment the autosave swaps in, too.
    fragment = post_section(
        alice, draft, section, section_data(section, field, value), HTTP_HX_REQUEST="true"
    )
    assert_escaped(fragment.content.decode(), value)


def hostile_application(by):
    """A submitted application with markup in every free-text field."""
    changes = {}
    for number, (section, field, _max_length) in enumerate(TEXT_FIELDS):
        data = section_data(section, field, HOSTILE[number % 2])
        changes.setdefault(section, {}).update(
            {key: value for key, value in data.items() if data[key] != SECTIONS[section].get(key)}
        )
    return submitted(by, **changes)


def test_markup_is_text_in_the_application_pdf_and_on_every_page(alice, people, tmp_path):
    application = hostile_application(people["alice"])
    response = alice.get(f"/reports/applications/{application.reference}/pdf/")
    assert response.status_code == 200
    text = pdf_text(get_bytes(response), tmp_path)
    assert SCRIPT in text and IMG in text  # printed literally, not run or dropped
    pages = [
        f"/applications/{application.reference}/",
        f"/applications/{application.reference}/receipt/",
        "/applications/",
        f"/applications/?q={SCRIPT}",
    ]
    for page in pages:
        html = alice.get(page).content.decode()
        for tag in RAW_TAGS:
            assert tag not in html, (page, tag)
    assert escape(SCRIPT) in alice.get("/applications/").content.decode()  # the child's name


# --- (b) overlong values --------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["one", "100k"])
@pytest.mark.parametrize(("section", "field", "max_length"), TEXT_FIELDS)
def test_an_overlong_value_gets_a_chinese_message_at_its_field_and_is_not_saved(
    alice, draft, section, field, max_length, extra
):
    length = max_length + 1 if extra == "one" else 100_000
    before = stored(draft, section, field)
    value = "长" * length
    response = post_section(
        alice, draft, section, section_data(section, field, value), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert f"不超过 {max_length} " in errors[field][0], errors[field]
    assert stored(draft, section, field) == before
    draft.refresh_from_db()
    # A value too long for the field is not kept as pending input either.
    kept = draft.pending_input.get(section, {}).get(field, "")
    assert len(kept) <= max_length + 1


# --- (c) characters a database cannot hold --------------------------------------------------


@pytest.mark.parametrize(("section", "field", "max_length"), TEXT_FIELDS)
def test_a_nul_character_gets_a_message_at_its_field(alice, draft, section, field, max_length):
    before = stored(draft, section, field)
    response = post_section(
        alice,
        draft,
        section,
        section_data(section, field, "王\x00明"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and "空字符" in errors[field][0], errors
    assert stored(draft, section, field) == before
    # The page still opens: the NUL was not kept as pending input (PostgreSQL refuses it).
    assert alice.get(f"/applications/{draft.reference}/edit/").status_code == 200


def test_bytes_that_are_not_utf8_or_a_lone_surrogate_are_not_a_500(alice, draft):
    # %ED%A0%80 is U+D800 encoded as if it were a character; %FF is never UTF-8.
    body = b"name=%ED%A0%80%FF&address=x"
    response = alice.generic(
        "POST",
        f"/applications/{draft.reference}/sections/A/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    name = stored(draft, "A", "name")
    assert "\ud800" not in name  # replaced (U+FFFD) by the request's decoding


# --- review notes, receipts, the directory --------------------------------------------------


@pytest.fixture
def routed(people):
    return submitted(people["alice"])


def as_bob(client, people):
    client.force_login(people["bob"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def test_markup_in_review_notes_is_shown_as_text(client, people, routed):
    bob = as_bob(client, people)
    review = review_of(routed, 1)
    bob.post(f"/reviews/{review.pk}/take/", {"note": SCRIPT})
    bob.post(f"/reviews/{review.pk}/request-info/", {"items": IMG, "note": SCRIPT})
    review.refresh_from_db()
    assert review.state == "info_requested" and review.requested_items == IMG
    for user in ("bob", "alice", "dave"):
        client.force_login(people[user])
        html = client.get(f"/applications/{routed.reference}/").content.decode()
        assert_escaped(html, IMG)
    inbox = as_bob(client, people).get("/inbox/").content.decode()
    for tag in RAW_TAGS:
        assert tag not in inbox


def test_markup_in_an_approval_is_shown_as_text(client, people, routed):
    bob = as_bob(client, people)
    review = review_of(routed, 1)
    body = {
        "project": "P01",
        "amount": "1000",
        "override_reason": SCRIPT,
        "note": IMG,
        "confirm": "yes",
    }
    assert bob.post(f"/reviews/{review.pk}/approve/", body).status_code == 302
    review.refresh_from_db()
    assert review.state == "approved" and review.override_reason == SCRIPT
    # The reason is in the timeline every member sees; the internal note only bob's member.
    html = bob.get(f"/applications/{routed.reference}/").content.decode()
    assert_escaped(html, SCRIPT)
    assert_escaped(html, IMG)
    client.force_login(people["dave"])
    assert_escaped(client.get(f"/applications/{routed.reference}/").content.decode(), SCRIPT)


REVIEW_TEXTS = [
    ("take", "note", 500, {}),
    ("request-info", "items", 500, {"note": ""}),
    ("request-info", "note", 500, {"items": "户口本"}),
    ("decline", "note", 500, {"reason": "no_budget"}),
    ("approve", "description", 300, {"project": "P01", "amount": "1000"}),
    ("approve", "override_reason", 300, {"project": "P01", "amount": "1000"}),
    ("approve", "note", 500, {"project": "P01", "amount": "1000"}),
]


@pytest.mark.parametrize("length", ["one", "100k"])
@pytest.mark.parametrize(("action", "field", "max_length", "rest"), REVIEW_TEXTS)
def test_an_overlong_review_text_is_refused_with_a_message_and_nothing_moves(
    client, people, routed, action, field, max_length, rest, length
):
    bob = as_bob(client, people)
    review = review_of(routed, 1)
    events = ReviewEvent.objects.count()
    value = "长" * (max_length + 1 if length == "one" else 100_000)
    response = bob.post(f"/reviews/{review.pk}/{action}/", {**rest, field: value}, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]] + [
        e["message"] for e in response.context.get("errors") or []
    ]
    assert any(f"不超过 {max_length} " in m for m in messages), messages
    review.refresh_from_db()
    assert review.state == MemberReview.State.PENDING
    assert ReviewEvent.objects.count() == events


@pytest.mark.parametrize(
    ("action", "field", "rest"),
    [
        ("take", "note", {}),
        ("request-info", "items", {}),
        ("approve", "description", {"project": "P01", "amount": "1000"}),
        ("decline", "note", {"reason": "no_budget"}),
    ],
)
def test_a_nul_character_in_a_review_text_is_refused_with_a_message(
    client, people, routed, action, field, rest
):
    bob = as_bob(client, people)
    review = review_of(routed, 1)
    response = bob.post(f"/reviews/{review.pk}/{action}/", {**rest, field: "好\x00的"}, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]] + [
        e["message"] for e in response.context.get("errors") or []
    ]
    assert any("空字符" in m for m in messages), messages
    review.refresh_from_db()
    assert review.state == MemberReview.State.PENDING


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("revise-estimate", {"estimated_cost": "1" * 30}),
        ("revise-estimate", {"estimated_cost": "1e30"}),
        ("revise-estimate", {"estimated_cost": "NaN"}),
        ("revise-estimate", {"estimated_cost": "300000", "note": "长" * 301}),
        ("close", {"reason": "recovered", "note": "长" * 100_000}),
        ("withdraw", {"note": "好\x00的"}),
    ],
)
def test_bad_input_to_an_application_action_is_refused_with_a_message(
    client, people, routed, action, body
):
    client.force_login(people["alice"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    events = ApplicationEvent.objects.count()
    response = client.post(f"/applications/{routed.reference}/do/{action}/", body, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]
    routed.refresh_from_db()
    assert routed.status == "submitted" and routed.estimated_cost == Decimal(200000)
    assert ApplicationEvent.objects.count() == events


RECEIPT = {
    "code": "11010124",
    "number": "0012345678",
    "hospital": "北京儿童医院",
    "issued_on": "2026-11-01",
    "kind": "inpatient",
    "patient_number": "ZY2026-0815",
    "total": "50000",
    "insurance_fund": "30000",
    "co_payment": "12000",
    "self_paid": "8000",
}


@pytest.mark.parametrize("field", ["hospital", "patient_number"])
def test_markup_in_a_receipt_is_shown_as_text(client, people, routed, field):
    bob = as_bob(client, people)
    value = IMG if field == "patient_number" else SCRIPT
    response = bob.post(
        f"/applications/{routed.reference}/receipts/new/", {**RECEIPT, field: value}
    )
    assert response.status_code == 302, response.context["form"].errors
    receipt = Receipt.objects.get()
    assert getattr(receipt, field) == value
    for page in (f"/receipts/{receipt.pk}/", f"/applications/{routed.reference}/"):
        html = bob.get(page).content.decode()
        for tag in RAW_TAGS:
            assert tag not in html, page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hospital", "长" * 101, "不超过 100 "),
        ("hospital", "长" * 100_000, "不超过 100 "),
        ("patient_number", "长" * 31, "不超过 30 "),
        ("hospital", "北京\x00医院", "空字符"),
        ("code", "1" * 41, "不超过 40 "),
        ("total", "1" * 30, ""),
        ("total", "NaN", ""),
        ("total", "Infinity", ""),
        ("total", "50000.001", ""),
        ("issued_on", "2026-02-30", ""),
    ],
)
def test_bad_receipt_input_gets_a_message_at_its_field_and_nothing_is_recorded(
    client, people, routed, field, value, message
):
    bob = as_bob(client, people)
    response = bob.post(
        f"/applications/{routed.reference}/receipts/new/", {**RECEIPT, field: value}
    )
    assert response.status_code == 400  # the form again, with its errors
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in errors[field][0]
    assert not Receipt.objects.exists()


def test_markup_in_the_directory_is_shown_as_text(client, people, directory):
    project_ = project("P01")
    project_.name_zh = SCRIPT
    project_.description = IMG
    project_.save()
    member = project_.member
    member.name_zh = IMG
    member.save()
    pages = ["/directory/", f"/directory/{project_.code}/", f"/members/{member.short_name}/"]
    client.force_login(people["sam"])
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for tag in RAW_TAGS:
            assert tag not in html, page
    response = client.post("/eligibility/", {})
    assert "<script>alert" not in response.content.decode()


def test_the_secretariat_edits_the_directory_with_markup_and_overlong_names(client, people):
    client.force_login(people["sam"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    member = project("P01").member
    url = f"/admin/organizations/memberorganization/{member.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, list | dict)
    }
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(url, {**data, "name_zh": "长" * 101})
    assert response.status_code == 200
    assert "name_zh" in response.context["adminform"].form.errors
    response = client.post(url, {**data, "name_zh": "联盟\x00"})
    assert response.status_code == 200
    assert "name_zh" in response.context["adminform"].form.errors
    response = client.post(url, {**data, "name_zh": SCRIPT})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name_zh == SCRIPT
    html = client.get("/directory/").content.decode()
    assert escape(SCRIPT) in html and "<script>alert" not in html
