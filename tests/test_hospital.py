"""Hospitals join the loop (issue 17): the directory, the hospital staff's to-confirm list,
confirm or correct D01-D03, D07 and D08, medical documents and receipts, what they see and
never see, the members' view of the confirmation, and the approve refusal.

Users: the conftest's people (alice/bob of member 1, carol/dave of member 2, sam the
secretariat) plus hana, staff of 首都医科大学附属北京儿童医院 (bch), and hugo, staff of
上海儿童医学中心 (scmc)."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aid_alliance import replayed_pages
from cases import access
from cases.errors import NotAllowed, WorkflowError
from cases.hospital import selectors
from cases.hospital import services as hospital_services
from cases.intake import services as intake
from cases.models import AccessRecord, Application, ApplicationEvent, Document, Receipt
from cases.review import services as workflow
from organizations import second_factor
from organizations import services as org_services
from organizations.models import Hospital, HospitalEvent, User
from tests.conftest import api_token_for
from tests.intake_data import CHILD_ID, GUARDIAN_1_ID, GUARDIAN_2_ID, PDF_BYTES
from tests.test_workflow import as_user, member, project, querydict, review_of, submitted

pytestmark = pytest.mark.django_db

BCH = "首都医科大学附属北京儿童医院"
SCMC = "上海交通大学医学院附属上海儿童医学中心"
AT_BCH = {"D": {"treating_hospital": BCH}, "H": {"consent_hospital": "on"}}


def hospital_user(username: str, code: str) -> User:
    return org_services.user_create(
        by=None,
        username=username,
        password="pw",
        role=User.Role.HOSPITAL_STAFF,
        hospital=Hospital.objects.get(code=code),
    )


@pytest.fixture
def hana(people):
    return hospital_user("hana", "bch")


@pytest.fixture
def hugo(people):
    return hospital_user("hugo", "scmc")


def at_bch(by, *, sequence="123", consent=True) -> Application:
    # C02 and C04 with values found nowhere else on the pages (the leak checks below).
    changes = {
        "D": {"treating_hospital": BCH},
        "C": {"annual_income": "31234", "debt_amount": "54321"},
    }
    if consent:
        changes["H"] = {"consent_hospital": "on"}
    return submitted(by, sequence=sequence, **changes)


@pytest.fixture
def application(people):
    return at_bch(people["alice"])


# --- the directory -----------------------------------------------------------------------------


def test_the_demo_directory_holds_about_ten_demo_hospitals_in_several_provinces(people):
    hospitals = Hospital.objects.all()
    assert 10 <= hospitals.count() <= 12
    assert all(h.is_demo for h in hospitals)
    assert len({h.region[:2] for h in hospitals}) >= 6
    assert {h.level for h in hospitals} >= {"3a", "2a"}
    assert hospitals.filter(is_childrens=True).count() >= 5


def test_the_secretariat_adds_and_changes_a_hospital_with_an_event_each(people):
    sam = people["sam"]
    hospital = org_services.hospital_create(
        by=sam, code="test-h", name="测试医院", region="110105", level="3b"
    )
    org_services.hospital_update(hospital=hospital, by=sam, level="3a", is_childrens=True)
    events = list(HospitalEvent.objects.filter(hospital=hospital).order_by("at", "pk"))
    assert [e.kind for e in events] == ["created", "changed"]
    assert events[1].by == sam
    assert events[1].changes == {"level": ["3b", "3a"], "is_childrens": ["False", "True"]}


def test_a_member_caseworker_cannot_edit_the_directory_and_a_bad_region_is_refused(people):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        org_services.hospital_create(by=people["alice"], code="x", name="X", region="110105")
    with pytest.raises(ValidationError):
        org_services.hospital_create(by=people["sam"], code="x", name="X", region="999999")
    assert not Hospital.objects.filter(code="x").exists()


def test_d06_picked_from_the_directory_stores_the_hospital_and_its_region(people):
    application = at_bch(people["alice"])
    bch = Hospital.objects.get(code="bch")
    assert application.treating_hospital_ref == bch
    assert application.hospital_region == bch.region  # not the typed 110102 of the sample


def test_a_typed_hospital_is_kept_by_name_and_the_secretariat_matches_it(client, people):
    application = submitted(people["alice"], D={"treating_hospital": "北京儿童医院"})
    assert application.treating_hospital_ref is None
    response = as_user(client, people["sam"]).get(reverse("hospital-match-list"))
    assert response.status_code == 200 and application.reference in response.content.decode()
    response = client.post(
        reverse("hospital-match", args=[application.reference]), {"hospital": "bch"}
    )
    application.refresh_from_db()
    assert application.treating_hospital_ref.code == "bch"
    assert application.hospital_region == "110102"
    assert application.events.filter(action="hospital_matched", actor=people["sam"]).exists()


def test_only_the_secretariat_matches_typed_hospitals(client, people):
    application = submitted(people["alice"], D={"treating_hospital": "北京儿童医院"})
    as_user(client, people["alice"])
    assert client.get(reverse("hospital-match-list")).status_code == 403
    response = client.post(
        reverse("hospital-match", args=[application.reference]), {"hospital": "bch"}
    )
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.treating_hospital_ref is None


def test_the_intake_form_offers_the_directory_as_type_ahead(client, people):
    application = intake.application_create(by=people["alice"])
    page = as_user(client, people["alice"]).get(
        reverse("application-edit", args=[application.reference])
    )
    html = page.content.decode()
    assert 'list="id_treating_hospital-list"' in html or "treating_hospital-list" in html
    assert f'<option value="{BCH}">' in html


# --- the role ------------------------------------------------------------------------------


def test_hospital_staff_need_a_hospital_and_the_second_factor(people, hana):
    assert second_factor.required_by_role(hana)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="nohospital", role=User.Role.HOSPITAL_STAFF)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            username="both",
            role=User.Role.HOSPITAL_STAFF,
            hospital=Hospital.objects.get(code="bch"),
            organization=member(1),
        )


def test_a_hospital_session_without_its_code_is_sent_to_the_second_factor(client, hana):
    client.password_only_login(hana)
    response = client.get(reverse("hospital-list"))
    assert response.status_code == 302 and "/accounts/otp/" in response["Location"]


# --- the to-confirm list -------------------------------------------------------------------


def test_the_list_shows_submitted_applications_of_the_hospital_with_hospital_consent(
    client, people, hana
):
    shown = at_bch(people["alice"], sequence="111")
    no_consent = at_bch(people["alice"], sequence="113", consent=False)
    elsewhere = submitted(
        people["alice"], sequence="115", D={"treating_hospital": SCMC}, H={"consent_hospital": "on"}
    )
    draft = intake.application_create(by=people["alice"])
    page = as_user(client, hana).get(reverse("hospital-list")).content.decode()
    assert shown.reference in page
    for hidden in (no_consent, elsewhere, draft):
        assert hidden.reference not in page
    assert AccessRecord.objects.filter(user=hana, application=shown, view="hospital-list").exists()


def test_the_list_page_runs_the_same_queries_for_one_or_five_applications(
    client, people, hana, django_assert_num_queries
):
    at_bch(people["alice"], sequence="111")
    as_user(client, hana)
    client.get(reverse("hospital-list"))  # session, language: warm
    # session, user with the second factor's device, the count, the page's rows with child,
    # category and confirmation, the access record (one insert), the user's hospital.
    with django_assert_num_queries(6) as one:
        client.get(reverse("hospital-list"))
    for n in range(4):
        at_bch(people["alice"], sequence=f"2{n}1")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("hospital-list"))
    assert response.content.decode().count("/hospital/applications/") == 5


def test_the_api_list_runs_the_same_queries_for_one_or_five_applications(
    client, people, hana, django_assert_num_queries
):
    token = api_token_for(hana)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    at_bch(people["alice"], sequence="111")
    client.get("/api/v1/hospital/applications/", **headers)
    with django_assert_num_queries(10) as one:
        client.get("/api/v1/hospital/applications/", **headers)
    for n in range(4):
        at_bch(people["alice"], sequence=f"2{n}1")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get("/api/v1/hospital/applications/", **headers)
    assert response.json()["count"] == 5


# --- confirm and correct -------------------------------------------------------------------


def test_confirming_records_who_when_and_a_history_row(people, hana, application):
    confirmation = hospital_services.hospital_confirm(application=application, by=hana)
    application.refresh_from_db()
    assert application.hospital_confirmation == confirmation
    assert (confirmation.hospital.code, confirmation.by, confirmation.kind) == (
        "bch",
        hana,
        "confirmed",
    )
    assert application.events.filter(action="hospital_confirmed", actor=hana).exists()
    assert AccessRecord.objects.filter(user=hana, view="hospital-confirm").exists()


def _correction(application, **changes):
    values = {
        "category": application.category,
        "icd": application.icd,
        "diagnosis_text": application.diagnosis_text,
        "treatment_plan": dict(application.treatment_plan),
        "estimated_cost": application.estimated_cost,
        "reason": "按本院最新费用预估",
    }
    values.update(changes)
    return values


def test_a_cost_correction_goes_through_the_estimate_revision(people, hana, application):
    hospital_services.hospital_correct(
        application=application,
        by=hana,
        **_correction(application, estimated_cost=Decimal("260000")),
    )
    application.refresh_from_db()
    assert application.estimated_cost == Decimal("260000")
    assert application.hospital_confirmation.kind == "corrected"
    assert application.hospital_confirmation.changes == {"estimated_cost": ["200000.00", "260000"]}
    assert application.events.filter(action="estimate_revised", actor=hana).exists()
    assert application.events.filter(action="hospital_corrected", actor=hana).exists()


def test_a_cost_correction_below_the_pledges_is_refused_and_writes_nothing(
    people, hana, application
):
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(100000),
        override_reason="测试",
        by=people["bob"],
    )
    events = ApplicationEvent.objects.filter(application=application).count()
    with pytest.raises(WorkflowError):
        hospital_services.hospital_correct(
            application=application,
            by=hana,
            **_correction(application, estimated_cost=Decimal("150000")),
        )
    application.refresh_from_db()
    assert application.estimated_cost == Decimal("200000")
    assert application.hospital_confirmation is None
    assert ApplicationEvent.objects.filter(application=application).count() == events


def test_a_correction_needs_a_reason_and_a_difference(people, hana, application):
    with pytest.raises(WorkflowError):
        hospital_services.hospital_correct(
            application=application, by=hana, **_correction(application, reason=" ")
        )
    with pytest.raises(WorkflowError):
        hospital_services.hospital_correct(
            application=application, by=hana, **_correction(application)
        )


def test_the_correction_page_keeps_what_was_typed_and_names_the_field(client, hana, application):
    as_user(client, hana)
    response = client.post(
        reverse("hospital-correct", args=[application.reference]),
        {
            "category": "LEUK",
            "icd": "Q21.0",
            "diagnosis_text": "急性淋巴细胞白血病（高危）",
            "plan_chemotherapy": "in_progress",
            "estimated_cost": "250000",
            "reason": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#id_icd"' in html and 'href="#id_reason"' in html
    assert 'value="急性淋巴细胞白血病（高危）"' in html and 'value="250000"' in html
    assert 'aria-invalid="true"' in html
    application.refresh_from_db()
    assert application.estimated_cost == Decimal("200000")


def test_a_withdrawn_consent_ends_the_hospitals_access(client, people, hana, application):
    as_user(client, hana)
    url = reverse("hospital-application", args=[application.reference])
    assert client.get(url).status_code == 200
    workflow.consent_withdraw(application=application, by=people["alice"], note="书面撤回")
    assert client.get(url).status_code == 404
    assert client.post(reverse("hospital-confirm", args=[application.reference])).status_code == 404
    assert application.reference not in client.get(reverse("hospital-list")).content.decode()
    with pytest.raises(NotAllowed):
        hospital_services.hospital_confirm(application=application, by=hana)


# --- who sees what -------------------------------------------------------------------------


def test_another_hospitals_staff_get_404_on_pages_documents_and_the_api(
    client, people, hana, hugo, application
):
    document = hospital_services.hospital_document_upload(
        application=application,
        doc_type="diagnosis_certificate",
        upload=SimpleUploadedFile("d.pdf", PDF_BYTES, content_type="application/pdf"),
        by=hana,
    )
    as_user(client, hugo)
    ref = application.reference
    for url in (
        reverse("hospital-application", args=[ref]),
        reverse("hospital-receipt", args=[ref]),
        reverse("hospital-document", args=[document.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("hospital-confirm", args=[ref]),
        reverse("hospital-correct", args=[ref]),
    ):
        assert client.post(url).status_code == 404, url
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(hugo)}"}
    for url in (
        f"/api/v1/hospital/applications/{ref}/",
        f"/api/v1/hospital/applications/{ref}/confirm/",
    ):
        method = client.post if url.endswith("confirm/") else client.get
        response = method(url, content_type="application/json", **headers)
        assert response.status_code == 404
        assert set(response.json()) == {"detail", "errors"}
    application.refresh_from_db()
    assert application.hospital_confirmation is None


def test_members_and_the_secretariat_cannot_use_the_hospital_pages_or_api(
    client, people, application
):
    for name in ("alice", "bob", "sam"):
        as_user(client, people[name])
        assert client.get(reverse("hospital-list")).status_code == 403
        assert (
            client.get(reverse("hospital-application", args=[application.reference])).status_code
            == 403
        )
        assert (
            client.post(reverse("hospital-confirm", args=[application.reference])).status_code
            == 403
        )
        headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(people[name])}"}
        response = client.get("/api/v1/hospital/applications/", **headers)
        assert response.status_code == 403 and set(response.json()) == {"detail", "errors"}
        response = client.post(
            f"/api/v1/hospital/applications/{application.reference}/confirm/", **headers
        )
        assert response.status_code == 403
    application.refresh_from_db()
    assert application.hospital_confirmation is None


SECRETS = (
    CHILD_ID,
    CHILD_ID[:6],  # even a masked ID number shows its first six characters
    GUARDIAN_1_ID,
    GUARDIAN_2_ID,
    "王大明",  # guardian
    "13800138000",
    "6217",  # bank account
    "中国银行",
    "31234",  # C02 income
    "31,234",
    "54321",  # C04 debts
    "54,321",
    "务工",
    "无房产",
    "某众筹平台",  # E03
    "80000",  # E02
    "北京市朝阳区",  # A09 address
)


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_the_hospital_sees_no_bank_economic_or_guardian_data_in_pages_and_api(
    client, people, hana, application
):
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(30000),
        override_reason="测试",
        note="成员内部备注：家庭情况复杂",
        by=people["bob"],
    )
    as_user(client, hana)
    ref = application.reference
    page = client.get(reverse("hospital-application", args=[ref])).content.decode()
    assert "王小明" in page and "C91.0" in page
    assert 'id="pledged-total">30,000<' in page  # the total pledged
    assert _leaks(page) == []
    assert "成员内部备注" not in page and "中国红十字基金会" not in page
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(hana)}"}
    body = client.get(f"/api/v1/hospital/applications/{ref}/", **headers).content.decode()
    assert "C91.0" in body and _leaks(body) == [] and "成员内部备注" not in body
    listing = client.get("/api/v1/hospital/applications/", **headers).content.decode()
    assert ref in listing and _leaks(listing) == []


def test_the_hospital_gets_no_pdf_export_or_member_page(client, people, hana, application):
    as_user(client, hana)
    ref = application.reference
    for url in (
        reverse("reports-application-pdf", args=[ref]),
        reverse("application-detail", args=[ref]),
        reverse("application-list-csv"),
        reverse("application-list"),
        reverse("application-data-export", args=[ref]),
        reverse("inbox"),
        reverse("reports-dashboard"),
        reverse("reports-download") + "?period=year&year=2026&format=csv",
        reverse("reports-authorities") + "?period=year&year=2026&format=csv",
        reverse("payments"),
    ):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert _leaks(response.content.decode(errors="replace")) == [], url
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(hana)}"}
    for url in (
        f"/api/v1/applications/{ref}/",
        "/api/v1/applications/",
        "/api/v1/receipts/",
        "/api/v1/reviews/",
        "/api/v1/documents/",
        "/api/v1/reports/figures/",
    ):
        response = client.get(url, **headers)
        assert response.status_code == 403, url
        assert _leaks(response.content.decode()) == [], url


def test_every_hospital_read_is_in_the_access_record(client, hana, application):
    as_user(client, hana)
    client.get(reverse("hospital-application", args=[application.reference]))
    assert AccessRecord.objects.filter(
        user=hana, application=application, view="hospital-detail"
    ).exists()


def test_the_hospital_view_holds_only_the_allowed_groups(people, hana, application):
    view = selectors.hospital_view(
        access.get_application_for_hospital(hana, application.reference), hana
    )
    assert (view.child_name, view.child_sex) == ("王小明", "Male") or view.child_name == "王小明"
    assert view.child_age is not None and view.pledged == Decimal(0) and view.paid == Decimal(0)
    assert set(view.needed) == {"diagnosis_certificate", "cost_estimate", "discharge_summary"}


# --- documents and receipts ------------------------------------------------------------------


def test_the_hospital_uploads_a_medical_document_through_the_intake_checks(
    client, hana, application
):
    as_user(client, hana)
    url = reverse("hospital-upload", args=[application.reference])
    response = client.post(
        url,
        {
            "doc_type": "cost_estimate",
            "file": SimpleUploadedFile("e.pdf", PDF_BYTES, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    document = Document.objects.get(application=application, doc_type="cost_estimate")
    assert document.uploaded_by == hana
    response = client.post(
        url,
        {
            "doc_type": "cost_estimate",
            "file": SimpleUploadedFile("e.pdf", b"<script>", content_type="application/pdf"),
        },
    )
    assert response.status_code == 400
    assert Document.objects.filter(application=application).count() == 1
    assert client.post(url, {"doc_type": "guardian_id"}).status_code == 400


def test_the_hospital_records_a_receipt_in_the_alliance_register(client, hana, application):
    as_user(client, hana)
    response = client.post(
        reverse("hospital-receipt", args=[application.reference]),
        {
            "code": "11010121",
            "number": "0000123456",
            "hospital": BCH,
            "issued_on": "2026-11-01",
            "kind": "inpatient",
            "total": "10000",
            "insurance_fund": "6000",
            "co_payment": "3000",
            "self_paid": "1000",
        },
    )
    assert response.status_code == 302
    receipt = Receipt.objects.get(application=application)
    assert receipt.recorded_by == hana and receipt.recorded_hospital.code == "bch"
    assert receipt.recorded_member == application.member
    assert application.events.filter(action="receipt_recorded", actor=hana).exists()


def test_the_api_confirms_corrects_uploads_and_records(client, people, hana):
    first = at_bch(people["alice"], sequence="111")
    second = at_bch(people["alice"], sequence="113")
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(hana)}"}
    base = "/api/v1/hospital/applications"
    response = client.post(f"{base}/{first.reference}/confirm/", **headers)
    assert (
        response.status_code == 200 and response.json()["confirmations"][0]["kind"] == "confirmed"
    )
    response = client.post(
        f"{base}/{second.reference}/correct/",
        {
            "category": "LEUK",
            "icd": "C91.0",
            "diagnosis_text": "急性淋巴细胞白血病",
            "plan_chemotherapy": "in_progress",
            "estimated_cost": "240000",
            "reason": "化疗方案调整",
        },
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.json()
    assert response.json()["medical"]["D08"] == "240000.00"
    response = client.post(
        f"{base}/{second.reference}/correct/",
        {"category": "LEUK", "icd": "bad", "reason": ""},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} >= {"icd", "reason"}
    response = client.post(
        f"{base}/{second.reference}/documents/",
        {
            "doc_type": "discharge_summary",
            "file": SimpleUploadedFile("s.pdf", PDF_BYTES, content_type="application/pdf"),
        },
        **headers,
    )
    assert response.status_code == 201
    receipt = {
        "code": "11010121",
        "number": "0000999",
        "hospital": BCH,
        "issued_on": "2026-11-01",
        "kind": "outpatient",
        "total": "100",
        "insurance_fund": "60",
        "co_payment": "30",
        "self_paid": "10",
    }
    response = client.post(
        f"{base}/{second.reference}/receipts/", receipt, content_type="application/json", **headers
    )
    assert response.status_code == 201
    response = client.post(
        f"{base}/{second.reference}/receipts/", receipt, content_type="application/json", **headers
    )
    assert response.status_code == 409 and set(response.json()) == {"detail", "errors"}


# --- the members' side -----------------------------------------------------------------------


def test_members_see_the_confirmation_in_the_inbox_its_filter_and_the_page(client, people, hana):
    confirmed = at_bch(people["alice"], sequence="111")
    waiting = at_bch(people["alice"], sequence="113")
    hospital_services.hospital_confirm(application=confirmed, by=hana)
    as_user(client, people["dave"])
    inbox = client.get(reverse("inbox"), {"hospital": "yes"}).content.decode()
    assert confirmed.reference in inbox and waiting.reference not in inbox
    assert "Confirmed by the hospital" in inbox
    inbox = client.get(reverse("inbox"), {"hospital": "no"}).content.decode()
    assert waiting.reference in inbox and confirmed.reference not in inbox
    page = client.get(reverse("application-detail", args=[confirmed.reference])).content.decode()
    assert "Confirmed by the hospital" in page and BCH in page and "hana" in page
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(people['dave'])}"}
    items = client.get("/api/v1/reviews/?hospital_confirmed=true", **headers).json()["results"]
    assert [i["reference"] for i in items] == [confirmed.reference]
    assert items[0]["hospital_confirmed_by"] == BCH


def test_the_confirmation_costs_the_page_one_query_and_nothing_without_it(
    client, people, hana, django_assert_num_queries
):
    """The confirmation, its hospital and its user are one query when there is one, none
    when there is not (cases.access._detail: not joined into the application's query)."""
    confirmed = at_bch(people["alice"], sequence="111")
    waiting = at_bch(people["alice"], sequence="113")
    hospital_services.hospital_confirm(application=confirmed, by=hana)
    as_user(client, people["dave"])
    pages = {a: reverse("application-detail", args=[a.reference]) for a in (confirmed, waiting)}
    for url in pages.values():
        client.get(url)  # warm: session, language
    replayed_pages.REPLAYS.clear()  # the pages built: their views' own reads counted
    with CaptureQueriesContext(connection) as unconfirmed:
        assert "Confirmed by the hospital" not in client.get(pages[waiting]).content.decode()
    with django_assert_num_queries(len(unconfirmed) + 1) as with_one:
        page = client.get(pages[confirmed]).content.decode()
    assert "Confirmed by the hospital" in page and BCH in page and "hana" in page
    (read,) = [
        q["sql"] for q in with_one.captured_queries if "cases_hospitalconfirmation" in q["sql"]
    ]
    assert "organizations_hospital" in read and "organizations_user" in read


def test_members_see_a_correction_by_code_label_and_value_not_field_names(
    client, people, hana, application
):
    hospital_services.hospital_correct(
        application=application,
        by=hana,
        **_correction(application, estimated_cost=Decimal("260000")),
    )
    as_user(client, people["dave"])
    page = client.get(reverse("application-detail", args=[application.reference]))
    panel = page.content.decode().split('id="hospital-confirmation"', 1)[-1].split("</section>")[0]
    assert "D08" in panel and "260,000" in panel
    assert "estimated_cost" not in panel


def test_a_member_requiring_confirmation_cannot_approve_before_it(people, hana, application):
    m1 = member(1)
    m1.require_hospital_confirmation = True
    m1.save()
    with pytest.raises(WorkflowError, match="hospital"):
        workflow.review_approve(
            review=review_of(application, 1),
            project=project("P01"),
            amount=Decimal(30000),
            override_reason="测试",
            by=people["bob"],
        )
    assert review_of(application, 1).state == "pending"
    hospital_services.hospital_confirm(application=application, by=hana)
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(30000),
        override_reason="测试",
        by=people["bob"],
    )
    assert review_of(application, 1).state == "approved"


def test_the_approve_page_says_why_it_refuses(client, people, application):
    m1 = member(1)
    m1.require_hospital_confirmation = True
    m1.save()
    as_user(client, people["bob"])
    response = client.post(
        reverse("review-action", args=[review_of(application, 1).pk, "approve"]),
        {"project": "P01", "amount": "30000", "override_reason": "测试", "confirm": "yes"},
    )
    assert "the hospital has not confirmed this application yet" in response.content.decode()
    assert review_of(application, 1).state == "pending"


def test_the_family_status_page_says_when_the_hospital_confirmed(client, hana, application):
    from cases.family.selectors import family_view
    from tests.test_family_status import opened

    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    assert 'id="hospital-confirmed"' not in opened(client, application).content.decode()
    confirmation = hospital_services.hospital_confirm(application=application, by=hana)
    assert family_view(application.pk).hospital_confirmed_at == confirmation.at
    html = client.get("/status/result/").content.decode()
    assert 'id="hospital-confirmed"' in html
    assert timezone.localtime(confirmation.at).strftime("%Y-%m-%d") in html


def test_a_caseworkers_later_change_to_d08_asks_the_hospital_again(people, hana, application):
    hospital_services.hospital_confirm(application=application, by=hana)
    workflow.review_request_info(
        review=review_of(application, 1), items="新的费用清单", by=people["bob"]
    )
    intake.section_save(
        application=application,
        section="D",
        data=querydict({**_d_section(), "estimated_cost": "210000"}),
        by=people["alice"],
    )
    application.refresh_from_db()
    assert application.hospital_confirmation is None


def _d_section():
    from tests.intake_data import SECTIONS

    return {**SECTIONS["D"], "treating_hospital": BCH}


# --- the admin and the member pages ------------------------------------------------------------


def test_the_secretariat_adds_a_hospital_in_the_admin_through_the_service(client, people):
    client.force_login(people["sam"])
    response = client.post(
        "/admin/organizations/hospital/add/",
        {
            "code": "admin-h",
            "name": "管理后台医院",
            "region": "110105",
            "level": "3a",
            "is_active": "on",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hospital = Hospital.objects.get(code="admin-h")
    assert HospitalEvent.objects.filter(
        hospital=hospital, kind="created", by=people["sam"]
    ).exists()


def test_hospital_staff_get_no_member_workspace_or_admin(client, hana):
    client.force_login(hana)
    assert client.get("/members/crcf/").status_code in (403, 404)
    assert client.get("/admin/").status_code in (302, 403)


def test_what_the_hospital_changed_is_shown_by_code_and_label_never_a_field_name(
    client, people, hana, application
):
    hospital_services.hospital_correct(
        application=application,
        by=hana,
        **_correction(
            application,
            treatment_plan={"chemotherapy": "in_progress", "transplant": "planned"},
            estimated_cost=Decimal("320000"),
        ),
    )
    application.refresh_from_db()
    assert application.treatment_plan == {"chemotherapy": "in_progress", "transplant": "planned"}
    for user, url in (
        (people["dave"], reverse("application-detail", args=[application.reference])),
        (hana, reverse("hospital-application", args=[application.reference])),
    ):
        html = as_user(client, user).get(url).content.decode()
        section = html[
            html.index('id="hospital-confirmation"' if user != hana else 'id="history"') :
        ]
        assert "D07" in section and "D08" in section
        for name in ("plan_transplant", "treatment_plan", "estimated_cost"):
            assert name not in section, (user, name)


def test_resaving_section_d_unchanged_keeps_the_confirmation_and_writes_no_change(
    people, hana, application
):
    # 200000 typed again is 200000.00 as stored: no change, no reset, no false history row.
    hospital_services.hospital_confirm(application=application, by=hana)
    workflow.review_request_info(review=review_of(application, 1), items="请补充", by=people["bob"])
    before = ApplicationEvent.objects.filter(application=application).count()
    intake.section_save(
        application=application, section="D", data=querydict(_d_section()), by=people["alice"]
    )
    application.refresh_from_db()
    assert application.hospital_confirmation is not None
    assert ApplicationEvent.objects.filter(application=application).count() == before


def test_a_hospital_receipt_names_the_recording_hospital_whatever_was_posted(
    client, hana, application
):
    as_user(client, hana)
    response = client.post(
        reverse("hospital-receipt", args=[application.reference]),
        {
            "code": "11010121",
            "number": "0000123999",
            "hospital": "另一家医院",
            "issued_on": "2026-11-01",
            "kind": "inpatient",
            "total": "10000",
            "insurance_fund": "6000",
            "co_payment": "3000",
            "self_paid": "1000",
        },
    )
    assert response.status_code == 302
    assert Receipt.objects.get(application=application).hospital == BCH


def test_requiring_confirmation_says_when_no_hospital_can_confirm(people):
    typed = submitted(people["alice"], sequence="131")  # D06 typed, not from the directory
    m1 = member(1)
    m1.require_hospital_confirmation = True
    m1.save()
    with pytest.raises(WorkflowError, match="no hospital can confirm this one"):
        workflow.review_approve(
            review=review_of(typed, 1),
            project=project("P01"),
            amount=Decimal(30000),
            override_reason="测试",
            by=people["bob"],
        )
