"""What the family status page shows (standard.md §3 "as the family sees it"): the status
in family words, each member's state, the papers still needed, the payments made and whom
to contact; and nothing else of the application (no ID numbers, diagnosis, names, notes,
bank details, nor another application's data)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connection

from aid_alliance import replayed_pages
from cases.family import selectors as family_status
from cases.family.selectors import DOCUMENT_WORDS, FamilyState
from cases.models import Application, Document, Guardian, MemberReview, Payment
from cases.review import services as workflow
from organizations.models import MemberOrganization
from tests.intake_data import CHILD_ID, GUARDIAN_1_ID, GUARDIAN_2_ID
from tests.test_family_status import (
    OTHER_PHONE,
    PHONE,
    RESULT,
    look_up,
    opened,
    overall,
    page,
    zh,
)
from tests.test_workflow import project, review_of, reviewer_of, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(people):
    return submitted(people["alice"])


@pytest.fixture
def family(client):
    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    return client


def test_whom_to_contact_is_the_charity_that_took_the_application(family, application):
    MemberOrganization.objects.filter(pk=application.member_id).update(
        contact_name="张社工", contact_phone="010-6512 3456", contact_email="help@crcf.example"
    )
    html = page(opened(family, application))
    contact = html[html.index('id="contact"') :]
    assert 'href="tel:010-65123456"' in contact and "010-6512 3456" in contact
    assert 'href="mailto:help@crcf.example"' in contact
    # The charity's numbers, not a person's: its contact person is not named.
    assert "张社工" not in html
    # No other member's contact details.
    assert html.count('href="tel:') == 1


# --- what the page shows, and nothing else ----------------------------------------------------


def test_the_page_shows_no_field_outside_the_list(family, application, people):
    bob, dave = people["bob"], people["dave"]
    workflow.review_take(review=review_of(application, 1), by=bob, note="内部：家长情绪激动")
    workflow.review_request_info(
        review=review_of(application, 2), items="请补充病案首页", by=dave, note="内部：疑似重复申请"
    )
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(30000),
        by=bob,
        note="内部：优先拨付",
    )
    _pay(review_of(application, 1), people["bob"], [(date(2026, 11, 20), 10000)])
    other = submitted(people["alice"], sequence="125")
    html = page(opened(family, application))

    child = application.child
    guardians = list(application.guardians.all())
    application.refresh_from_db()
    forbidden = {
        "child's name": child.name,
        "child's ID number": CHILD_ID,
        "address": child.address,
        "diagnosis": application.diagnosis_text,
        "ICD code": application.icd,
        "hospital": application.treating_hospital,
        "guardian 1": guardians[0].name,
        "guardian 2": guardians[1].name,
        "guardian ID 1": GUARDIAN_1_ID,
        "guardian ID 2": GUARDIAN_2_ID,
        "phone": PHONE,
        "other phone": OTHER_PHONE,
        "account number": application.account_number,
        "account name": application.account_name,
        "payee name on the payment": "北京儿童医院收款账户",
        "payment account": "6222020200112233",
        "bank reference": "BANKREF-778899",
        "internal notes": "内部",
        "other application": other.reference,
        "estimated cost": "200,000",
        "caseworker": "alice",
        "reviewer": "bob",
    }
    shown = {what: value for what, value in forbidden.items() if value and value in html}
    assert not shown, shown
    # What it must show: the request's words, the pledge, the payment, the contact.
    assert "请补充病案首页" in html
    assert zh("Funded: %(amount)s yuan", amount="30,000") in html
    assert "2026-11-20" in html and "10,000" in html
    assert application.member.name_zh in html


def _pay(review, by, payments, reversed_amount=None):
    """Payments straight into the tables (the bills services are another feature): the
    running totals as cases.bills.services keeps them, net of reversals."""
    rows = [
        Payment.objects.create(
            review=review,
            paid_on=paid_on,
            payee_kind="hospital",
            payee_name="北京儿童医院收款账户",
            account_number="6222020200112233",
            amount=Decimal(amount),
            method="bank_transfer",
            bank_reference="BANKREF-778899",
            created_by=by,
        )
        for paid_on, amount in payments
    ]
    total = sum(Decimal(amount) for _, amount in payments)
    if reversed_amount is not None:
        wrong = Payment.objects.create(
            review=review,
            paid_on=date(2026, 11, 21),
            payee_kind="hospital",
            payee_name="x",
            amount=Decimal(reversed_amount),
            method="bank_transfer",
            created_by=by,
        )
        Payment.objects.create(
            review=review,
            paid_on=date(2026, 11, 22),
            payee_kind="hospital",
            payee_name="x",
            amount=-Decimal(reversed_amount),
            method="bank_transfer",
            reverses=wrong,
            created_by=by,
        )
    state = "paid" if total == review.amount else "paying"
    MemberReview.objects.filter(pk=review.pk).update(
        state=state, allocated_total=review.amount, paid_total=total
    )
    return rows


def test_documents_needed_list_the_members_request_and_the_missing_papers(
    family, application, people
):
    workflow.review_request_info(
        review=review_of(application, 3), items="请补充近三个月的费用清单", by=_reviewer(3)
    )
    for doc_type in ("household_register", "guardian_id", "cost_estimate"):
        _document(application, doc_type, people["alice"])
    html = page(opened(family, application))
    needed = html[html.index('id="needed"') : html.index('id="members"')]
    assert "请补充近三个月的费用清单" in needed
    assert review_of(application, 3).member.name_zh in needed
    # Missing from the checklist, in family words: diagnosis, stay record, 低保 certificate.
    assert needed.count('class="needed-item"') == 4
    for doc_type in ("diagnosis_certificate", "inpatient_record", "hardship_certificate"):
        assert zh(DOCUMENT_WORDS[doc_type]) in needed, doc_type
    for doc_type in ("household_register", "guardian_id", "cost_estimate"):
        assert zh(DOCUMENT_WORDS[doc_type]) not in needed, doc_type
    assert overall(html) == zh(FamilyState.DOCUMENTS.label)
    assert 'class="member-line state-documents"' in html


def _reviewer(number):
    return reviewer_of(number, f"reviewer{number}")


def _document(application, doc_type, by, flag=""):
    return Document.objects.create(
        application=application,
        doc_type=doc_type,
        flag=flag,
        file=f"documents/{doc_type}.pdf",
        original_name=f"{doc_type}.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        uploaded_by=by,
    )


def _all_papers(application, by):
    for doc_type in ("household_register", "guardian_id", "diagnosis_certificate"):
        _document(application, doc_type, by)
    _document(application, "inpatient_record", by)
    _document(application, "cost_estimate", by)
    _document(application, "hardship_certificate", by, flag="dibao")


def test_with_all_papers_in_the_page_says_submitted_then_under_review(family, application, people):
    _all_papers(application, people["alice"])
    html = page(opened(family, application))
    assert overall(html) == zh(FamilyState.SUBMITTED.label) and 'id="needed"' not in html
    workflow.review_take(review=review_of(application, 4), by=_reviewer(4))
    assert overall(page(family.get(RESULT))) == zh(FamilyState.REVIEWING.label)


def test_funded_and_paid_show_who_gives_how_much_and_when(family, application, people):
    _all_papers(application, people["alice"])
    bob, dave = people["bob"], people["dave"]
    workflow.review_approve(
        review=review_of(application, 1), project=project("P01"), amount=Decimal(30000), by=bob
    )
    workflow.review_approve(
        review=review_of(application, 2), project=project("P04"), amount=Decimal(5000), by=dave
    )
    workflow.review_decline(review=review_of(application, 3), reason="no_budget", by=_reviewer(3))
    html = page(opened(family, application))
    assert overall(html) == zh(FamilyState.FUNDED.label)
    assert zh("Funded: %(amount)s yuan", amount="30,000") in html
    assert zh("Funded: %(amount)s yuan", amount="5,000") in html
    assert html.count('class="member-line state-not_funded"') == 1
    assert 'id="payments"' not in html

    _pay(review_of(application, 1), bob, [(date(2026, 11, 20), 10000)], reversed_amount=3000)
    _pay(review_of(application, 2), dave, [(date(2026, 11, 25), 5000)])
    html = page(family.get(RESULT))
    assert overall(html) == zh(FamilyState.PAID.label)
    assert zh("Paid: %(amount)s yuan", amount="5,000") in html
    assert zh("Paid so far: %(amount)s yuan", amount="10,000") in html
    payments = html[html.index('id="payments"') : html.index('id="contact"')]
    assert payments.count('class="payment-line"') == 2
    assert "2026-11-20" in payments and "2026-11-25" in payments
    # Neither the reversed payment nor its reversal.
    assert "2026-11-21" not in payments and "2026-11-22" not in payments
    assert "3,000" not in payments


def test_a_closed_application_says_so_with_its_reason(family, application, people):
    workflow.application_close(
        application=application, reason="treatment_ended", by=people["alice"], note="内部备注"
    )
    html = page(opened(family, application))
    assert overall(html) == zh(FamilyState.CLOSED.label)
    assert zh(Application.ClosingReason.TREATMENT_ENDED.label) in html
    assert "内部备注" not in html and 'id="needed"' not in html


def test_the_death_of_a_child_is_not_spelled_out(family, application, people):
    workflow.application_close(application=application, reason="deceased", by=people["alice"])
    html = page(opened(family, application))
    assert overall(html) == zh(FamilyState.CLOSED.label)
    assert zh(Application.ClosingReason.DECEASED.label) not in html
    assert zh("Reason:") not in html


@pytest.mark.parametrize(
    ("states", "paid", "needed", "expected"),
    [
        ([], False, False, "submitted"),
        (["pending"] * 8, False, False, "submitted"),
        (["pending", "in_review"], False, False, "reviewing"),
        (["pending", "info_requested"], False, True, "documents"),
        (["approved", "pending"], False, False, "funded"),
        (["approved", "info_requested"], False, True, "documents"),
        (["paying", "declined"], True, False, "paid"),
        (["declined", "expired", "cancelled"], False, False, "not_funded"),
    ],
)
def test_one_word_for_the_whole_application(states, paid, needed, expected):
    reviews = [
        SimpleNamespace(state=s, paid_total=Decimal(10 if paid and i == 0 else 0))
        for i, s in enumerate(states)
    ]
    assert family_status._overall(True, reviews, ["x"] if needed else []) == expected
    assert family_status._overall(False, reviews, []) == "closed"


def test_the_page_never_shows_another_application(family, application, people):
    other = submitted(people["carol"], sequence="125")
    Guardian.objects.filter(application=other, position=1).update(phone="13600136000")
    html = page(opened(family, application))
    assert other.reference not in html
    # Its own phone does not open the other one, nor the other's phone this one.
    assert look_up(family, other.reference, PHONE).status_code == 200
    assert look_up(family, application.reference, "13600136000").status_code == 200
    # Once opened, the page is the application whose details were given.
    html = page(opened(family, other, "13600136000"))
    assert other.reference in html and application.reference not in html


def test_english_is_one_click_away(family, application):
    opened(family, application)
    family.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(family.get(RESULT))
    assert 'lang="en"' in html
    assert "Documents needed" in html
    assert application.member.name_en in html


def test_the_result_page_runs_a_fixed_number_of_queries(
    family, application, people, django_assert_num_queries
):
    bob = people["bob"]
    workflow.review_approve(
        review=review_of(application, 1), project=project("P01"), amount=Decimal(30000), by=bob
    )
    _pay(review_of(application, 1), bob, [(date(2026, 11, 20), 10000), (date(2026, 11, 21), 5)])
    opened(family, application)
    replayed_pages.REPLAYS.clear()
    # Built: session, application + its member and its reviews + theirs (one query),
    # documents (a member is still deciding), payments (one is paid).
    with django_assert_num_queries(4):
        response = family.get(RESULT)
    assert response.status_code == 200
    # Served again: the session and the same reads, on PostgreSQL as one statement
    # (aid_alliance.replayed_pages._read_together).
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 4):
        assert family.get(RESULT).status_code == 200


def test_nothing_paid_yet_reads_no_payments(family, application, django_assert_num_queries):
    # A review's paid_total is the sum of its standing payments: with none paid there is
    # nothing to list. Session, application + reviews and their members, documents.
    opened(family, application)
    replayed_pages.REPLAYS.clear()  # the page built, its view's own reads counted
    with django_assert_num_queries(3):
        response = family.get(RESULT)
    assert response.status_code == 200
    view = family_status.family_view(
        application.pk
    )  # the page itself is kept (aid_alliance.replayed_pages)
    assert view.payments == []
    assert view.needed  # the documents were read: the checklist shows
