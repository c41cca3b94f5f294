"""Two members allocating and paying at the same instant (standard.md §4).

PostgreSQL only, with real concurrent connections: SQLite serialises every writer, so it
cannot show a race. Run with
DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance .venv/bin/pytest -q \
    tests/test_bills_concurrency.py
"""

from decimal import Decimal

import pytest
from django.db.models import Sum

from cases.bills import services as bills
from cases.intake import services
from cases.models import Allocation, MemberReview, Payment, Receipt
from cases.review import services as workflow
from tests.test_bills import RECEIPT, pay
from tests.test_workflow import fill, project, review_of, submitted
from tests.test_workflow_concurrency import ROW_LOCKS, at_once

pytestmark = ROW_LOCKS


@pytest.fixture
def setup(people):
    application = submitted(people["alice"])
    bob_pledge = workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
    )
    dave_pledge = workflow.review_approve(
        review=review_of(application, 2),
        project=project("P04"),
        amount=Decimal(15000),
        by=people["dave"],
    )
    # The family paid 20000 of this receipt itself.
    receipt = bills.receipt_record(application=application, by=people["bob"], **RECEIPT)
    return application, bob_pledge, dave_pledge, receipt


def test_two_members_allocating_one_receipt_at_once_cannot_exceed_what_the_family_paid(
    people, setup
):
    application, bob_pledge, dave_pledge, receipt = setup
    for _ in range(3):  # a race may be won either way: try it a few times
        outcomes = at_once(
            lambda: bills.allocation_create(
                review=bob_pledge, receipt=receipt, amount=Decimal(12000), by=people["bob"]
            ),
            lambda: bills.allocation_create(
                review=dave_pledge, receipt=receipt, amount=Decimal(12000), by=people["dave"]
            ),
        )
        done = [o for o in outcomes if isinstance(o, Allocation)]
        refused = [o for o in outcomes if isinstance(o, workflow.WorkflowError)]
        assert len(done) == 1 and len(refused) == 1, outcomes
        # The refusal names what is left: 20000 paid by the family − 12000 allocated.
        assert "8,000" in str(refused[0])
        receipt.refresh_from_db()
        net = Allocation.objects.filter(receipt=receipt).aggregate(total=Sum("amount"))["total"]
        assert receipt.allocated_total == net == Decimal(12000)
        bills.allocation_reverse(allocation=done[0], by=done[0].created_by, note="again")
    receipt.refresh_from_db()
    assert receipt.allocated_total == 0


def test_pledges_on_two_applications_of_one_child_share_the_receipt_safely(people, setup):
    """The same child's second illness episode: different application rows, so only the
    receipt's own row lock stands between the two allocations."""
    application, bob_pledge, _, receipt = setup
    second = fill(
        services.application_create(by=people["carol"]),
        people["carol"],
        D={"category": "CHD", "icd": "Q21.0", "diagnosis_text": "室间隔缺损"},
    )
    services.application_link_child(application=second, other=application, by=people["carol"])
    services.application_submit(application=second, by=people["carol"])
    dave_pledge = workflow.review_approve(
        review=review_of(second, 2),
        project=project("P04"),
        amount=Decimal(15000),
        by=people["dave"],
    )
    outcomes = at_once(
        lambda: bills.allocation_create(
            review=bob_pledge, receipt=receipt, amount=Decimal(12000), by=people["bob"]
        ),
        lambda: bills.allocation_create(
            review=dave_pledge, receipt=receipt, amount=Decimal(12000), by=people["dave"]
        ),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Allocation", "WorkflowError"], outcomes
    receipt.refresh_from_db()
    assert receipt.allocated_total == Decimal(12000)


def test_one_pledge_allocated_from_two_receipts_at_once_stays_within_the_pledge(people, setup):
    application, bob_pledge, _, receipt = setup
    second = bills.receipt_record(
        application=application, by=people["bob"], **{**RECEIPT, "number": "0012345679"}
    )
    outcomes = at_once(
        lambda: bills.allocation_create(
            review=bob_pledge, receipt=receipt, amount=Decimal(10000), by=people["bob"]
        ),
        lambda: bills.allocation_create(
            review=bob_pledge, receipt=second, amount=Decimal(10000), by=people["bob"]
        ),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Allocation", "WorkflowError"]
    bob_pledge.refresh_from_db()
    assert bob_pledge.allocated_total == Decimal(10000)


def test_two_payments_at_once_cannot_pay_more_than_is_allocated(people, setup):
    _, bob_pledge, _, receipt = setup
    bills.allocation_create(
        review=bob_pledge, receipt=receipt, amount=Decimal(15000), by=people["bob"]
    )
    outcomes = at_once(
        lambda: pay(bob_pledge, people["bob"], 10000),
        lambda: pay(bob_pledge, people["bob"], 10000),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Payment", "WorkflowError"]
    bob_pledge.refresh_from_db()
    assert bob_pledge.paid_total == Decimal(10000)
    assert bob_pledge.state == MemberReview.State.PAYING
    assert Payment.objects.aggregate(total=Sum("amount"))["total"] == Decimal(10000)


def test_the_same_receipt_recorded_twice_at_once_is_kept_once(people):
    application = submitted(people["alice"])
    outcomes = at_once(
        lambda: bills.receipt_record(application=application, by=people["bob"], **RECEIPT),
        lambda: bills.receipt_record(application=application, by=people["dave"], **RECEIPT),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["DuplicateReceipt", "Receipt"]
    assert Receipt.objects.count() == 1
