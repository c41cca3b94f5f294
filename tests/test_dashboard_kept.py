"""The dashboard served again while its reads answer the same (aid_alliance.replayed_pages,
issue 18): rendered once for the same reads; each change (a file, its status, the access
record's head, the figures' generation, the period, the language) shows at the very next
request; the forms carry the request's own CSRF token, which the server accepts; one user's
recent files never show on another's page; member staff are refused before and after."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token as _unmask
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aid_alliance import kept_pages, replayed_pages
from cases.models import AccessChainHead
from organizations import services as org_services
from organizations.models import User
from reports.models import ReportRun
from tests.conftest import StaffClient
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db

CONTENT = "reports/_dashboard_content.html"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'nonce="[^"]+"')


def steady(html: str) -> str:
    """The page without what is new on every request: CSRF tokens (each request masks the
    same secret anew) and the layout's CSP nonce."""
    return NONCE.sub("", TOKEN.sub("", html))


def page(client, query="?period=2026", language="zh-hans"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(f"/reports/{query}")
    assert response.status_code == 200
    rendered = [t.name for t in response.templates]
    return response.content.decode(), rendered.count(CONTENT)


def signed_in(user, **kwargs):
    client = StaffClient(**kwargs)
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _figures_cached(people):
    cache_the_figures(people["sam"], ("?period=2026", "?period=2026-Q3"), ("zh-hans", "en"))


def cache_the_figures(user, queries, languages=("zh-hans",)):
    """The figures of these periods in the cache, as on a running server: with the tests'
    database cache, storing them is a write, and a page whose building wrote is not kept
    (it is built again at the next request). Nothing is left kept."""
    client = signed_in(user)
    for query in queries:
        for language in languages:
            page(client, query, language)
    replayed_pages.REPLAYS.clear()


def test_the_same_reads_render_the_page_once(people):
    sam = signed_in(people["sam"])
    first, rendered_first = page(sam)
    with CaptureQueriesContext(connection) as again:
        second, rendered_second = page(sam)
    assert (rendered_first, rendered_second) == (1, 0)
    assert steady(first) == steady(second)
    assert len(replayed_pages.REPLAYS) == 1
    # Served again: its reads, the session and the user, nothing else. Its reads are the
    # user's files and the access record's head (and, with the tests' database cache, the
    # figures' generation and part from it); the figures themselves are not read again.
    entry = next(iter(replayed_pages.REPLAYS._values.values()))
    database_cache = settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    # The figures' generation compared: a query with the tests' database cache.
    generations = len(entry.tokens) if database_cache else 0
    assert len(again.captured_queries) == entry.statements + 2 + generations
    sql = " ".join(q["sql"] for q in again.captured_queries)
    assert "reports_reportrun" in sql and "cases_accesschainhead" in sql
    assert "reports_aggregate" not in sql
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in again.captured_queries)


def run_of(user, period="2026-11"):
    return ReportRun.objects.create(
        kind=ReportRun.Kind.values[0],
        period=period,
        format=ReportRun.Format.values[0],
        requested_by=user,
    )


def test_each_input_changes_the_page_at_the_next_request(people):
    sam = signed_in(people["sam"])
    before, _ = page(sam)
    # A new file of this user.
    run = run_of(people["sam"])
    after_run, rendered = page(sam)
    assert rendered == 1 and f"/reports/runs/{run.pk}/" in after_run
    # Its status changing.
    ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.FAILED)
    after_status, rendered = page(sam)
    failed = str(ReportRun.Status.FAILED.label)
    assert rendered == 1 and steady(after_status) != steady(after_run)
    assert failed in after_status and failed not in after_run
    # Another period, another language.
    quarter, rendered = page(sam, "?period=2026-Q3")
    assert rendered == 1 and "2026-Q3" in quarter
    english, rendered = page(sam, language="en")
    assert rendered == 1 and "Reports" in english and "报表" not in english
    # The first period again in Chinese: kept, the same content as the last one rendered.
    again, rendered = page(sam)
    assert rendered == 0 and steady(again) == steady(after_status)


def test_the_head_and_the_figures_show_at_the_next_request(
    people, django_capture_on_commit_callbacks
):
    """The access record's head (the sealer moves it every 30 s) is one of the page's reads;
    the figures are kept by their generation (tests/test_report_figures_cache.py), which a
    change's commit renews: either shows at the next request."""
    sam = signed_in(people["sam"])
    first, _ = page(sam)
    AccessChainHead.objects.update_or_create(
        pk=1, defaults={"last_seq": 41, "last_hash": "ab" * 32, "sealed_at": timezone.now()}
    )
    sealed, rendered = page(sam)
    assert rendered == 1 and "#41" in sealed and "abababababab" in sealed
    assert page(sam)[1] == 0
    with django_capture_on_commit_callbacks(execute=True):
        submitted(people["alice"])  # the figures' generation is renewed at its commit
    changed, rendered = page(sam)
    assert rendered == 1 and "#41" in changed
    figures = re.compile(r'<section aria-labelledby="summary-title">.*', re.DOTALL)
    assert figures.search(steady(changed))[0] != figures.search(steady(sealed))[0]


def test_a_users_files_never_show_on_another_users_page(people):
    other = org_services.user_create(
        by=None, username="sara", password="pw", role=User.Role.SECRETARIAT
    )
    mine = run_of(people["sam"])
    sam, sara = signed_in(people["sam"]), signed_in(other)
    sams_page, _ = page(sam)
    saras_page, rendered = page(sara)
    assert f"/reports/runs/{mine.pk}/" in sams_page
    assert f"/reports/runs/{mine.pk}/" not in saras_page
    assert rendered == 1


def test_the_forms_carry_this_requests_token_and_it_is_accepted(people):
    sam = signed_in(people["sam"], enforce_csrf_checks=True)
    page(sam)  # kept now
    content, rendered = page(sam)
    assert rendered == 0
    tokens = set(TOKEN.findall(content))
    assert kept_pages._TOKEN not in content
    assert tokens and all(len(token) == 64 for token in tokens)
    # The year's PDF is made in the background: its form posts to the run's creation.
    response = sam.post(
        "/reports/runs/",
        {
            "kind": "alliance",
            "period": "2026",
            "format": "pdf",
            "csrfmiddlewaretoken": tokens.pop(),
        },
    )
    assert response.status_code == 302
    refused = sam.post(
        "/reports/runs/",
        {"kind": "alliance", "period": "2026", "format": "pdf", "csrfmiddlewaretoken": "x" * 64},
    )
    assert refused.status_code == 403


def test_two_users_sharing_an_entry_each_get_their_own_token(people):
    """Two secretariat users with no files of their own share what is kept: the tokens
    sent to each are their own session's, and one's is refused in the other's session."""
    other = org_services.user_create(
        by=None, username="sara", password="pw", role=User.Role.SECRETARIAT
    )
    sam = signed_in(people["sam"], enforce_csrf_checks=True)
    sara = signed_in(other, enforce_csrf_checks=True)
    sams_page, rendered_for_sam = page(sam)
    saras_page, rendered_for_sara = page(sara)
    assert (rendered_for_sam, rendered_for_sara) == (1, 1)  # each reader's own page
    sams_page, rendered_for_sam = page(sam)
    saras_page, rendered_for_sara = page(sara)
    assert (rendered_for_sam, rendered_for_sara) == (0, 0)
    sams_token, saras_token = TOKEN.search(sams_page)[1], TOKEN.search(saras_page)[1]
    assert _unmask(sams_token) == sam.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask(saras_token) == sara.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask(sams_token) != _unmask(saras_token)
    run = {"kind": "alliance", "period": "2026", "format": "pdf"}
    assert (
        sara.post("/reports/runs/", {**run, "csrfmiddlewaretoken": sams_token}).status_code == 403
    )
    assert (
        sara.post("/reports/runs/", {**run, "csrfmiddlewaretoken": saras_token}).status_code == 302
    )


def test_a_refused_period_is_shown_with_its_message_each_time(people):
    sam = signed_in(people["sam"])
    first = sam.get("/reports/?period=2026-Q9")
    again = sam.get("/reports/?period=2026-Q9")
    assert first.status_code == again.status_code == 200
    assert CONTENT in [t.name for t in first.templates]
    message = 'class="errors" role="alert"'
    assert message in first.content.decode()
    assert steady(again.content.decode()) == steady(first.content.decode())


def test_member_staff_are_refused_the_dashboard_kept_for_the_secretariat(people):
    sam = signed_in(people["sam"])
    page(sam)
    page(sam)
    for name in ("alice", "bob"):
        assert signed_in(people[name]).get("/reports/?period=2026").status_code == 403


def test_figures_read_on_a_replica_behind_the_primary_are_not_kept_in_the_page(people, monkeypatch):
    """reports.figures_cache serves what it read on a replica that has not caught up, but
    stores nothing of it: nor is the page made of them kept. Each request reads the
    figures again until the replica has caught up."""
    from django.core.cache import cache

    from reports import figures_cache, views

    sam = signed_in(people["sam"])
    cache.clear()
    builds = []
    real = views.cached_report_figures
    monkeypatch.setattr(views, "cached_report_figures", lambda p: builds.append(p) or real(p))
    monkeypatch.setattr(figures_cache, "_replica_has", lambda current: False)
    rendered = [page(sam)[1] for _ in range(3)]
    assert rendered == [1, 1, 1] and len(builds) == 3
    assert len(replayed_pages.REPLAYS) == 0
    monkeypatch.setattr(figures_cache, "_replica_has", lambda current: True)  # caught up
    page(sam)  # the figures stored (with the tests' database cache a write: not kept)
    page(sam)
    assert page(sam)[1] == 0  # kept now
