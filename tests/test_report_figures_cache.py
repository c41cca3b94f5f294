"""The dashboard's figures cached by a generation (reports/figures_cache.py): a change made
through the services shows on the very next request, a language never gets another's
page, only the secretariat reads them, and the queries are pinned cold and warm."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from aid_alliance import replayed_pages
from organizations.models import AidProject
from reports import figures_cache
from reports.charts import report_charts
from reports.periods import parse_period
from reports.selectors import report_figures
from reports.tables import definitions, report_tables
from tests import test_report_aggregates
from tests.test_api_cases import THROTTLE_QUERIES
from tests.test_bills import pay
from tests.test_report_aggregates import (
    NOW,
    change_approve_old,
    change_pay,
    change_reverse,
    change_submit,
    periods_of,
)
from tests.test_workflow import review_of

pytestmark = pytest.mark.django_db

# Generated history with the aggregates kept, then today's activity through the services.
built = test_report_aggregates.built
activity = test_report_aggregates.activity

KEPT_TABLE = "reports_applicationfigure"


def sql(queries) -> str:
    return "\n".join(query["sql"] for query in queries)


def dashboard(client, code: str, *, language: str = "zh-hans") -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(f"/reports/?period={code}")
    assert response.status_code == 200
    return response.content.decode()


def part_of(page: str) -> str:
    """The figures' part of a dashboard page (the summary to the definitions)."""
    start = page.index('<section aria-labelledby="summary-title">')
    return page[start : page.index('<section aria-labelledby="access-chain-title">')]


def figures_part(code: str, *, language: str = "zh-hans") -> str:
    """The figures' part as the live selector's figures render it now, uncached."""
    with translation.override(language):
        figures = report_figures(parse_period(code))
        return render_to_string(
            "reports/_figures.html",
            {
                "figures": figures,
                "tables": report_tables(figures),
                "charts": report_charts(figures),
                "definitions": definitions(),
            },
        )


@pytest.fixture
def sam(client, activity, people):
    """The secretariat signed in, over generated history with the aggregates kept."""
    client.force_login(people["sam"])
    return client


def warm(client, codes) -> dict[str, str]:
    """Each period's dashboard, asked twice: the second answer is the cache's."""
    pages = {}
    for code in codes:
        dashboard(client, code)
        with CaptureQueriesContext(connection) as read:
            pages[code] = dashboard(client, code)
        assert KEPT_TABLE not in sql(read), "the second request reads no figures"
    return pages


@pytest.mark.parametrize(
    "change",
    [change_submit, change_approve_old, change_pay, change_reverse],
    ids=lambda f: f.__name__,
)
def test_the_next_dashboard_request_shows_a_change_made_through_the_services(
    sam, people, activity, change, django_capture_on_commit_callbacks
):
    codes = sorted({code for code in periods_of(activity) if len(code) == 4} | {"2025", "2026"})
    before = warm(sam, codes)
    with django_capture_on_commit_callbacks(execute=True):  # the service's commit
        changed = change(people, activity)
    years = {code for code in periods_of(*changed) if len(code) == 4}
    for code in codes:
        page = dashboard(sam, code)
        assert figures_part(code) in page, code
        if code in years:
            assert part_of(page) != part_of(before[code]), f"{code}: the change shows"


def test_nothing_is_written_before_the_commit(sam, people, activity):
    code = f"{NOW:%Y}"
    before = warm(sam, [code])[code]
    first = figures_cache.generation()
    # pytest-django's test transaction stays open: no commit, so no new generation yet.
    pay(review_of(activity, 1), people["bob"], 500, bank_reference="TX-9")
    assert figures_cache.generation() == first
    assert part_of(dashboard(sam, code)) == part_of(before), "not committed yet: the cached page"


def test_a_rolled_back_change_keeps_the_generation(
    sam, people, activity, django_capture_on_commit_callbacks
):
    first = figures_cache.generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            pay(review_of(activity, 1), people["bob"], 500, bank_reference="TX-9")
            raise RuntimeError
    assert callbacks == [] and figures_cache.generation() == first


def test_a_renamed_project_shows_on_the_next_request(
    sam, activity, django_capture_on_commit_callbacks
):
    code = f"{NOW:%Y}"
    warm(sam, [code])
    project = AidProject.objects.get(code="P01")
    with django_capture_on_commit_callbacks(execute=True):
        project.name_zh = "改名后的项目"
        project.save()
    page = dashboard(sam, code)
    assert "改名后的项目" in page and figures_part(code) in page


def test_a_rebuild_shows_on_the_next_request(sam, activity, django_capture_on_commit_callbacks):
    from reports.aggregates import rebuild
    from reports.models import PledgeFigure

    code = f"{NOW:%Y}"
    before = warm(sam, [code])[code]
    PledgeFigure.objects.update(pledged=0)  # wrong by hand: only a rebuild puts it right
    assert part_of(dashboard(sam, code)) == part_of(before)
    with django_capture_on_commit_callbacks(execute=True):
        rebuild()
    assert figures_part(code) in dashboard(sam, code)


def test_a_page_cached_in_one_language_is_not_served_in_the_other(sam):
    code = f"{NOW:%Y}"
    chinese = dashboard(sam, code)
    dashboard(sam, code)  # cached
    english = dashboard(sam, code, language="en")
    assert "按成员机构" in chinese and "By member organisation" not in chinese
    assert "By member organisation" in english and "按成员机构" not in english
    assert figures_part(code, language="en") in english
    assert part_of(dashboard(sam, code)) == part_of(chinese)


def test_the_cached_figures_stay_the_secretariats(client, sam, people):
    code = f"{NOW:%Y}"
    warm(sam, [code])
    for name in ("alice", "bob", "carol", "dave"):
        client.force_login(people[name])
        assert client.get(f"/reports/?period={code}").status_code == 403, name
        assert client.get(f"/api/v1/reports/figures/?period={code}").status_code == 403, name
    client.logout()
    response = client.get(f"/reports/?period={code}")
    assert response.status_code == 302 and "按成员机构" not in response.content.decode()


def test_the_api_reads_the_cached_figures_and_their_changes(
    sam, people, activity, django_capture_on_commit_callbacks
):
    code = f"{NOW:%Y}"
    first = sam.get(f"/api/v1/reports/figures/?period={code}").json()
    with CaptureQueriesContext(connection) as read:
        again = sam.get(f"/api/v1/reports/figures/?period={code}").json()
    assert again.pop("generated_at") >= first.pop("generated_at")  # the time asked, not cached
    assert again == first
    assert KEPT_TABLE not in sql(read)
    with django_capture_on_commit_callbacks(execute=True):
        pay(review_of(activity, 1), people["bob"], 700, bank_reference="TX-6")
    paid = Decimal(sam.get(f"/api/v1/reports/figures/?period={code}").json()["paid"])
    assert paid == Decimal(first["paid"]) + 700


def test_the_dashboards_queries_are_pinned_cold_and_warm(
    sam, people, activity, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The page as built (nothing served again, aid_alliance.replayed_pages: emptied before
    each request). Session, user with its device, the access record's head and recent files on every
    request; the generation and the page's part from the cache (two queries with the
    database cache of the tests, none on the database with Redis); on a cold cache the
    figures (3 of the directory, 3 of the kept figures and medians, 1 of the reviews)."""
    cache.delete(figures_cache.GENERATION_KEY)
    database_cache = settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    # A get is a query; an add or a set five (count, savepoint, select, insert, release).
    get, put = (1, 5) if database_cache else (0, 0)
    fixed, figures = 4, 7
    # Cold, the generation made: its get and add, the part's and the figures' gets, the
    # figures, the two sets.
    replayed_pages.REPLAYS.clear()
    with django_assert_num_queries(fixed + get + put + 2 * get + figures + 2 * put):
        dashboard(sam, "2026")
    replayed_pages.REPLAYS.clear()
    with django_assert_num_queries(fixed + 2 * get):  # warm
        dashboard(sam, "2026")
    with django_capture_on_commit_callbacks(execute=True):
        pay(review_of(activity, 1), people["bob"], 100, bank_reference="TX-5")
    # Cold after a change, as usual in production: the generation is there.
    replayed_pages.REPLAYS.clear()
    with django_assert_num_queries(fixed + 3 * get + figures + 2 * put):
        dashboard(sam, "2026")
    replayed_pages.REPLAYS.clear()
    with django_assert_num_queries(fixed + 2 * get):
        dashboard(sam, "2026")


def test_the_figures_apis_queries_are_pinned_cold_and_warm(
    sam, people, activity, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """As the dashboard's: the API's fixed queries (session, user, the throttle's counters)
    on every request; the generation and the figures from the cache; the figures themselves
    only on a cold cache."""
    url = "/api/v1/reports/figures/?period=2026"
    cache.delete(figures_cache.GENERATION_KEY)
    database_cache = settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    get, put = (1, 5) if database_cache else (0, 0)
    # The session, the user with its device, and the throttle's counter in the cache.
    fixed, figures = 2 + (THROTTLE_QUERIES if database_cache else 0), 7
    # Cold, the generation made: its get and add, the figures' get, the figures, their set.
    with django_assert_num_queries(fixed + get + put + get + figures + put):
        assert sam.get(url).status_code == 200
    with django_assert_num_queries(fixed + 2 * get):  # warm
        assert sam.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        pay(review_of(activity, 1), people["bob"], 100, bank_reference="TX-7")
    with django_assert_num_queries(fixed + 2 * get + figures + put):  # cold after a change
        assert sam.get(url).status_code == 200


def test_figures_read_on_a_replica_behind_the_generation_are_served_not_kept(sam, monkeypatch):
    """A replica that has not replayed the change's commit yet (reports.figures_cache
    ._replica_has): its figures answer this request, and the next one reads them again."""
    code = f"{NOW:%Y}"
    monkeypatch.setattr(figures_cache, "_replica_has", lambda current: False)
    for _ in range(2):
        with CaptureQueriesContext(connection) as read:
            dashboard(sam, code)
        assert KEPT_TABLE in sql(read)
    monkeypatch.undo()
    dashboard(sam, code)
    with CaptureQueriesContext(connection) as read:
        dashboard(sam, code)
    assert KEPT_TABLE not in sql(read)
