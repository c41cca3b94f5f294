"""Whole pages kept (issue 18): the family status page, the dashboard and the inbox while
their reads answer the same (aid_alliance.replayed_pages, built and served through
aid_alliance.kept_pages). A kept page is the page as rendered live; a message waiting
is shown once, live, and never kept; each reader gets the header of their own; each
session gets its own CSRF token, which the server accepts, and not another's; the page's
address (the language switch's way back) is each request's own; each response carries its
own CSP nonce; the inbox is built again when a row changes.
(tests/conftest.py empties what is kept before each test.)"""

import re

import pytest
from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token as _unmask

from aid_alliance import kept_pages, replayed_pages
from cases.models import Child
from tests.conftest import StaffClient
from tests.test_dashboard_kept import cache_the_figures, steady
from tests.test_family_status import RESULT, opened, page, zh
from tests.test_family_uploads import UPLOAD, file, items_of, photo_with_location
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT = re.compile(r'<input type="hidden" name="next" value="([^"]*)">')
RESULT_TEMPLATE = "cases/family_status_result.html"


@pytest.fixture
def family(client):
    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    return client


def live(monkeypatch):
    """replayed_pages.page as Django renders a page: every request from its templates."""

    def built_live(request, build, *, inputs):
        return replayed_pages._live(request, build)

    monkeypatch.setattr(replayed_pages, "page", built_live)


def rendered(response, name) -> bool:
    return name in [template.name for template in response.templates]


def test_the_status_page_is_rendered_once_and_is_the_page_rendered_live(
    family, people, monkeypatch
):
    application = submitted(people["alice"])
    first = opened(family, application)
    again = family.get(RESULT)
    assert rendered(first, RESULT_TEMPLATE) and not rendered(again, RESULT_TEMPLATE)
    assert len(replayed_pages.REPLAYS) == 1
    live(monkeypatch)
    by_django = family.get(RESULT)
    assert rendered(by_django, RESULT_TEMPLATE)
    assert steady(page(again)) == steady(page(by_django))
    assert application.reference in page(again)
    assert kept_pages._TOKEN not in page(again)


def test_a_message_is_shown_once_live_and_never_kept(family, people, asked_paper):
    application, paper = asked_paper
    opened(family, application)
    family.get(RESULT)  # kept
    sent = family.post(UPLOAD, {f"paper-{paper.pk}": file("IMG_1.jpg", photo_with_location())})
    assert sent.status_code == 302 and sent.url == RESULT
    message = zh("Sent: the caseworker will check it.")
    with_message = family.get(RESULT)
    assert rendered(with_message, RESULT_TEMPLATE)  # live, with the message
    assert message in page(with_message)
    after = family.get(RESULT)
    assert message not in page(after)
    assert all(message not in kept.html for kept in replayed_pages.REPLAYS._values.values())


@pytest.fixture
def asked_paper(people):
    from cases.review import services as workflow
    from tests.test_workflow import review_of

    application = submitted(people["alice"])
    review = review_of(application, 1)
    workflow.review_request_info(
        review=review, items="", documents=["household_register"], by=people["bob"]
    )
    return application, items_of(review)[0]


def signed_in(user, **kwargs):
    client = StaffClient(**kwargs)
    client.force_login(user)
    return client


def dashboard(client, query="?period=2026"):
    response = client.get(f"/reports/{query}")
    assert response.status_code == 200
    return response


@pytest.fixture
def figures_cached(people):
    cache_the_figures(people["sam"], ("?period=2026", "?period=2025"))


def test_each_reader_gets_the_header_of_their_own(people, figures_cached):
    """sam (secretariat) and root (administrator) read the same content; the layout is
    each one's own, kept or not."""
    user = re.compile(r'<li class="nav-user">\s*<span>([^<]*)</span>')
    sam, root = signed_in(people["sam"]), signed_in(people["root"])
    for _ in range(2):
        sams, roots = page(dashboard(sam)), page(dashboard(root))
        assert user.search(sams)[1].startswith("sam · ")
        assert user.search(roots)[1] == "root"
    assert len(replayed_pages.REPLAYS) == 2


def test_two_sessions_sharing_a_page_each_get_their_own_token(people, figures_cached):
    first = signed_in(people["sam"], enforce_csrf_checks=True)
    second = signed_in(people["sam"], enforce_csrf_checks=True)
    pages = [page(dashboard(first)), page(dashboard(second))]
    assert len(replayed_pages.REPLAYS) == 1  # one entry, shared by the same reader's sessions
    for client, html in zip((first, second), pages, strict=True):
        tokens = TOKEN.findall(html)
        assert len(tokens) >= 2  # the header's language switch and the content's forms
        secret = client.cookies[settings.CSRF_COOKIE_NAME].value
        assert {_unmask(token) for token in tokens} == {secret}
    sams_token, seconds_token = TOKEN.search(pages[0])[1], TOKEN.search(pages[1])[1]
    run = {"kind": "alliance", "period": "2026", "format": "pdf"}
    refused = second.post("/reports/runs/", {**run, "csrfmiddlewaretoken": sams_token})
    assert refused.status_code == 403
    taken = second.post("/reports/runs/", {**run, "csrfmiddlewaretoken": seconds_token})
    assert taken.status_code == 302


def test_a_kept_pages_token_is_the_sessions_secret_masked_anew_each_time():
    """kept_pages.csrf_token masks the session's secret as Django does, with a new mask
    each time, every character of the mask as likely as any other (bytes from 248 up are
    drawn again: taken modulo 62 as they are, the first eight characters would come a
    quarter more often). A request with no secret yet gets Django's own: a new secret."""
    from collections import Counter

    from django.middleware.csrf import CSRF_ALLOWED_CHARS, _get_new_csrf_string
    from django.test import RequestFactory

    secret = _get_new_csrf_string()
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret
    tokens = [kept_pages.csrf_token(request) for _ in range(20_000)]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) == 64 and _unmask(token) == secret for token in tokens[:500])
    seen = Counter(char for token in tokens for char in token[:32])
    assert set(seen) == set(CSRF_ALLOWED_CHARS)
    assert max(seen.values()) / min(seen.values()) < 1.12  # 1.25 and more when biased

    fresh = RequestFactory().get("/")
    token = kept_pages.csrf_token(fresh)
    assert _unmask(token) == fresh.META["CSRF_COOKIE"]


def test_the_way_back_is_this_pages_own_address(people, figures_cached):
    sam = signed_in(people["sam"])
    for query in ("?period=2026", "?period=2025", "?period=2026"):
        html = page(dashboard(sam, query))
        assert NEXT.search(html)[1] == f"/reports/{query}"
    assert len(replayed_pages.REPLAYS) == 2


def test_the_inbox_is_served_again_until_a_row_changes(people):
    """The inbox is served again while its reads answer the same (aid_alliance.
    replayed_pages); a change that moves no count (a child's name) is a read that answers
    differently, so the page is built again with it."""
    first = submitted(people["alice"], sequence="111")
    bob = signed_in(people["bob"])
    bob.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    built = bob.get("/inbox/")
    kept = bob.get("/inbox/")
    assert rendered(built, "cases/inbox.html") and not rendered(kept, "cases/inbox.html")
    assert first.reference in page(kept)
    Child.objects.filter(applications=first).update(name="王新名")
    renamed = bob.get("/inbox/")
    assert rendered(renamed, "cases/inbox.html") and "王新名" in page(renamed)
    again = bob.get("/inbox/")
    assert not rendered(again, "cases/inbox.html")
    replayed_pages.REPLAYS.clear()
    assert steady(page(again)) == steady(page(bob.get("/inbox/")))  # as built live


def test_another_member_and_another_reviewer_get_their_own_inbox(people):
    from organizations import services as org_services
    from organizations.models import User

    first = submitted(people["alice"], sequence="111")
    bob, dave = signed_in(people["bob"]), signed_in(people["dave"])
    colleague = org_services.user_create(
        by=None,
        username="bob2",
        password="pw",
        role=User.Role.REVIEWER,
        organization=people["bob"].organization,
    )
    bobs, daves = page(bob.get("/inbox/")), page(dave.get("/inbox/"))
    colleagues = page(signed_in(colleague).get("/inbox/"))
    assert people["bob"].organization.name_zh in bobs
    assert people["dave"].organization.name_zh in daves
    assert people["bob"].organization.name_zh not in daves
    assert "bob2" in colleagues and "bob2" not in bobs
    assert all(first.reference in html for html in (bobs, daves, colleagues))
    assert len(replayed_pages.REPLAYS) == 3


NONCE = re.compile(r'<script[^>]* nonce="([^"]+)"')


def test_each_response_carries_its_own_csp_nonce_in_the_page_and_the_header(people, figures_cached):
    sam = signed_in(people["sam"])
    nonces = []
    for _ in range(3):
        response = dashboard(sam)
        nonce = NONCE.search(page(response))[1]
        assert kept_pages._NONCE not in page(response)
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.append(nonce)
    assert len(set(nonces)) == 3
    assert len(replayed_pages.REPLAYS) == 1
