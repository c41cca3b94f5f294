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
