"""Money formatted one way on every page (issue 16, finding 5): thousands separators and
fen only when there are any, "95,000" and "1,234.50", as the public pre-check already did
through the eligibility engine; the `yuan` filter of organizations' template tags."""

from decimal import Decimal

import pytest

from cases.review import services as workflow
from organizations.templatetags.org_extras import yuan
from tests.conftest import client_for
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("95000.00"), "95,000"),
        (Decimal("95000"), "95,000"),
        (Decimal("1234.5"), "1,234.50"),
        (Decimal("0.00"), "0"),
        ("200000", "200,000"),
        (30000, "30,000"),
        (None, ""),
        ("", ""),
    ],
)
def test_the_yuan_filter_writes_money_one_way(amount, shown):
    assert yuan(amount) == shown


@pytest.fixture
def pledged(people):
    application = submitted(people["alice"])
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal("30000"),
        by=people["bob"],
    )
    return application


def test_staff_pages_show_money_as_the_public_pages_do(client, people, pledged):
    bob = client_for(client, people["bob"])
    for url in ("/payments/", f"/applications/{pledged.reference}/"):
        html = bob.get(url).content.decode()
        assert "30,000" in html, url
        assert "30000.00" not in html and "30,000.00" not in html, url
    detail = bob.get(f"/applications/{pledged.reference}/").content.decode()
    # Section D's estimated cost and E's insurance, as typed "200000" and "80000".
    assert "<dd>200,000</dd>" in detail and "<dd>80,000</dd>" in detail
    assert "<dd>200000" not in detail


# --- one way beyond the templates (issue 16): messages, history, reports; CSV stays plain ---


def test_the_services_refusals_write_money_one_way(people, pledged):
    from cases.errors import WorkflowError

    second = review_of(pledged, 2)
    with pytest.raises(WorkflowError) as refused:
        workflow.review_approve(
            review=second,
            project=project("P04"),
            amount=Decimal("123456.5"),
            override_reason="测试",
            by=dave(people),
        )
    message = str(refused.value)
    # 105,000 need − 30,000 pledged by member 1
    assert "75,000" in message and "123,456.50" in message, message
    assert "75000" not in message and "123456" not in message


def dave(people):
    return people["dave"]


def test_the_funding_guard_writes_the_pledges_one_way(people, pledged):
    from cases.errors import WorkflowError

    with pytest.raises(WorkflowError, match="30,000"):
        workflow.application_revise_estimate(
            application=pledged, estimated_cost=Decimal("1000"), by=people["alice"]
        )


def test_the_history_shows_a_revised_estimate_as_money(client, people, pledged):
    workflow.application_revise_estimate(
        application=pledged, estimated_cost=Decimal("250000.5"), by=people["alice"]
    )
    html = client_for(client, people["alice"]).get(f"/applications/{pledged.reference}/")
    text = html.content.decode()
    assert "250,000.50" in text
    assert "250000.50" not in text and "200000.00" not in text


def test_report_cells_write_money_as_pages_do_and_csv_keeps_plain_numbers():
    from reports.tables import display, plain

    assert display(Decimal("95000.00")) == "95,000"
    assert display(Decimal("1234.50")) == "1,234.50"
    assert display(Decimal("3.5")) == "3.5"  # days, to 0.1: not money
    assert display(12345) == "12,345"  # a count
    assert display(None) == "—"
    # CSV is for machines: no separators, the fen always written.
    assert plain(Decimal("95000.00")) == "95000.00"


def test_the_bills_messages_write_money_one_way(people, pledged):
    from cases.bills import services as bills
    from cases.errors import WorkflowError

    with pytest.raises(WorkflowError) as refused:
        bills.receipt_record(
            application=pledged,
            kind="inpatient",
            code="1101",
            number="000001",
            hospital="北京儿童医院",
            issued_on=pledged.submitted_at.date(),
            total=Decimal("50000"),
            insurance_fund=Decimal("30000"),
            co_payment=Decimal("12000.5"),
            self_paid=Decimal("7000"),
            by=people["bob"],
        )
    assert "49,000.50" in str(refused.value) and "50,000" in str(refused.value)
