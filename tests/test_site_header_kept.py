"""The layout's header kept per reader and page ({% site_header %}, aid_alliance/nav_tags.py,
issue 18): the same HTML as rendering it on each request, for every kind of reader and in
both languages; one reader's header never on another's page; the language switch returns to
this page; the forms' CSRF token is the request's and the server accepts it."""

import re

import pytest
from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token as _unmask

from aid_alliance import nav_tags
from tests.conftest import StaffClient

pytestmark = pytest.mark.django_db

HEADER = re.compile(r'<a class="skip-link".*?</header>', re.S)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Rendered:
    """A store that keeps nothing: the header rendered on each request, as before."""

    def get_or_build(self, key, build):
        return build()


@pytest.fixture(autouse=True)
def _empty():
    nav_tags.HEADERS_KEPT.clear()


def header_of(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, url
    return HEADER.search(response.content.decode()).group(0)


def reader(user=None, **kwargs):
    client = StaffClient(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


READERS_AND_PAGES = [
    (None, "/"),
    (None, "/status/"),
    ("alice", "/applications/"),
    ("bob", "/inbox/"),
    ("sam", "/reports/"),
    ("root", "/applications/"),
]


@pytest.mark.parametrize(("name", "url"), READERS_AND_PAGES)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_kept_header_is_the_header_rendered_on_the_request(
    people, name, url, language, monkeypatch
):
    client = reader(people[name] if name else None)
    kept_first = header_of(client, url, language)  # rendered and kept
    kept_again = header_of(client, url, language)  # from the store
    monkeypatch.setattr(nav_tags, "HEADERS_KEPT", Rendered())
    live = header_of(client, url, language)
    assert TOKEN.sub("", kept_first) == TOKEN.sub("", kept_again) == TOKEN.sub("", live)
    if name:
        assert name in live
    # The switch offers the other language.
    other = "中文" if language == "en" else "English"
    assert f'lang="{"zh-Hans" if language == "en" else "en"}">{other}</button>' in live


def test_one_readers_header_never_shows_on_anothers_page(people):
    alice, carol = reader(people["alice"]), reader(people["carol"])
    header_of(alice, "/applications/", "zh-hans")
    carols = header_of(carol, "/applications/", "zh-hans")
    assert "carol" in carols and "alice" not in carols
    # Bob, a reviewer, sees the inbox; Sam, the secretariat, the reports; each their own.
    bobs = header_of(reader(people["bob"]), "/applications/", "zh-hans")
    sams = header_of(reader(people["sam"]), "/applications/", "zh-hans")
    assert "/inbox/" in bobs and "/inbox/" not in sams
    assert "/reports/" in sams and "/reports/" not in bobs
    assert len(nav_tags.HEADERS_KEPT) == 4


def test_the_language_switch_returns_to_this_page(people):
    alice = reader(people["alice"])
    first = header_of(alice, "/applications/?q=%E6%9B%B9", "zh-hans")
    second = header_of(alice, "/applications/?q=x&status=%22%3Cb%3E", "zh-hans")
    assert 'name="next" value="/applications/?q=%E6%9B%B9"' in first
    # Escaped as the template escapes a value ("&" too), put in on each request.
    assert 'name="next" value="/applications/?q=x&amp;status=%22%3Cb%3E"' in second
    assert nav_tags._NEXT not in second
    assert len(nav_tags.HEADERS_KEPT) == 1  # one entry for the reader's pages


def test_visitors_sharing_the_header_each_get_their_own_token():
    """Visitors not signed in share one kept header: each is sent its own session's token,
    and one's token is refused with the other's cookie."""
    first, second = reader(enforce_csrf_checks=True), reader(enforce_csrf_checks=True)
    firsts = TOKEN.findall(header_of(first, "/", "zh-hans"))[0]
    seconds = TOKEN.findall(header_of(second, "/", "zh-hans"))[0]
    assert len(nav_tags.HEADERS_KEPT) == 1
    assert _unmask(firsts) == first.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask(seconds) == second.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask(firsts) != _unmask(seconds)
    switch = {"language": "en", "next": "/"}
    refused = second.post("/i18n/setlang/", {**switch, "csrfmiddlewaretoken": firsts})
    accepted = second.post("/i18n/setlang/", {**switch, "csrfmiddlewaretoken": seconds})
    assert (refused.status_code, accepted.status_code) == (403, 302)


def test_the_forms_token_is_this_requests_and_is_accepted(people):
    alice = reader(people["alice"], enforce_csrf_checks=True)
    header_of(alice, "/applications/", "zh-hans")
    header = header_of(alice, "/applications/", "zh-hans")  # from the store
    tokens = TOKEN.findall(header)
    assert len(tokens) == 2 and nav_tags._TOKEN not in header
    response = alice.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302
    assert "_auth_user_id" not in alice.session
