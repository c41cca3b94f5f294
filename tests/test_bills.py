"""Medical receipts, allocations and payments under the unified bill rules (standard.md §4)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aid_alliance import replayed_pages
from cases import funding
from cases.bills import services as bills
from cases.models import (
    Allocation,
    ApplicationEvent,
    Document,
    MemberReview,
    Payment,
    Receipt,
    ReviewEvent,
)
from cases.review import services as workflow
from organizations.models import MemberOrganization, User
from organizations.services import user_create
from tests.intake_data import PDF_BYTES
from tests.test_workflow import as_user, project, review_of, submitted

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
RECEIPT = {
    "code": "11010124",
    "number": "0012345678",
    "check_code": "8a3f21",
    "hospital": "北京儿童医院",
    "issued_on": TODAY - timedelta(days=3),
    "kind": "inpatient",
    "patient_number": "ZY2026-0815",
    "total": Decimal("50000"),
    "insurance_fund": Decimal("30000"),
    "co_payment": Decimal("12000"),
    "self_paid": Decimal("8000"),
}  # the family paid 20000 itself


def form_data(**changes):
    data = {**RECEIPT, **changes}
    return {key: str(value) for key, value in data.items()}


@pytest.fixture
def application(people):
    return submitted(people["alice"])


@pytest.fixture
def pledges(people, application):
    """Member 1 pledges 15000 (P01, bob) and member 2 pledges 10000 (P04, dave)."""
    bob_pledge = workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
    )
    dave_pledge = workflow.review_approve(
        review=review_of(application, 2),
        project=project("P04"),
        amount=Decimal(10000),
        by=people["dave"],
    )
    return bob_pledge, dave_pledge


@pytest.fixture
def receipt(people, application):
    return bills.receipt_record(application=application, by=people["bob"], **RECEIPT)


def pay(review, by, amount, **changes):
    data = {
        "paid_on": TODAY,
        "payee_kind": "hospital",
        "payee_name": "北京儿童医院",
        "bank_name": "工商银行",
        "account_number": "6222020200112233",
        "amount": Decimal(amount),
        "method": "bank_transfer",
        "bank_reference": "TX-0001",
    }
    return bills.payment_record(review=review, by=by, **{**data, **changes})


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- the receipt register ------------------------------------------------------------------


def test_a_receipt_key_ignores_full_width_digits_spaces_and_dashes():
    assert bills.normalize_key("１１０１ ０１２４") == "11010124"
    assert bills.normalize_key(" 0012-345—678 ") == "0012345678"
    assert bills.normalize_key("ab12") == "AB12"
    assert bills.normalize_key("票据") == ""
    assert bills.normalize_key("1" * 21) == ""


def test_a_receipt_is_recorded_once_with_its_parts(people, application, receipt):
    assert receipt.child == application.child
    assert receipt.reimbursable_amount == Decimal("20000")
    assert receipt.room == Decimal("20000")
    assert receipt.recorded_member.number == 1
    assert ApplicationEvent.objects.filter(
        application=application, action="receipt_recorded"
    ).exists()


def test_the_same_receipt_typed_with_full_width_digits_is_recognised(
    client, people, application, receipt, pledges
):
    bills.allocation_create(
        review=pledges[1], receipt=receipt, amount=Decimal(6000), by=people["dave"]
    )
    response = as_user(client, people["dave"]).post(
        f"/applications/{application.reference}/receipts/new/",
        form_data(code="１１０１－０１２４", number="００１２ ３４５６７８"),
    )
    assert response.status_code == 400
    assert Receipt.objects.count() == 1
    form = response.context["form"]
    assert form.errors["number"] == [
        "This receipt is already recorded: see who recorded it in the register entry on this page."
    ]
    # The error summary's link goes to the panel of the recorded receipt, above the form.
    assert [e["anchor"] for e in response.context["errors"]] == ["existing-receipt"]
    html = response.content.decode()
    # Who recorded it, when, and how much is reimbursed by whom, instead of a second copy.
    assert "Recorded by bob of" in html
    assert timezone.localtime(receipt.recorded_at).strftime("%Y-%m-%d %H:%M") in html
    assert "6,000" in html and "14,000" in html
    assert response.context["existing"]["held"][0][0].number == 2


def test_a_duplicate_receipt_is_found_by_its_key_before_the_other_fields_are_typed(
    client, people, application, receipt
):
    """Issue 16, finding 7: only the code and number are needed to find the receipt
    already recorded; the other missing fields are told too, and what was typed kept."""
    response = as_user(client, people["bob"]).post(
        f"/applications/{application.reference}/receipts/new/",
        {"code": "1101-0124", "number": "0012345678", "hospital": "昆明儿童医院"},
    )
    assert response.status_code == 400
    assert Receipt.objects.count() == 1
    assert response.context["existing"]["receipt"] == receipt
    errors = response.context["errors"]
    anchors = [e["anchor"] for e in errors]
    assert anchors[:2] == ["existing-receipt", "id_issued_on"], anchors
    assert "id_total" in anchors
    html = response.content.decode()
    assert 'id="existing-receipt"' in html and 'href="#existing-receipt"' in html
    assert html.index('id="existing-receipt"') < html.index('id="receipt-form"')
    assert 'value="1101-0124"' in html and 'value="昆明儿童医院"' in html
    assert re.search(r'<input[^>]*name="total"[^>]*aria-invalid="true"', html)


def test_a_refused_receipt_keeps_what_was_sent_under_an_error_summary(client, people, application):
    response = as_user(client, people["bob"]).post(
        f"/applications/{application.reference}/receipts/new/",
        form_data(total="五万", code="1101-0124"),
    )
    assert response.status_code == 400
    assert response.context["existing"] is None
    assert [e["anchor"] for e in response.context["errors"]] == ["id_total"]
    html = response.content.decode()
    assert 'class="error-summary"' in html and 'value="五万"' in html


def test_a_receipt_of_another_child_is_not_offered_for_this_one(client, people, receipt):
    other = submitted(people["alice"], sequence="455")
    response = as_user(client, people["bob"]).post(
        f"/applications/{other.reference}/receipts/new/", form_data()
    )
    assert response.status_code == 400
    assert response.context["form"].errors["number"] == [
        "This receipt is already recorded for another child."
    ]
    assert "Open the recorded receipt" not in response.content.decode()


def test_parts_that_do_not_add_up_are_refused_at_the_field(client, people, application):
    response = as_user(client, people["bob"]).post(
        f"/applications/{application.reference}/receipts/new/", form_data(self_paid="7000")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["total"] == [
        "The three parts add up to 49,000 yuan, not 50,000 yuan: check the amounts on the receipt."
    ]
    # What was typed is shown again, and nothing is written.
    assert 'value="7000"' in response.content.decode()
    assert not Receipt.objects.exists()
    with pytest.raises(workflow.WorkflowError):
        bills.receipt_record(
            application=application, by=people["bob"], **{**RECEIPT, "self_paid": Decimal(7000)}
        )


def test_the_database_refuses_parts_that_do_not_add_up(people, application, receipt):
    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.filter(pk=receipt.pk).update(self_paid=Decimal(1))


def test_bad_receipt_input_gets_chinese_messages_at_the_fields(client, people, application):
    client.force_login(people["bob"])  # Chinese by default
    response = client.post(
        f"/applications/{application.reference}/receipts/new/",
        form_data(code="票据", total="五万", issued_on=(TODAY + timedelta(days=2)).isoformat()),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["code"] == ["请填写票据上印的字母和数字（最多 20 位）。"]
    assert errors["total"] == ["请输入以元为单位的金额，例如 12000 或 12000.50。"]
    assert errors["issued_on"] == ["日期不能晚于今天。"]


def test_amounts_typed_with_full_width_digits_and_commas_are_read(client, people, application):
    response = as_user(client, people["bob"]).post(
        f"/applications/{application.reference}/receipts/new/",
        form_data(total="５０,０００元", insurance_fund="30,000", co_payment="¥12000"),
    )
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    assert response["Location"] == f"/receipts/{receipt.pk}/"
    assert receipt.total == Decimal("50000") and receipt.co_payment == Decimal("12000")


def test_a_scan_is_stored_as_a_checked_document(client, people, application):
    scan = SimpleUploadedFile("receipt.pdf", PDF_BYTES, content_type="application/pdf")
    response = as_user(client, people["bob"]).post(
        f"/applications/{application.reference}/receipts/new/", {**form_data(), "scan": scan}
    )
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    assert receipt.scan.doc_type == Document.Type.MEDICAL_RECEIPT
    assert receipt.scan.application == application
    fake = SimpleUploadedFile(
        "receipt.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = client.post(
        f"/applications/{application.reference}/receipts/new/",
        {**form_data(number="0012345679"), "scan": fake},
    )
    assert response.status_code == 400
    assert Receipt.objects.count() == 1


# --- allocations ---------------------------------------------------------------------------


def test_allocations_on_a_receipt_stop_at_what_the_family_paid(people, receipt, pledges):
    bob_pledge, dave_pledge = pledges
    bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(12000), by=people["bob"]
    )
    with pytest.raises(workflow.WorkflowError, match="Only 8,000 yuan of this receipt"):
        bills.allocation_create(
            review=dave_pledge, receipt=receipt, amount=Decimal("8000.01"), by=people["dave"]
        )
    bills.allocation_create(
        review=dave_pledge, receipt=receipt, amount=Decimal(8000), by=people["dave"]
    )
    assert refreshed(receipt).allocated_total == Decimal(20000)
    assert refreshed(receipt).room == 0


def test_over_allocation_of_a_pledge_is_refused(people, application, receipt, pledges):
    second = bills.receipt_record(
        application=application, by=people["bob"], **{**RECEIPT, "number": "0012345679"}
    )
    bob_pledge = pledges[0]
    bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(10000), by=people["bob"]
    )
    with pytest.raises(workflow.WorkflowError, match="Only 5,000 yuan of the pledge"):
        bills.allocation_create(
            review=bob_pledge, receipt=second, amount=Decimal(6000), by=people["bob"]
        )
    assert refreshed(bob_pledge).allocated_total == Decimal(10000)
    assert refreshed(second).allocated_total == 0


def test_a_receipt_belongs_to_one_child(people, receipt):
    other = submitted(people["alice"], sequence="455")
    pledge = workflow.review_approve(
        review=review_of(other, 1), project=project("P01"), amount=Decimal(5000), by=people["bob"]
    )
    with pytest.raises(workflow.WorkflowError, match="another child"):
        bills.allocation_create(
            review=pledge, receipt=receipt, amount=Decimal(100), by=people["bob"]
        )


def test_only_an_approved_grant_is_allocated(people, application, receipt):
    with pytest.raises(workflow.WorkflowError, match="only an approved pledge"):
        bills.allocation_create(
            review=review_of(application, 1),
            receipt=receipt,
            amount=Decimal(100),
            by=people["bob"],
        )


def test_a_reversal_restores_the_room_and_keeps_the_history(people, receipt, pledges):
    bob_pledge, dave_pledge = pledges
    first = bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(15000), by=people["bob"]
    )
    with pytest.raises(workflow.WorkflowError, match="Say why"):
        bills.allocation_reverse(allocation=first, by=people["bob"], note=" ")
    reversal = bills.allocation_reverse(allocation=first, by=people["bob"], note="typed wrong")
    assert reversal.amount == Decimal(-15000) and reversal.reverses == first
    assert refreshed(receipt).room == Decimal(20000)
    assert refreshed(bob_pledge).allocated_total == 0
    # The original row is unchanged; both stay.
    assert refreshed(first).amount == Decimal(15000)
    assert Allocation.objects.filter(receipt=receipt).count() == 2
    with pytest.raises(workflow.WorkflowError, match="reversed already"):
        bills.allocation_reverse(allocation=first, by=people["bob"], note="again")
    with pytest.raises(workflow.WorkflowError, match="cannot be reversed"):
        bills.allocation_reverse(allocation=reversal, by=people["bob"], note="undo")
    # The room is really free again: member 2 can take all of it.
    bills.allocation_create(
        review=dave_pledge, receipt=receipt, amount=Decimal(10000), by=people["dave"]
    )
    assert refreshed(receipt).room == Decimal(10000)


def test_a_paid_allocation_is_not_reversed_before_its_payment(people, receipt, pledges):
    bob_pledge = pledges[0]
    allocation = bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(15000), by=people["bob"]
    )
    pay(bob_pledge, people["bob"], 15000)
    with pytest.raises(workflow.WorkflowError, match="reverse the payment first"):
        bills.allocation_reverse(allocation=allocation, by=people["bob"], note="wrong")


# --- payments ------------------------------------------------------------------------------


def test_payment_moves_the_review_to_paying_then_paid(people, application, receipt, pledges):
    bob_pledge = pledges[0]
    bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(15000), by=people["bob"]
    )
    pay(bob_pledge, people["bob"], 5000)
    assert refreshed(bob_pledge).state == MemberReview.State.PAYING
    pay(bob_pledge, people["bob"], 10000)
    bob_pledge = refreshed(bob_pledge)
    assert bob_pledge.state == MemberReview.State.PAID
    assert bob_pledge.paid_total == Decimal(15000)
    moves = list(
        ReviewEvent.objects.filter(review=bob_pledge).values_list("from_state", "to_state")
    )
    assert moves[-2:] == [("approved", "paying"), ("paying", "paid")]
    assert ApplicationEvent.objects.filter(application=application, action="paid").count() == 2
    # A pledge paid in full counts in the funding gap as before.
    assert funding.remaining_need(application) == Decimal(105000 - 25000)


def test_a_member_pays_only_against_allocated_receipts(people, receipt, pledges):
    bob_pledge = pledges[0]
    with pytest.raises(workflow.WorkflowError, match="allocate receipts"):
        pay(bob_pledge, people["bob"], 100)
    bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(4000), by=people["bob"]
    )
    with pytest.raises(workflow.WorkflowError, match="Only 4,000 yuan"):
        pay(bob_pledge, people["bob"], 4001)
    with pytest.raises(workflow.WorkflowError, match="future"):  # tomorrow when it runs
        pay(bob_pledge, people["bob"], 100, paid_on=timezone.localdate() + timedelta(days=1))
    assert not Payment.objects.exists()
    assert refreshed(bob_pledge).state == MemberReview.State.APPROVED


def test_a_payment_reversal_moves_the_review_back_and_keeps_both_rows(people, receipt, pledges):
    bob_pledge = pledges[0]
    bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(15000), by=people["bob"]
    )
    payment = pay(bob_pledge, people["bob"], 15000)
    assert refreshed(bob_pledge).state == MemberReview.State.PAID
    reversal = bills.payment_reverse(payment=payment, by=people["bob"], note="bank returned it")
    assert reversal.amount == Decimal(-15000)
    bob_pledge = refreshed(bob_pledge)
    assert bob_pledge.state == MemberReview.State.APPROVED and bob_pledge.paid_total == 0
    assert Payment.objects.filter(review=bob_pledge).count() == 2
    pay(bob_pledge, people["bob"], 15000)
    assert refreshed(bob_pledge).state == MemberReview.State.PAID


def test_the_database_holds_paid_within_allocated_within_pledge(people, pledges):
    bob_pledge = pledges[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberReview.objects.filter(pk=bob_pledge.pk).update(allocated_total=Decimal(15001))
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberReview.objects.filter(pk=bob_pledge.pk).update(paid_total=Decimal(1))


# --- pages ---------------------------------------------------------------------------------


def test_a_reviewer_allocates_and_pays_through_the_pledge_page(
    client, people, application, receipt, pledges
):
    bob_pledge = pledges[0]
    as_user(client, people["bob"])
    page = client.get(f"/pledges/{bob_pledge.pk}/")
    assert page.status_code == 200
    # The payee comes from field group G of the application; its account is masked
    # (cases.reveal), and a payment to that payee left without one goes to it.
    form = page.context["payment_form"]
    assert form.initial["account_number"] == ""
    assert application.account_number[-4:] in str(form.fields["account_number"].help_text)
    assert application.account_number not in page.content.decode()
    response = client.post(
        f"/pledges/{bob_pledge.pk}/allocate/", {"receipt": receipt.pk, "amount": "20000"}
    )
    assert response.status_code == 400
    assert (
        "Only 15,000 yuan of the pledge" in response.context["allocation_form"].errors["amount"][0]
    )
    response = client.post(
        f"/pledges/{bob_pledge.pk}/allocate/", {"receipt": receipt.pk, "amount": "15,000"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/pledges/{bob_pledge.pk}/pay/",
        {
            "paid_on": TODAY.isoformat(),
            "amount": "15000",
            "payee_kind": "guardian",  # not G04's payee: no account to fall back on
            "payee_name": "王大明",
            "bank_name": "工商银行",
            "account_number": "",
            "method": "bank_transfer",
        },
    )
    assert response.status_code == 400
    assert response.context["payment_form"].errors["account_number"] == [
        "A bank transfer needs the account number."
    ]
    response = client.post(
        f"/pledges/{bob_pledge.pk}/pay/",
        {
            "paid_on": TODAY.isoformat(),
            "amount": "15000",
            "payee_kind": "hospital",
            "payee_name": "北京儿童医院",
            "bank_name": "工商银行",
            "account_number": "6222 0202 0011 2233",
            "method": "bank_transfer",
            "bank_reference": "TX-0001",
        },
    )
    assert response.status_code == 302
    assert refreshed(bob_pledge).state == MemberReview.State.PAID
    detail = client.get(f"/applications/{application.reference}/").content.decode()
    # Paid vs pledged per member on the application page; the account is masked.
    assert "15,000" in detail
    pledge_page = client.get(f"/pledges/{bob_pledge.pk}/").content.decode()
    assert "6222020200112233" not in pledge_page and "2233" in pledge_page


def test_a_reversal_without_a_reason_is_refused_with_a_message(client, people, receipt, pledges):
    bob_pledge = pledges[0]
    allocation = bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(100), by=people["bob"]
    )
    as_user(client, people["bob"])
    response = client.post(
        f"/pledges/{bob_pledge.pk}/allocations/{allocation.pk}/reverse/",
        {"note": ""},
        follow=True,
    )
    assert "Say why, so that the history explains the correction." in response.content.decode()
    assert not Allocation.objects.filter(reverses=allocation).exists()
    client.post(
        f"/pledges/{bob_pledge.pk}/allocations/{allocation.pk}/reverse/", {"note": "wrong receipt"}
    )
    assert Allocation.objects.filter(reverses=allocation).exists()


def test_the_application_page_shows_receipts_and_paid_against_pledged(
    client, people, application, receipt, pledges
):
    bills.allocation_create(
        review=pledges[1], receipt=receipt, amount=Decimal(7000), by=people["dave"]
    )
    html = (
        as_user(client, people["alice"])
        .get(f"/applications/{application.reference}/")
        .content.decode()
    )
    assert "11010124-0012345678" in html
    assert "20,000" in html  # what the family paid
    assert "7,000" in html  # reimbursed by member 2
    # Alice is a caseworker: she sees, she does not record receipts.
    assert "Record a medical receipt" not in html


# --- who may do what (§5), from the refused side ---------------------------------------------


def outsider():
    """Staff of a member that joined after the application was routed: it sees nothing."""
    late = MemberOrganization.objects.create(
        number=99, short_name="LATE", name_zh="后来的基金会", name_en="Late Foundation"
    )
    return user_create(
        by=None, username="lena", password="pw", role=User.Role.REVIEWER, organization=late
    )


def test_receipt_pages_refuse_the_wrong_people(client, people, application, receipt):
    new = f"/applications/{application.reference}/receipts/new/"
    assert client.get(new).status_code == 302  # anonymous: to the login page
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 302
    assert as_user(client, people["alice"]).get(new).status_code == 403  # caseworker
    assert client.post(new, form_data(number="1")).status_code == 403
    assert as_user(client, people["sam"]).get(new).status_code == 403  # secretariat
    assert as_user(client, outsider()).get(new).status_code == 404
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 404
    # A reviewer of any member the application went to records receipts.
    assert as_user(client, people["dave"]).get(new).status_code == 200
    assert Receipt.objects.count() == 1


def test_a_draft_has_no_receipts(client, people):
    from cases.intake import services

    draft = services.application_create(by=people["alice"])
    assert (
        as_user(client, people["bob"])
        .get(f"/applications/{draft.reference}/receipts/new/")
        .status_code
        == 404
    )
    with pytest.raises(workflow.WorkflowError):
        bills.receipt_record(application=draft, by=people["bob"], **RECEIPT)


def test_pledge_pages_refuse_the_wrong_people(client, people, receipt, pledges):
    bob_pledge = pledges[0]
    page = f"/pledges/{bob_pledge.pk}/"
    allocate = f"/pledges/{bob_pledge.pk}/allocate/"
    data = {"receipt": receipt.pk, "amount": "100"}
    assert client.get(page).status_code == 302
    assert client.post(allocate, data).status_code == 302
    # Another member's reviewer: not found, for reading and writing.
    as_user(client, people["dave"])
    assert client.get(page).status_code == 404
    assert client.post(allocate, data).status_code == 404
    # The member's own caseworker reads but does not allocate or pay.
    as_user(client, people["alice"])
    assert client.get(page).status_code == 200
    assert client.post(allocate, data).status_code == 403
    assert client.post(f"/pledges/{bob_pledge.pk}/pay/", {}).status_code == 403
    # The secretariat reads everything and pays nothing.
    as_user(client, people["sam"])
    assert client.get(page).status_code == 200
    assert client.post(allocate, data).status_code == 404
    assert not Allocation.objects.exists()
    # The services say the same whatever calls them.
    with pytest.raises(workflow.NotAllowed):
        bills.allocation_create(
            review=bob_pledge, receipt=receipt, amount=Decimal(1), by=people["dave"]
        )
    with pytest.raises(workflow.NotAllowed):
        pay(bob_pledge, people["alice"], 1)


def test_reversal_endpoints_refuse_the_wrong_people(client, people, receipt, pledges):
    bob_pledge = pledges[0]
    allocation = bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(100), by=people["bob"]
    )
    payment = pay(bob_pledge, people["bob"], 100)
    urls = [
        f"/pledges/{bob_pledge.pk}/allocations/{allocation.pk}/reverse/",
        f"/pledges/{bob_pledge.pk}/payments/{payment.pk}/reverse/",
    ]
    for user, status in ((people["dave"], 404), (people["alice"], 403), (people["sam"], 404)):
        for url in urls:
            assert as_user(client, user).post(url, {"note": "x"}).status_code == status
    # An allocation of another pledge cannot be reached through this one.
    dave_pledge = pledges[1]
    assert (
        as_user(client, people["dave"])
        .post(f"/pledges/{dave_pledge.pk}/allocations/{allocation.pk}/reverse/", {"note": "x"})
        .status_code
        == 404
    )
    assert not Allocation.objects.filter(amount__lt=0).exists()
    assert not Payment.objects.filter(amount__lt=0).exists()


def test_the_payments_page_lists_only_the_members_own_pledges(client, people, pledges):
    assert client.get("/payments/").status_code == 302
    assert as_user(client, people["sam"]).get("/payments/").status_code == 403
    response = as_user(client, people["dave"]).get("/payments/")
    assert [review.pk for review in response.context["page"]] == [pledges[1].pk]
    response = as_user(client, people["bob"]).get("/payments/?state=paid")
    assert list(response.context["page"]) == []


def test_payments_and_pledge_pages_keep_a_constant_number_of_queries(
    client, people, django_assert_num_queries
):
    bob = people["bob"]
    as_user(client, bob)

    def add(n):
        application = submitted(people["alice"], sequence=f"{n:02d}7")
        pledge = workflow.review_approve(
            review=review_of(application, 1), project=project("P01"), amount=Decimal(9000), by=bob
        )
        receipt = bills.receipt_record(
            application=application, by=bob, **{**RECEIPT, "number": f"77{n:06d}"}
        )
        bills.allocation_create(review=pledge, receipt=receipt, amount=Decimal(3000), by=bob)
        pay(pledge, bob, 1000)
        return pledge

    pledge = add(0)
    # session, user with its member and second-factor device (organizations.auth_backends),
    # count, page, access records
    with django_assert_num_queries(5):
        assert len(client.get("/payments/").context["page"]) == 1
    # session, user with its member and second-factor device, pledge, receipts, access
    # record, allocations, payments
    with django_assert_num_queries(7):
        client.get(f"/pledges/{pledge.pk}/")
    for n in range(1, 4):
        add(n)
    with django_assert_num_queries(5):
        assert len(client.get("/payments/").context["page"]) == 4


def test_the_application_page_costs_the_same_queries_with_more_receipts(
    client, people, application, pledges, django_assert_num_queries
):
    bob = people["bob"]
    as_user(client, bob)

    def add_receipt(n):
        receipt = bills.receipt_record(
            application=application, by=bob, **{**RECEIPT, "number": f"55{n:06d}"}
        )
        bills.allocation_create(review=pledges[0], receipt=receipt, amount=Decimal(100), by=bob)
        bills.allocation_create(
            review=pledges[1], receipt=receipt, amount=Decimal(100), by=people["dave"]
        )

    add_receipt(0)
    url = f"/applications/{application.reference}/"
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    for n in range(1, 5):
        add_receipt(n)
    # The page as built; served again it runs only its reads (tests/test_replayed_pages.py).
    replayed_pages.REPLAYS.clear()
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(url)
    assert len(response.context["receipts"]) == 5
