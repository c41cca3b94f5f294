"""REST API v1 (issue 8): the whole lifecycle with two members' tokens, and every refusal
from the other side, with the browser's rules and messages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from aid_alliance.throttling import ClientRateThrottle
from cases.bills import services as bills
from cases.intake import services
from cases.models import AccessRecord, Allocation, Application, MemberReview, Receipt
from cases.review import services as workflow
from tests.conftest import api_token_for
from tests.intake_data import PDF_BYTES, SECTIONS, resident_id
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
API = "/api/v1"
CHECKLIST = [
    ("household_register", ""),
    ("guardian_id", ""),
    ("diagnosis_certificate", ""),
    ("inpatient_record", ""),
    ("cost_estimate", ""),
    ("hardship_certificate", "dibao"),
]


def api_sections(sequence="123") -> dict:
    """tests/intake_data.SECTIONS in the API's shape: one region code, one plan object."""
    body = {key: dict(values) for key, values in SECTIONS.items()}
    body["A"]["id_number"] = resident_id("110105", "2018-03-10", sequence)
    for key in ("household_province", "household_prefecture"):
        del body["A"][key]
    body["A"]["household_region"] = "110105"
    for key in ("hospital_province", "hospital_prefecture", "plan_chemotherapy"):
        del body["D"][key]
    body["D"]["hospital_region"] = "110102"
    body["D"]["treatment_plan"] = {"chemotherapy": "in_progress"}
    body["C"]["household_size"] = 4  # numbers may be JSON numbers
    body["E"]["aid1_received"] = True
    body["H"]["consent_sharing"] = True
    return body


RECEIPT = {
    "code": "11010124",
    "number": "0012345678",
    "check_code": "8a3f21",
    "hospital": "北京儿童医院",
    "issued_on": str(TODAY - timedelta(days=3)),
    "kind": "inpatient",
    "patient_number": "ZY2026-0815",
    "total": "50000",
    "insurance_fund": "30000",
    "co_payment": "12000",
    "self_paid": "8000",
}  # the family paid 20000 itself


def recorded(application, by, **changes) -> Receipt:
    """A receipt recorded through the service (not the API)."""
    values = {**RECEIPT, **changes}
    for key in ("total", "insurance_fund", "co_payment", "self_paid"):
        values[key] = Decimal(values[key])
    values["issued_on"] = TODAY - timedelta(days=3)
    return bills.receipt_record(application=application, by=by, **values)


PAYMENT = {
    "paid_on": str(TODAY),
    "payee_kind": "hospital",
    "payee_name": "北京儿童医院",
    "bank_name": "工商银行",
    "account_number": "6222020200112233",
    "method": "bank_transfer",
    "bank_reference": "TX-0001",
}


class Api:
    """A member system: the test client with a user's token, in English unless told."""

    def __init__(self, client, user=None, *, language="en"):
        self.client = client
        self.headers = {}
        if user is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"Token {api_token_for(user)}"
        if language:
            self.headers["HTTP_ACCEPT_LANGUAGE"] = language

    def get(self, path, **params):
        return self.client.get(API + path, params, **self.headers)

    def post(self, path, body=None, **kwargs):
        return self.client.post(
            API + path, body or {}, content_type="application/json", **self.headers, **kwargs
        )

    def patch(self, path, body):
        return self.client.patch(API + path, body, content_type="application/json", **self.headers)

    def upload(self, path, data):
        return self.client.post(API + path, data, **self.headers)


@pytest.fixture
def as_(client, people):
    return lambda name, **kw: Api(client, people[name] if name else None, **kw)


def fill_by_api(api, reference, sections=None):
    for key, body in (sections or api_sections()).items():
        response = api.patch(f"/applications/{reference}/sections/{key}/", body)
        assert response.status_code == 200, (key, response.json())
    for doc_type, flag in CHECKLIST:
        upload = SimpleUploadedFile("scan.pdf", PDF_BYTES, content_type="application/pdf")
        response = api.upload(
            f"/applications/{reference}/documents/",
            {"doc_type": doc_type, "flag": flag, "file": upload},
        )
        assert response.status_code == 201, response.json()


@pytest.fixture
def application(people):
    """Alice's application, submitted and routed to every member (through the services)."""
    return submitted(people["alice"])


def error_of(response, field=None) -> dict:
    body = response.json()
    assert set(body) >= {"detail", "errors"}, body
    if field is None:
        return body
    return next(e for e in body["errors"] if e["field"] == field)


# --- the lifecycle -------------------------------------------------------------------------


def test_the_whole_lifecycle_with_two_members_tokens(as_, people):
    alice, bob, dave = as_("alice"), as_("bob"), as_("dave")

    # Alice's member system opens a draft and fills it, section by section.
    response = alice.post("/applications/")
    assert response.status_code == 201
    draft = response.json()
    reference = draft["reference"]
    assert draft["status"] == "draft" and draft["editable"] is True
    assert response["Location"].endswith(f"/api/v1/applications/{reference}/")
    fill_by_api(alice, reference)

    body = alice.get(f"/applications/{reference}/").json()
    assert body["complete"] == dict.fromkeys("ABCDEFGH", True)
    assert body["section_errors"] == [] and body["missing_documents"] == []
    assert body["sections"]["A"]["household_region"] == "110105"
    assert body["sections"]["D"]["treatment_plan"] == {"chemotherapy": "in_progress"}
    assert body["sections"]["C"]["economic_flags"] == ["dibao"]
    assert body["need"] == "105000.00" and body["per_capita_income"] == "7500.00"

    # Submitted: routed to every member.
    response = alice.post(f"/applications/{reference}/submit/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "submitted" and body["editable"] is False
    assert [r["state"] for r in body["reviews"]] == ["pending"] * 8

    # Bob (member 1's reviewer) finds it in his inbox, takes it and pledges 15,000 yuan.
    inbox = bob.get("/reviews/").json()["results"]
    assert [(r["reference"], r["state"]) for r in inbox] == [(reference, "pending")]
    crcf = inbox[0]["id"]
    assert inbox[0]["funding_gap"] == "105000.00"
    assert bob.post(f"/reviews/{crcf}/take/", {"note": "mine"}).json()["state"] == "in_review"
    response = bob.post(f"/reviews/{crcf}/approve/", {"project": "P01", "amount": 15000})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved" and response.json()["funding_gap"] == "90000.00"

    # Dave (member 2's reviewer) pledges 10,000 yuan from P04, straight from pending.
    cccf = dave.get("/reviews/").json()["results"][0]["id"]
    response = dave.post(f"/reviews/{cccf}/approve/", {"project": "P04", "amount": "10000.00"})
    assert response.status_code == 200, response.json()

    # Everyone on the application sees both pledges.
    reviews = alice.get(f"/applications/{reference}/").json()["reviews"]
    pledges = {r["member"]: (r["state"], r["amount"]) for r in reviews if r["amount"]}
    assert pledges == {"crcf": ("approved", "15000.00"), "cccf": ("approved", "10000.00")}

    # Bob records the receipt; both members allocate from it; Bob pays.
    response = bob.post(f"/applications/{reference}/receipts/", RECEIPT)
    assert response.status_code == 201, response.json()
    receipt = response.json()
    assert (receipt["room"], receipt["recorded_member"]) == ("20000.00", "crcf")
    response = bob.post(
        f"/reviews/{crcf}/allocations/", {"receipt": receipt["id"], "amount": "15000"}
    )
    assert response.status_code == 201, response.json()
    response = dave.post(
        f"/reviews/{cccf}/allocations/", {"receipt": receipt["id"], "amount": 5000}
    )
    assert response.status_code == 201, response.json()
    held = bob.get(f"/receipts/{receipt['id']}/").json()
    assert held["room"] == "0.00"
    assert {h["member"]: h["amount"] for h in held["held"]} == {
        "crcf": "15000.00",
        "cccf": "5000.00",
    }
    response = bob.post(f"/reviews/{crcf}/payments/", {**PAYMENT, "amount": "15000"})
    assert response.status_code == 201, response.json()
    assert response.json()["account_number"] == "************2233"
    review = bob.get(f"/reviews/{crcf}/").json()
    assert (review["state"], review["paid_total"]) == ("paid", "15000.00")
    assert [p["amount"] for p in bob.get("/payments/").json()["results"]] == ["15000.00"]

    # Every read of the child's data through the API is in the access record (§5).
    views = set(AccessRecord.objects.values_list("view", flat=True))
    assert {"api-detail", "api-section", "api-inbox", "api-review", "api-receipt"} <= views
    assert AccessRecord.objects.filter(user=people["dave"], view="api-inbox").exists()


def test_a_reversed_allocation_and_payment_give_their_room_back(as_, people, application):
    bob = as_("bob")
    review = workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
    )
    receipt = bob.post(f"/applications/{application.reference}/receipts/", RECEIPT).json()
    allocation = bob.post(
        f"/reviews/{review.pk}/allocations/", {"receipt": receipt["id"], "amount": "8000"}
    ).json()
    payment = bob.post(f"/reviews/{review.pk}/payments/", {**PAYMENT, "amount": "8000"}).json()

    # The payment first: an allocation that is paid cannot be taken back.
    response = bob.post(f"/allocations/{allocation['id']}/reverse/", {"note": "wrong receipt"})
    assert response.status_code == 409
    assert "reverse the payment first" in response.json()["detail"]
    assert bob.post(f"/payments/{payment['id']}/reverse/", {"note": ""}).status_code == 400
    response = bob.post(f"/payments/{payment['id']}/reverse/", {"note": "bank returned it"})
    assert response.status_code == 201 and response.json()["amount"] == "-8000.00"
    response = bob.post(f"/allocations/{allocation['id']}/reverse/", {"note": "wrong receipt"})
    assert response.status_code == 201 and response.json()["reverses"] == allocation["id"]
    assert Receipt.objects.get(pk=receipt["id"]).room == Decimal("20000")
    assert MemberReview.objects.get(pk=review.pk).state == "approved"


def test_a_member_system_answers_an_information_request(as_, people, application):
    crcf = review_of(application, 1)
    workflow.review_request_info(review=crcf, items="诊断证明原件", by=people["bob"])
    alice = as_("alice")
    # The section may now be changed (a submitted application with an open request).
    response = alice.patch(
        f"/applications/{application.reference}/sections/A/", {"address": "北京市海淀区 2 号"}
    )
    assert response.status_code == 200 and response.json()["address"] == "北京市海淀区 2 号"
    response = alice.post(f"/applications/{application.reference}/reviews/{crcf.pk}/answer/")
    assert response.status_code == 200 and response.json()["state"] == "in_review"
    assert response.json()["requested_items"] == "诊断证明原件"


# --- refusals -----------------------------------------------------------------------------------


def test_another_members_review_is_not_found(as_, application):
    crcf = review_of(application, 1)
    carol, dave = as_("carol"), as_("dave")
    assert carol.get(f"/reviews/{crcf.pk}/").status_code == 404
    response = dave.post(f"/reviews/{crcf.pk}/approve/", {"project": "P04", "amount": 1000})
    assert response.status_code == 404 and error_of(response)["detail"]
    assert dave.post(f"/reviews/{crcf.pk}/take/").status_code == 404
    assert MemberReview.objects.get(pk=crcf.pk).state == "pending"


def test_another_members_draft_is_not_found_and_a_routed_application_is_read_only(
    as_, people, application
):
    carol = as_("carol")
    draft = as_("alice").post("/applications/").json()["reference"]
    assert carol.get(f"/applications/{draft}/").status_code == 404
    assert carol.patch(f"/applications/{draft}/sections/A/", {"name": "x"}).status_code == 404
    # Routed to member 2: carol reads it, but it is member 1's to change.
    assert carol.get(f"/applications/{application.reference}/").status_code == 200
    response = carol.post(f"/applications/{application.reference}/withdraw/")
    assert response.status_code == 403


def test_a_caseworker_cannot_approve(as_, application):
    response = as_("alice").post(
        f"/reviews/{review_of(application, 1).pk}/approve/", {"project": "P01", "amount": 1000}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Only this member's reviewers can decide on its review."


def test_the_secretariat_reads_but_never_writes(as_, application):
    sam = as_("sam")
    assert sam.get(f"/applications/{application.reference}/").status_code == 200
    assert sam.get("/applications/").json()["results"][0]["reference"] == application.reference
    assert sam.post("/applications/").status_code == 403
    response = sam.patch(f"/applications/{application.reference}/sections/A/", {"name": "x"})
    assert response.status_code == 403
    assert sam.post(f"/reviews/{review_of(application, 1).pk}/take/").status_code == 403
    response = sam.post(f"/applications/{application.reference}/receipts/", RECEIPT)
    assert response.status_code == 403
    assert sam.get("/reviews/").status_code == 403  # the inbox is a member's


def test_without_a_token_the_answer_is_401(as_, application):
    anonymous = as_(None)
    for path in ("/applications/", f"/applications/{application.reference}/", "/reviews/"):
        response = anonymous.get(path)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json() == {
            "detail": "Authentication credentials were not provided.",
            "errors": [],
        }
    anonymous.headers["HTTP_AUTHORIZATION"] = "Token not-a-token"
    assert anonymous.get("/applications/").status_code == 401


def test_the_browser_session_needs_its_csrf_token(client, people):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people["alice"])
    assert browser.get(f"{API}/applications/").status_code == 200
    response = browser.post(f"{API}/applications/", content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    browser.get("/applications/")  # any page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        f"{API}/applications/", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201


def test_a_bad_id_number_is_a_400_naming_a03_and_nothing_is_saved(as_):
    alice = as_("alice")
    reference = alice.post("/applications/").json()["reference"]
    good = api_sections()["A"]
    wrong = good["id_number"][:-1] + ("0" if good["id_number"][-1] != "0" else "1")
    response = alice.patch(f"/applications/{reference}/sections/A/", {**good, "id_number": wrong})
    assert response.status_code == 400
    error = error_of(response, "id_number")
    assert (error["section"], error["code"]) == ("A", "A03")
    assert "check" in error["message"].lower()
    # All or nothing: not even the valid fields are saved.
    section = alice.get(f"/applications/{reference}/sections/A/").json()
    assert section["name"] == "" and section["id_number"] == ""


def test_errors_name_the_standards_codes_of_other_sections(as_):
    alice = as_("alice")
    reference = alice.post("/applications/").json()["reference"]
    response = alice.patch(
        f"/applications/{reference}/sections/B/", {"g1_phone": "12345", "g2_id_number": "1"}
    )
    codes = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert codes == {("g1_phone", "B04"), ("g2_id_number", "B03")}
    response = alice.patch(
        f"/applications/{reference}/sections/D/",
        {"hospital_region": "999999", "treatment_plan": {"chemo": "done"}},
    )
    codes = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert codes == {("hospital_region", "D06"), ("treatment_plan", "D07")}
    response = alice.patch(
        f"/applications/{reference}/sections/E/", {"aid2_kind": "charity", "aid2_source": "某基金"}
    )
    assert error_of(response, "aid2_amount")["code"] == "E03"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"nickname": "x"}, "nickname", "Unknown field."),
        ({"name": ["a", "b"]}, "name", "Give a single text or number value."),
        ({"name": {"a": 1}}, "name", "Give a single text or number value."),
        ({"name": True}, "name", "Give a single text or number value."),
        ({"dob": "2018-02-30"}, "dob", "Enter a valid date."),
        ({"household_region": "11010"}, "household_region", "Enter a 6-digit region code"),
    ],
)
def test_bad_section_input_is_refused_with_400(as_, body, field, message):
    alice = as_("alice")
    reference = alice.post("/applications/").json()["reference"]
    response = alice.patch(f"/applications/{reference}/sections/A/", body)
    assert response.status_code == 400
    assert error_of(response, field)["message"].startswith(message)


def test_a_patch_keeps_the_fields_it_does_not_send(as_):
    alice = as_("alice")
    reference = alice.post("/applications/").json()["reference"]
    alice.patch(f"/applications/{reference}/sections/C/", api_sections()["C"])
    response = alice.patch(f"/applications/{reference}/sections/C/", {"income_source": "种地"})
    assert response.json() == {
        "household_size": 4,
        "annual_income": "30000.00",
        "income_source": "种地",
        "assets_debts": "无房产",
        "debt_amount": "50000.00",
        "economic_flags": ["dibao"],
    }


def test_an_incomplete_draft_is_refused_with_what_is_missing(as_):
    alice = as_("alice")
    reference = alice.post("/applications/").json()["reference"]
    alice.patch(f"/applications/{reference}/sections/A/", {"name": "王小明"})
    response = alice.post(f"/applications/{reference}/submit/")
    assert response.status_code == 409
    body = response.json()
    assert body["detail"].startswith("These sections are not complete or not valid yet")
    fields = {(e["section"], e["field"], e["code"]) for e in body["errors"]}
    assert ("A", "id_number", "A03") in fields and ("H", "consent_sharing", "H01") in fields
    assert ("A", "name", "A01") not in fields
    assert Application.objects.get(reference=reference).status == "draft"


def test_approving_a_closed_review_is_a_conflict(as_, application):
    bob = as_("bob")
    crcf = review_of(application, 1).pk
    assert bob.post(f"/reviews/{crcf}/decline/", {"reason": "no_budget"}).status_code == 200
    response = bob.post(f"/reviews/{crcf}/approve/", {"project": "P01", "amount": 1000})
    assert response.status_code == 409
    assert response.json()["detail"] == "This review is Declined: it cannot be moved to Approved."


def test_a_pledge_beyond_the_funding_gap_is_a_conflict(as_, application):
    response = as_("bob").post(
        f"/reviews/{review_of(application, 1).pk}/approve/", {"project": "P01", "amount": 200000}
    )
    assert response.status_code == 409
    assert "The remaining need is 105,000 yuan" in response.json()["detail"]
    assert review_of(application, 1).state == "pending"


def test_approval_input_is_checked_like_the_browser(as_, application):
    bob = as_("bob")
    crcf = review_of(application, 1).pk
    response = bob.post(f"/reviews/{crcf}/approve/", {"project": "P04", "amount": 1000})
    assert error_of(response, "project")["message"] == "Choose one of your own member's projects."
    response = bob.post(f"/reviews/{crcf}/approve/", {"project": "P01"})
    assert response.status_code == 400
    assert error_of(response, "amount")["message"].startswith("Give the amount of the grant")
    response = bob.post(f"/reviews/{crcf}/decline/", {"reason": "bored"})
    assert error_of(response, "reason")["message"] == "Choose a reason from the list."


def test_over_allocation_is_a_conflict(as_, people, application):
    bob = as_("bob")
    review = workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(30000),
        by=people["bob"],
    )
    receipt = bob.post(f"/applications/{application.reference}/receipts/", RECEIPT).json()
    response = bob.post(
        f"/reviews/{review.pk}/allocations/", {"receipt": receipt["id"], "amount": "20000.01"}
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Only 20,000 yuan of this receipt is left")
    assert not Allocation.objects.exists()
    # Paying more than is allocated is refused the same way.
    response = bob.post(f"/reviews/{review.pk}/payments/", {**PAYMENT, "amount": "1"})
    assert response.status_code == 409


def test_a_caseworker_cannot_allocate_and_another_member_cannot_see_the_pledge(
    as_, people, application
):
    review = workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
    )
    receipt = recorded(application, people["bob"])
    body = {"receipt": receipt.pk, "amount": "100"}
    assert as_("alice").post(f"/reviews/{review.pk}/allocations/", body).status_code == 403
    assert as_("dave").post(f"/reviews/{review.pk}/allocations/", body).status_code == 404
    assert as_("dave").get("/allocations/").json()["count"] == 0


def test_a_duplicate_receipt_is_a_conflict_naming_who_recorded_it(as_, people, application):
    bob, dave = as_("bob"), as_("dave")
    first = bob.post(f"/applications/{application.reference}/receipts/", RECEIPT).json()
    # The same paper typed with full-width digits and a dash by another member.
    again = {**RECEIPT, "code": "１１０１-０１２４"}
    response = dave.post(f"/applications/{application.reference}/receipts/", again)
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "This receipt is already recorded."
    message = error_of(response, "number")["message"]
    assert message.startswith("This receipt is already recorded")
    # No page, no panel "below" or "above": the message names where the details are.
    assert "below" not in message and "above" not in message and "existing" in message
    existing = body["existing"]
    assert existing["id"] == first["id"] and existing["same_child"] is True
    assert (existing["recorded_by"], existing["recorded_member"]) == ("bob", "crcf")
    assert existing["room"] == "20000.00" and existing["held"] == []
    assert Receipt.objects.count() == 1


def test_a_duplicate_receipt_of_another_child_shows_only_who_recorded_it(as_, people, application):
    as_("bob").post(f"/applications/{application.reference}/receipts/", RECEIPT)
    other = submitted(people["carol"], sequence="135")
    response = as_("dave").post(f"/applications/{other.reference}/receipts/", RECEIPT)
    existing = response.json()["existing"]
    assert response.status_code == 409 and existing["same_child"] is False
    assert existing["id"] is None and existing["room"] is None
    assert existing["recorded_member"] == "crcf"


def test_receipt_input_is_checked_by_the_browsers_form(as_, application):
    response = as_("bob").post(
        f"/applications/{application.reference}/receipts/", {**RECEIPT, "total": "49999"}
    )
    assert response.status_code == 400
    assert error_of(response, "total")["message"].startswith("The three parts add up to")


def test_a_document_is_uploaded_checked_and_downloaded_with_an_access_record(as_, people):
    alice = as_("alice")
    reference = alice.post("/applications/").json()["reference"]
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = alice.upload(
        f"/applications/{reference}/documents/", {"doc_type": "guardian_id", "file": fake}
    )
    assert response.status_code == 400
    assert error_of(response, "file")["message"].startswith("Only PDF, JPEG and PNG")
    good = SimpleUploadedFile("id.pdf", PDF_BYTES, content_type="application/pdf")
    document = alice.upload(
        f"/applications/{reference}/documents/", {"doc_type": "guardian_id", "file": good}
    ).json()
    listed = alice.get("/documents/", application=reference).json()
    assert [d["id"] for d in listed["results"]] == [document["id"]]
    assert alice.get("/documents/", application=reference, status="rejected").json()["count"] == 0
    response = alice.get(f"/documents/{document['id']}/file/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert AccessRecord.objects.filter(view="api-document", user=people["alice"]).exists()
    assert as_("carol").get(f"/documents/{document['id']}/file/").status_code == 404
    response = alice.post(f"/documents/{document['id']}/review/", {"decision": "rejected"})
    assert error_of(response, "reason")["message"].startswith("Say why the document is rejected")
    response = alice.post(
        f"/documents/{document['id']}/review/", {"decision": "rejected", "reason": "模糊"}
    )
    assert response.json()["status"] == "rejected"


def test_messages_are_chinese_unless_the_request_asks_otherwise(as_, application):
    crcf = review_of(application, 1).pk
    response = as_("alice", language=None).post(
        f"/reviews/{crcf}/approve/", {"project": "P01", "amount": 1000}
    )
    assert response.json()["detail"] == "只有该成员机构的审核人才能处理它的审核。"
    assert response["Content-Language"] == "zh-hans"
    response = as_("alice", language="en-US,en;q=0.9").post(
        f"/reviews/{crcf}/approve/", {"project": "P01", "amount": 1000}
    )
    assert response.json()["detail"] == "Only this member's reviewers can decide on its review."
    assert "Accept-Language" in response["Vary"]


def test_too_many_requests_are_refused_with_429(as_, monkeypatch):
    monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "user", "3/minute")
    alice = as_("alice")
    codes = [alice.get("/applications/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = alice.get("/applications/")
    assert int(response["Retry-After"]) > 0
    assert response.json()["detail"].startswith("Request was throttled")


def test_an_anonymous_client_cannot_dodge_the_limit_with_x_forwarded_for(client, monkeypatch):
    monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "anon", "2/minute")
    codes = [
        client.get(f"{API}/organizations/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_create_api_token_gives_a_member_system_its_token(client, people, capsys):
    call_command("create_api_token", "bob", "--name", "CRCF", "--scope", "read_write")
    secret = capsys.readouterr().out.split()[-1]
    response = client.get(f"{API}/reviews/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/applications/?category=FLU",
        "/applications/?status=lost",
        "/applications/?cursor=bogus",
        "/reviews/?waiting=99999999",
        "/receipts/?issued_on_after=2026-02-30",
        "/allocations/?review=99999999999999999999999",
        "/applications/?q=%00",
        "/applications/%00/",
        "/applications/DB-2026-%E2%80%AE/sections/A/",
    ],
)
def test_bad_query_parameters_are_a_4xx(as_, application, path):
    response = as_("bob").client.get(API + path, **as_("bob").headers)
    assert 400 <= response.status_code < 500, response.content
    assert "detail" in response.json()


# --- query counts: constant per page, whatever the number of rows -------------------------------


@pytest.fixture
def many(people):
    """Three submitted applications of member 1 (and so three reviews in every inbox), with a
    pledge, a receipt, an allocation, a payment and a document on each."""
    applications = [submitted(people["alice"], sequence=s) for s in ("123", "135", "147")]
    for n, application in enumerate(applications):
        review = workflow.review_approve(
            review=review_of(application, 1),
            project=project("P01"),
            amount=Decimal(15000),
            by=people["bob"],
        )
        receipt = recorded(application, people["bob"], number=f"00{n}")
        upload = SimpleUploadedFile("id.pdf", PDF_BYTES, content_type="application/pdf")
        services.document_upload(
            application=application,
            doc_type="guardian_id",
            flag="",
            upload=upload,
            by=people["alice"],
        )
        bills.allocation_create(
            review=review, receipt=receipt, amount=Decimal(100), by=people["bob"]
        )
        bills.payment_record(
            review=review,
            by=people["bob"],
            **{**PAYMENT, "paid_on": TODAY, "amount": Decimal(100)},
        )
    return applications


# Every request reads and writes its rate counter in the database cache (aid_alliance/
# throttling.py): a read, a count, then a write inside a savepoint in a test's transaction.
THROTTLE_QUERIES = 6


@pytest.mark.parametrize(
    ("user", "path", "queries"),
    [
        # token, page, access records
        ("alice", "/applications/", 3),
        # token, category, page, access records
        ("alice", "/applications/?category=LEUK&status=submitted", 4),
        ("sam", "/applications/?member=crcf", 4),
        # token, page with the gap sums, access records
        ("dave", "/reviews/", 3),
        ("dave", "/reviews/?state=pending&eligible=true", 3),
        # token, count, page, access records
        ("bob", "/receipts/", 4),
        ("bob", "/payments/", 4),
        ("alice", "/documents/", 4),
        # token, count, page
        ("bob", "/allocations/", 3),
    ],
)
def test_list_query_counts_are_constant(
    as_, people, many, django_assert_num_queries, user, path, queries
):
    api = as_(user)
    # A token's first use of the minute also writes its last_used_at: counted are the
    # requests after it (organizations.tokens.LAST_USED_PRECISION).
    assert api.get(path).status_code == 200
    queries += THROTTLE_QUERIES
    with django_assert_num_queries(queries):
        response = api.get(path)
    assert response.status_code == 200
    assert response.json()["results"], path
    submitted(people["alice"], sequence="159")
    with django_assert_num_queries(queries):
        assert api.get(path).status_code == 200


# --- the secretariat's report figures ------------------------------------------------------------


def test_the_secretariat_reads_the_report_figures_of_a_period(as_, people, application):
    from reports.periods import current_quarter

    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
    )
    quarter = current_quarter(TODAY).code
    response = as_("sam").get("/reports/figures/", period=quarter)
    assert response.status_code == 200
    figures = response.json()
    assert figures["period"]["code"] == quarter
    assert (figures["received"], figures["funded"], figures["pledged"]) == (1, 1, "15000.00")
    crcf = next(line for line in figures["by_member"] if line["key"] == "crcf")
    assert crcf["pledged"] == "15000.00"


def test_report_figures_are_the_secretariats_and_need_a_period(as_):
    assert as_("bob").get("/reports/figures/", period="2026-Q4").status_code == 403
    response = as_("sam").get("/reports/figures/", period="2026-Q5")
    assert response.status_code == 400 and error_of(response, "period")["message"]
    assert as_("sam").get("/reports/figures/").status_code == 400
