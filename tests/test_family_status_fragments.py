"""The family status page's words rendered once per content (cases.family.views._fragments):
keyed by everything the page's view read, the language and the time zone, so a change made
through the services shows on the very next request, and another family's page, or
another language, never gets these words."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.test import Client

from aid_alliance.kept import Kept
from cases.family import selectors as family_selectors
from cases.family import views as family_views
from cases.family.selectors import FamilyState
from cases.models import Guardian
from cases.review import services as workflow
from tests.test_family_status import RESULT, opened, overall, page, zh
from tests.test_family_status_content import _all_papers
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db

FRAGMENTS = {"cases/_family_status_head.html", "cases/_family_status_tail.html"}


@pytest.fixture
def application(people):
    return submitted(people["alice"])


@pytest.fixture
def family(client):
    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    return client


def rendered_fragments(response) -> set[str]:
    return FRAGMENTS & {template.name for template in response.templates}


def words(response) -> str:
    """The page's own part, without what changes on every response (the CSP nonce, the
    masked CSRF token)."""
    html = page(response)
    return html[html.index('<div class="family">') : html.index('class="leave"')]


def test_the_words_are_rendered_once_for_the_same_content(family, application):
    first = opened(family, application)
    assert rendered_fragments(first) == FRAGMENTS
    again = family.get(RESULT)
    assert rendered_fragments(again) == set()
    # The session's parts stay live: the CSRF token of the forms, the closing time.
    assert words(again) == words(first)
    assert 'name="csrfmiddlewaretoken"' in page(again)


def test_a_decision_through_the_service_shows_on_the_next_request(family, application, people):
    html = page(opened(family, application))
    assert zh("Funded: %(amount)s yuan", amount="30,000") not in html
    family.get(RESULT)  # kept
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(30000),
        by=people["bob"],
    )
    response = family.get(RESULT)
    assert rendered_fragments(response) == FRAGMENTS
    assert zh("Funded: %(amount)s yuan", amount="30,000") in page(response)
    workflow.application_close(
        application=application, reason="treatment_ended", by=people["alice"]
    )
    assert overall(page(family.get(RESULT))) == zh(FamilyState.CLOSED.label)


def test_another_family_never_gets_these_words(family, application, people):
    other = submitted(people["carol"], sequence="125")
    Guardian.objects.filter(application=other, position=1).update(phone="13600136000")
    mine = page(opened(family, application))
    assert application.reference in mine
    neighbour = Client(REMOTE_ADDR="203.0.113.8")
    theirs = opened(neighbour, other, "13600136000")
    assert rendered_fragments(theirs) == FRAGMENTS  # not this family's kept words
    assert other.reference in page(theirs) and application.reference not in page(theirs)
    assert application.reference in page(family.get(RESULT))


@pytest.mark.parametrize("papers", ["missing", "all given"])
def test_each_language_gets_its_own_words(family, application, people, papers):
    """With all papers given the view holds no word of either language: the language in
    the key is what keeps the Chinese words from an English reader."""
    if papers == "all given":
        _all_papers(application, people["alice"])
    chinese = words(opened(family, application))
    family.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    english = family.get(RESULT)
    assert rendered_fragments(english) == FRAGMENTS
    assert application.member.name_en in page(english)
    assert application.member.name_zh not in page(english)
    family.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert words(family.get(RESULT)) == chinese


def test_the_kept_words_are_bounded(family, application, monkeypatch):
    monkeypatch.setattr(family_views, "FRAGMENTS", Kept(1))
    opened(family, application)
    for language in ("zh-hans", "en"):  # two keys, one kept
        family.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        family.get(RESULT)
    assert len(family_views.FRAGMENTS) == 1


def test_the_page_is_served_again_for_its_own_application_only(
    family, application, people, monkeypatch
):
    """The whole page is served again while family_view's reads answer the same
    (aid_alliance.replayed_pages), keyed by the session's application: two sessions with
    the same closing time never get each other's page."""
    other = submitted(people["carol"], sequence="125")
    Guardian.objects.filter(application=other, position=1).update(phone="13600136000")
    neighbour = Client(REMOTE_ADDR="203.0.113.8")
    opened(family, application)
    opened(neighbour, other, "13600136000")
    until = family.session[family_views.VIEW_KEY]["until"] + 7  # a closing time not built yet
    for client in (family, neighbour):
        session = client.session
        session[family_views.VIEW_KEY] = {**session[family_views.VIEW_KEY], "until": until}
        session.save()
    family.get(RESULT)  # built for this closing time
    built = []
    view = family_selectors.family_view
    monkeypatch.setattr(family_selectors, "family_view", lambda pk: built.append(pk) or view(pk))
    mine = family.get(RESULT)
    assert built == []  # served again: nothing of the view ran
    assert application.reference in page(mine)
    theirs = neighbour.get(RESULT)
    assert built == [other.pk]
    assert other.reference in page(theirs) and application.reference not in page(theirs)
