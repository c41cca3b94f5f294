"""The dashboard's content kept in each process under a digest of its inputs (reports/views.py
`_content`, issue 18): rendered once for the same inputs; each input's change shows at the
very next request; the forms carry the request's own CSRF token, which the server accepts;
one user's recent files never show on another's page."""

import re

import pytest
from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token as _unmask
from django.utils import timezone

from cases.models import AccessChainHead
from organizations import services as org_services
from organizations.models import User
from reports import views
from reports.models import ReportRun
from tests.conftest import StaffClient

pytestmark = pytest.mark.django_db

CONTENT = "reports/_dashboard_content.html"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'nonce="[^"]+"')


def steady(html: str) -> str:
    """The page without what is new on every request: CSRF tokens (each request masks the
    same secret anew) and the layout's CSP nonce."""
    return NONCE.sub("", TOKEN.sub("", html))


@pytest.fixture(autouse=True)
def _empty():
    views.CONTENT_KEPT.clear()


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


def test_the_same_inputs_render_the_content_once(people):
    sam = signed_in(people["sam"])
    first, rendered_first = page(sam)
    second, rendered_second = page(sam)
    assert (rendered_first, rendered_second) == (1, 0)
    assert steady(first) == steady(second)
    assert len(views.CONTENT_KEPT) == 1


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


def test_the_head_and_the_figures_are_put_in_on_each_request(people, monkeypatch):
    """The access record's head (the sealer moves it every 30 s) and the figures' part (kept
    by the figures' generation, tests/test_report_figures_cache.py) are not in what is
    kept: they change the page at the next request without another entry."""
    sam = signed_in(people["sam"])
    page(sam)
    AccessChainHead.objects.update_or_create(
        pk=1, defaults={"last_seq": 41, "last_hash": "ab" * 32, "sealed_at": timezone.now()}
    )
    sealed, rendered = page(sam)
    assert rendered == 0 and "#41" in sealed and "abababababab" in sealed
    monkeypatch.setattr(
        views, "_figures_part", lambda period: {"html": "<p>新的数字</p>", "children": 7}
    )
    changed, rendered = page(sam)
    # The children's count is in the downloads' text: rendered again for it.
    assert rendered == 1 and "<p>新的数字</p>" in changed and "#41" in changed
    assert views._HEAD not in changed and views._FIGURES not in changed
    assert len(views.CONTENT_KEPT) == 2


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
    assert views._TOKEN not in content
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
    assert (rendered_for_sam, rendered_for_sara) == (1, 0)  # one entry, shared
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


def test_a_refused_period_is_rendered_with_its_message_and_not_kept(people):
    sam = signed_in(people["sam"])
    response = sam.get("/reports/?period=2026-Q9")
    assert response.status_code == 200
    assert CONTENT in [t.name for t in response.templates]
    assert len(views.CONTENT_KEPT) == 0
