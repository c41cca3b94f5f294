"""Declining and asking for information (issue 16): a refused form comes back with
everything as sent, the error summary on top and the message at its field, as a refused
approval does; approve and decline are apart, and the approval page says 批准 once."""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from cases.models import MemberReview
from tests.test_workflow import review_of, submitted

pytestmark = pytest.mark.django_db

NOTE = "家庭情况已电话核实，备注保留"


@pytest.fixture
def case(people):
    return submitted(people["alice"])


def as_(client, user, language="zh-hans"):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def field_tag(html: str, element_id: str) -> str:
    found = re.search(rf"<(?:input|select)[^>]*id=\"{element_id}\"[^>]*>", html)
    assert found, element_id
    return found.group(0)


def test_a_refused_decline_keeps_its_note_and_shows_the_error_at_the_reason(client, people, case):
    review = review_of(case, 1)
    bob = as_(client, people["bob"])
    response = bob.post(
        f"/reviews/{review.pk}/decline/", {"reason": "no_such_reason", "note": NOTE}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'href="#decline-reason"' in html
    assert 'aria-invalid="true"' in field_tag(html, "decline-reason")
    assert 'id="decline-reason-error"' in html
    assert f'value="{NOTE}"' in field_tag(html, "decline-note")
    assert 'class="message error"' not in html  # at the field, not in a banner
    review.refresh_from_db()
    assert review.state == "pending"


def test_a_refused_decline_keeps_the_reason_chosen(client, people, case):
    review = review_of(case, 1)
    bob = as_(client, people["bob"])
    response = bob.post(
        f"/reviews/{review.pk}/decline/", {"reason": "no_budget", "note": "x" * 501}
    )
    html = response.content.decode()
    assert 'value="no_budget" selected' in html
    assert 'aria-invalid="true"' in field_tag(html, "decline-note")
    assert 'href="#decline-note"' in html
    review.refresh_from_db()
    assert review.state == "pending"


def test_a_refused_request_for_information_keeps_the_note(client, people, case):
    review = review_of(case, 1)
    bob = as_(client, people["bob"])
    response = bob.post(f"/reviews/{review.pk}/request-info/", {"items": "  ", "note": NOTE})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="#info-items"' in html
    assert 'aria-invalid="true"' in field_tag(html, "info-items")
    assert "请写明需要补充哪些材料或说明哪些问题。" in html
    assert f'value="{NOTE}"' in field_tag(html, "info-note")
    review.refresh_from_db()
    assert review.state == "pending"


def test_a_decline_refused_by_the_state_of_the_review_comes_back_too(client, people, case):
    review = review_of(case, 1)
    bob = as_(client, people["bob"])
    assert bob.post(f"/reviews/{review.pk}/decline/", {"reason": "no_budget"}).status_code == 302
    again = bob.post(f"/reviews/{review.pk}/decline/", {"reason": "other", "note": NOTE})
    assert again.status_code == 200
    html = again.content.decode()
    assert 'id="error-summary"' in html
    assert f'value="{NOTE}"' in field_tag(html, "decline-note")
    review.refresh_from_db()
    assert (review.state, review.decline_reason) == ("declined", "no_budget")


def test_a_valid_decline_and_request_still_go_through(client, people, case):
    bob = as_(client, people["bob"])
    first = review_of(case, 1)
    response = bob.post(f"/reviews/{first.pk}/request-info/", {"items": "病案首页", "note": ""})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.state == "info_requested"
    dave = as_(client, people["dave"])
    second = review_of(case, 2)
    assert dave.post(f"/reviews/{second.pk}/decline/", {"reason": "other"}).status_code == 302
    second.refresh_from_db()
    assert second.state == "declined"


@pytest.mark.parametrize("action", ["decline", "request-info"])
def test_a_caseworker_cannot_decline_or_ask_even_with_a_bad_form(client, people, case, action):
    review = review_of(case, 1)
    alice = as_(client, people["alice"])
    assert alice.post(f"/reviews/{review.pk}/{action}/", {"reason": "x"}).status_code == 403
    review.refresh_from_db()
    assert review.state == "pending"


@pytest.mark.parametrize("action", ["decline", "request-info"])
def test_another_members_reviewer_gets_404(client, people, case, action):
    review = review_of(case, 1)
    dave = as_(client, people["dave"])
    assert dave.post(f"/reviews/{review.pk}/{action}/", {"reason": "x"}).status_code == 404


def test_the_approval_page_says_approve_once(client, people, case):
    review = review_of(case, 1)
    bob = as_(client, people["bob"])
    response = bob.post(
        f"/reviews/{review.pk}/approve/",
        {"project": "P01", "amount": "999999", "note": NOTE},
    )
    html = response.content.decode()
    main = html.split('<main id="main"', 1)[1]
    # The heading names the decision; the button says what comes next.
    assert len(re.findall(r">\s*批准\s*(?:·|<)", main)) == 1, re.findall(r">[^<]*批准[^<]*<", main)
    assert "<h4>" not in main


def test_on_the_application_page_approve_and_decline_are_apart(client, people, case):
    html = as_(client, people["bob"]).get(f"/applications/{case.reference}/").content.decode()
    approve = html.index('class="decision-group approve-group"')
    decline = html.index('class="decision-group decline-group"')
    assert approve < decline
    between = html[approve:decline]
    assert 'id="approve-form"' in between and 'id="decline-form"' not in between


def test_the_over_gap_message_writes_money_one_way(client, people, case):
    review = review_of(case, 1)
    bob = as_(client, people["bob"])
    html = bob.post(
        f"/reviews/{review.pk}/approve/", {"project": "P01", "amount": "999999", "note": ""}
    ).content.decode()
    assert "999,999" in html and "105,000" in html
    assert "999999" not in html.split('id="approve-amount"')[0].split("error-summary")[1]
    assert MemberReview.objects.get(pk=review.pk).amount is None
    assert Decimal("105000") == case.need
