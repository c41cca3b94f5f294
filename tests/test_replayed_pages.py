"""Pages served again while every read they were made of answers the same
(aid_alliance.replayed_pages, issue 18): the application page, the edit page, the inbox and
the staff list. A page served again is the page built live; it runs the reads it was made
of and no template; any change in what it read, through the services, in plain SQL, in
another table or in the directory, shows at the next request; the access record is
written on every serve; another reader never gets a page kept for someone else, and a
reader whose access ends gets the refusal, not the page; what writes, changes the session
or queues a message is never kept; the clock's minute is part of the key.
(tests/conftest.py empties what is kept before each test.)"""

import datetime
import re
import uuid
from contextlib import ExitStack
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from aid_alliance import read_answers, replayed_pages
from cases.intake import services
from cases.models import AccessRecord, Application, Child, Guardian
from cases.review import services as workflow
from organizations.models import DiseaseCategory, MemberOrganization
from organizations.services import user_set_active
from tests.test_workflow import as_user, fill, review_of, submitted

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'nonce="([^"]+)"')


def page(response) -> str:
    """The page without what is each response's own: the CSRF token and the CSP nonce."""
    html = response.content.decode()
    return NONCE.sub('nonce=""', TOKEN.sub('value=""', html))


def built(response) -> bool:
    """Whether the templates ran for this response (False: served again)."""
    return bool(response.templates)


def detail(application) -> str:
    return f"/applications/{application.reference}/"


def seen(application, view="detail") -> int:
    return AccessRecord.objects.filter(application=application, view=view).count()


def test_the_application_page_is_served_again_as_built_and_recorded_each_time(
    client, people, monkeypatch
):
    application = submitted(people["alice"])
    as_user(client, people["bob"])
    first = client.get(detail(application))
    with CaptureQueriesContext(connection) as again_queries:
        again = client.get(detail(application))
    assert built(first) and not built(again)
    assert page(again) == page(first)
    assert TOKEN.search(again.content.decode())  # its own token, not the stand-in
    assert seen(application) == 2  # §5: every view is recorded, served again or not
    entry = next(iter(replayed_pages.REPLAYS._values.values()))
    # The reads again, and the access record: no other statement. On PostgreSQL the reads are
    # one statement (replayed_pages._read_together) with the access record's INSERT in it,
    # written only when they answer the same (_with_after).
    queries = [q["sql"] for q in again_queries.captured_queries]
    inserts = [sql for sql in queries if "INSERT" in sql]
    assert len(inserts) == 1 and "cases_accessrecord" in inserts[0]
    if connection.vendor == "postgresql":
        assert entry.statements == 1 and inserts[0].startswith("WITH answer AS MATERIALIZED")
        assert len(queries) == 3  # the session, the user with member and device, the page's
    else:
        assert inserts[0].startswith("INSERT")
        assert len(queries) == len(entry.reads) + 3
    # Built live (nothing kept) it is the same page.
    replayed_pages.REPLAYS.clear()
    assert page(client.get(detail(application))) == page(first)
    # PostgreSQL's answers are compared as the bytes it sent; SQLite's as the rows.
    kinds = {kind for _alias, _sql, _params, kind, _digest in entry.reads}
    assert kinds == {
        replayed_pages.RAW if connection.vendor == "postgresql" else replayed_pages.ROWS
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own answers")
def test_the_digest_of_postgresqls_answer_tells_every_value_apart():
    def answer(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return replayed_pages.result_digest(cursor.cursor.pgresult)

    same = answer("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL")
    assert same == answer("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL")
    assert (
        len(
            {
                same,
                answer("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, ''"),  # NULL is not ''
                answer("SELECT 2 AS a, NULL AS b UNION ALL SELECT 1, 'x'"),  # the order counts
                answer("SELECT 1 AS a, 'x' AS b"),  # a row fewer
                answer("SELECT 1, 'x2', NULL"),  # the values run on into the next column
                answer("SELECT 1 AS a, 'x' AS b WHERE false"),
            }
        )
        == 6
    )


def test_a_change_of_any_read_shows_at_the_next_request(client, people):
    alice, bob, dave = people["alice"], people["bob"], people["dave"]
    application = submitted(alice)
    as_user(client, bob)
    client.get(detail(application))
    # Another member's decision: a row of another table.
    workflow.review_take(review=review_of(application, 2), by=dave)
    taken = client.get(detail(application))
    assert built(taken)
    assert "dave" in taken.content.decode()
    # A guardian's name changed in plain SQL, as a repair would: no service, no signal.
    client.get(detail(application))
    Guardian.objects.filter(application=application).update(name="王改名")
    renamed = client.get(detail(application))
    assert built(renamed) and "王改名" in renamed.content.decode()
    # The member's name, read through the directory.
    client.get(detail(application))
    MemberOrganization.objects.filter(pk=application.member_id).update(name_en="Renamed Fund")
    assert "Renamed Fund" in client.get(detail(application)).content.decode()
    assert not built(client.get(detail(application)))  # and kept again


def test_the_edit_page_sees_a_category_renamed_in_sql(client, people):
    """The category select reads through a server-side cursor on PostgreSQL (a queryset's
    iterator): its rows are recorded as the form fetches them."""
    alice = people["alice"]
    draft = fill(services.application_create(by=alice), alice)
    as_user(client, alice)
    url = f"/applications/{draft.reference}/edit/"
    first = client.get(url)
    again = client.get(url)
    assert built(first) and not built(again) and page(again) == page(first)
    assert seen(draft, "edit") == 2
    category = DiseaseCategory.objects.order_by("pk").last()
    DiseaseCategory.objects.filter(pk=category.pk).update(name_en="Renamed category")
    changed = client.get(url)
    assert built(changed) and "Renamed category" in changed.content.decode()


def test_another_reader_never_gets_a_page_kept_for_someone_else(client, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    draft = fill(services.application_create(by=alice), alice)
    as_user(client, alice)
    assert client.get(detail(draft)).status_code == 200
    assert client.get(detail(draft)).status_code == 200  # kept for alice
    # The other member's caseworker: the draft is not theirs to see.
    as_user(client, carol)
    assert client.get(detail(draft)).status_code == 404
    assert client.get(f"/applications/{draft.reference}/edit/").status_code == 404
    # Bob is of alice's member and may see it: a page of his own, built for him.
    as_user(client, bob)
    response = client.get(detail(draft))
    assert response.status_code == 200 and built(response)
    replayed_pages.REPLAYS.clear()
    assert page(client.get(detail(draft))) == page(response)  # as built live for him


def test_a_reader_whose_access_ends_gets_the_refusal(client, people):
    alice, root = people["alice"], people["root"]
    application = submitted(alice)
    as_user(client, alice)
    assert client.get(detail(application)).status_code == 200
    assert client.get(detail(application)).status_code == 200
    user_set_active(user=alice, is_active=False, by=root)
    refused = client.get(detail(application))
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/login/")


def test_the_inbox_and_the_staff_list_show_a_new_application_at_once(client, people):
    alice, bob = people["alice"], people["bob"]
    submitted(alice, sequence="123")
    as_user(client, bob)
    for url in ("/inbox/", "/applications/"):
        client.get(url)
        assert not built(client.get(url))
    newer = submitted(alice, sequence="125")
    for url in ("/inbox/", "/applications/"):
        response = client.get(url)
        assert built(response) and newer.reference in response.content.decode()
    # Each serve of a list records the applications it showed.
    assert AccessRecord.objects.filter(application=newer, view="inbox").count() == 1
    client.get("/inbox/")
    assert AccessRecord.objects.filter(application=newer, view="inbox").count() == 2


def test_another_member_gets_its_own_inbox(client, people, directory):
    alice, bob, dave = people["alice"], people["bob"], people["dave"]
    submitted(alice)
    as_user(client, bob)
    client.get("/inbox/")
    assert not built(client.get("/inbox/"))  # kept for bob
    as_user(client, dave)
    daves = client.get("/inbox/")
    assert built(daves)
    html = daves.content.decode()
    assert escape(directory[1].name_en) in html and escape(directory[0].name_en) not in html


def test_the_minute_is_in_the_key(client, people, monkeypatch):
    application = submitted(people["alice"])
    as_user(client, people["bob"])
    # Both requests in one minute, whatever the clock (a minute turning between them would
    # build the second too).
    now = replayed_pages.time.time() // 60 * 60 + 1
    monkeypatch.setattr(replayed_pages.time, "time", lambda: now)
    client.get(detail(application))
    assert not built(client.get(detail(application)))
    monkeypatch.setattr(replayed_pages.time, "time", lambda: now + 60)
    assert built(client.get(detail(application)))


def test_a_page_whose_building_writes_is_not_kept(rf, people):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    application = submitted(people["alice"])
    request = rf.get("/x/")
    request.user, request.session = AnonymousUser(), SessionStore()
    request._messages = FallbackStorage(request)

    def writes():
        Application.objects.filter(pk=application.pk).update(updated_at=timezone.now())
        return replayed_pages.Page("base.html", {})

    def changes_the_session():
        request.session["x"] = 1
        return replayed_pages.Page("base.html", {})

    def reads():
        Application.objects.filter(pk=application.pk).exists()
        return replayed_pages.Page("base.html", {})

    for build in (writes, changes_the_session):
        replayed_pages.page(request, build, inputs=(build.__name__,))
    assert len(replayed_pages.REPLAYS) == 0
    replayed_pages.page(request, reads, inputs=("reads",))
    assert len(replayed_pages.REPLAYS) == 1
    # A message waiting: the page is built live, with it, and the kept one is left alone.
    from django.contrib import messages

    messages.info(request, "Saved.")
    calls = []

    def counted():
        calls.append(1)
        return reads()

    replayed_pages.page(request, counted, inputs=("reads",))
    assert calls == [1]


def test_a_page_holding_a_token_or_nonce_of_its_own_is_not_kept(rf, people, settings, tmp_path):
    """A part rendered apart with the request holds this session's CSRF token (or this
    response's nonce): kept, another session would get it. Caught even when the token was
    made before the page, so that the flag Django sets cannot tell."""
    import copy

    (tmp_path / "part_page.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ content }}{% endblock %}',
        encoding="utf-8",
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import get_token
    from django.template import engines
    from django.utils.csp import LazyNonce
    from django.utils.safestring import mark_safe

    request = rf.get("/x/")
    request.user, request.session = AnonymousUser(), SessionStore()
    request._messages = FallbackStorage(request)
    request._csp_nonce = LazyNonce()
    get_token(request)  # made before the page
    str(request._csp_nonce)

    def apart(source):
        def build():
            part = engines["django"].from_string(source).render({}, request)
            return replayed_pages.Page("part_page.html", {"content": mark_safe(part)})  # noqa: S308 - ours

        return build

    for source in ("{% csrf_token %}", '<script nonce="{{ csp_nonce }}"></script>'):
        response = replayed_pages.page(request, apart(source), inputs=(source,))
        assert response.status_code == 200
    assert len(replayed_pages.REPLAYS) == 0
    replayed_pages.page(request, apart("<p>no token</p>"), inputs=("plain",))
    assert len(replayed_pages.REPLAYS) == 1  # the same page without them is kept


def _request(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/x/")
    request.user, request.session = AnonymousUser(), SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_session_written_when_already_modified_is_not_kept(rf, people):
    """The idle-session middleware marks the session modified about once a minute before
    the view: a page that writes the session is still told apart, by its contents."""
    request = _request(rf)
    request.session["seen"] = 1  # modified before the page
    assert request.session.modified

    def writes_the_session():
        request.session["x"] = 1
        return replayed_pages.Page("base.html", {})

    replayed_pages.page(request, writes_the_session, inputs=("s",))
    assert len(replayed_pages.REPLAYS) == 0


def test_a_message_queued_by_the_page_is_shown_on_it(rf, people):
    from django.contrib import messages

    request = _request(rf)

    def tells():
        messages.info(request, "SAID-ON-THIS-PAGE")
        return replayed_pages.Page("base.html", {})

    html = replayed_pages.page(request, tells, inputs=("m",)).content.decode()
    assert "SAID-ON-THIS-PAGE" in html
    assert len(replayed_pages.REPLAYS) == 0


@pytest.mark.django_db(transaction=True)
def test_a_replay_that_fails_in_the_database_builds_the_page_live(client, people, monkeypatch):
    """A connection lost or a timeout while the reads run again is an answer that
    differs: the page is built live on a new connection, not a 500."""
    from django.db import OperationalError

    application = submitted(people["alice"])
    as_user(client, people["bob"])
    client.get(detail(application))

    def lost(entry, request=None):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(replayed_pages, "_answers_the_same", lost)
    response = client.get(detail(application))
    assert response.status_code == 200 and built(response)
    assert seen(application) == 2


def test_an_entry_of_an_earlier_minute_leaves_memory(client, people, monkeypatch):
    first, second = submitted(people["alice"]), submitted(people["alice"], sequence="125")
    as_user(client, people["bob"])
    # Both built in one minute, whatever the clock (a minute turning between them would
    # leave one entry already).
    now = replayed_pages.time.time() // 60 * 60 + 1
    monkeypatch.setattr(replayed_pages.time, "time", lambda: now)
    client.get(detail(first))
    client.get(detail(second))
    assert len(replayed_pages.REPLAYS) == 2
    monkeypatch.setattr(replayed_pages.time, "time", lambda: now + 60)
    client.get(detail(first))
    assert len(replayed_pages.REPLAYS) == 1  # the second's page of the minute before: gone


def test_a_new_generation_of_the_directory_builds_the_inbox_again(client, people, settings):
    """With Redis the inbox's choices are kept under the directory's generation, read from
    the cache, not by SQL: the generation is recorded with the reads and compared too."""
    from aid_alliance import generations
    from organizations import directory_cache

    settings.DIRECTORY_GENERATION = True
    # A cache outside the database, as Redis is: the generation is no SQL read.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    submitted(people["alice"])
    as_user(client, people["bob"])
    client.get("/inbox/")
    assert not built(client.get("/inbox/"))
    (entry,) = replayed_pages.REPLAYS._values.values()
    assert [keys for keys, _tokens in entry.tokens] == [(directory_cache.GENERATION_KEY,)]
    generations.renew(directory_cache.GENERATION_KEY)  # what a directory change does
    assert built(client.get("/inbox/"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pipeline")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "mode, name",
    [
        ("with its access record", "_answers_the_same_with_after"),
        ("together", "_answers_the_same_together"),
        ("pipelined", "_answers_the_same_pipelined"),
    ],
)
def test_a_connection_the_server_ended_before_the_replay_gives_the_page_built_live(
    client, people, monkeypatch, mode, name
):
    """The replay runs no health check of its own (Django's SELECT 1 would be a round trip
    more on every serve): a connection the server ended fails in the replay's statement (the
    reads together with the access record, together, or pipelined), and the page is built
    live on a new connection, not a 500, and its view recorded once."""
    import psycopg

    monkeypatch.setattr(replayed_pages, "TOGETHER", mode != "pipelined")
    if mode == "together":
        monkeypatch.setattr(replayed_pages, "_with_after", lambda entry, request: None)
    application = submitted(people["alice"])
    as_user(client, people["bob"])
    client.get(detail(application))
    entry = next(iter(replayed_pages.REPLAYS._values.values()))
    assert (entry.together is not None) is (mode != "pipelined")
    replay, ended = getattr(replayed_pages, name), []

    def after_the_server_ended_it(*args):
        pid = connection.connection.info.backend_pid
        settings = connection.get_connection_params()
        with psycopg.connect(**settings, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        ended.append(pid)
        return replay(*args)

    monkeypatch.setattr(replayed_pages, name, after_the_server_ended_it)
    response = client.get(detail(application))
    assert ended and response.status_code == 200 and built(response)
    assert connection.connection is None or connection.connection.info.backend_pid != ended[0]
    assert seen(application) == 2


def test_a_view_is_recorded_once_whether_served_again_or_built_anew(client, people):
    """Served again, the access record is written with the reads' comparison (on
    PostgreSQL in the same statement, only when they answer the same); when they do not,
    the page built anew records the view, and it is recorded once, not twice."""
    application = submitted(people["alice"])
    as_user(client, people["bob"])
    client.get(detail(application))
    assert not built(client.get(detail(application)))
    assert seen(application) == 2
    Guardian.objects.filter(application=application).update(name="王改名")
    rebuilt = client.get(detail(application))
    assert built(rebuilt) and "王改名" in rebuilt.content.decode()
    assert seen(application) == 3
    assert not built(client.get(detail(application)))
    assert seen(application) == 4
    bob = people["bob"].pk
    assert set(
        AccessRecord.objects.filter(application=application).values_list("user_id", flat=True)
    ) == {bob}


def test_a_search_is_replayed_with_its_pattern_in_and_sees_a_renamed_child(client, people):
    """The search's statement is replayed as its text with the pattern in, which PostgreSQL
    plans once (replayed_pages.planned_for_its_values); it still answers as the database
    does now."""
    application = submitted(people["alice"])
    term = application.child.name[:2]
    as_user(client, people["bob"])
    url = f"/applications/?q={quote(term)}"
    first = client.get(url)
    again = client.get(url)
    assert application.reference in page(first)
    assert built(first) and not built(again) and page(again) == page(first)
    entry = next(iter(replayed_pages.REPLAYS._values.values()))
    searched = [read for read in entry.reads if "LIKE" in read[1]]
    assert len(searched) == 1
    _alias, sql, params, _kind, _digest = searched[0]
    if connection.vendor == "postgresql":
        assert params is None and f"'%{term}%'" in sql
    else:  # SQLite reads its statements again as they were
        assert f"%{term}%" in params
    # Renamed in SQL, behind every service: only the replayed read can tell.
    Child.objects.filter(pk=application.child_id).update(name="欧阳明")
    response = client.get(url)
    assert built(response) and application.reference not in page(response)


@pytest.mark.parametrize("term", ["O'Brien", "杨\\'; --", "100%_", '"引号"', "$1 %s $$"])
def test_a_search_of_any_text_is_served_again(client, people, term):
    """Quotes, backslashes and LIKE's own characters in the pattern written into the
    replayed text: it runs, and answers as the page was built."""
    submitted(people["alice"])
    as_user(client, people["bob"])
    url = f"/applications/?q={quote(term)}"
    first = client.get(url)
    again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert built(first) and not built(again) and page(again) == page(first)


def _recorded_with_values(sql, params) -> replayed_pages._Entry:
    record = replayed_pages._Record()
    with replayed_pages._recording(record), replayed_pages.planned_for_its_values():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()
    reads = replayed_pages._Recorder.digests(record)
    return replayed_pages._Entry("", 200, (), reads, record.tokens, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's binding")
def test_a_value_is_written_in_as_the_type_it_is_bound_as():
    """A number written in bare means another thing than bound (a float is float8 bound and
    numeric bare; `ORDER BY $1` is a constant, `ORDER BY 2` the second column): it is written
    in with the type psycopg binds it as, and means the same."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE amounts (v numeric)")
        cursor.execute("INSERT INTO amounts VALUES (0.3)")
    counted = _recorded_with_values("SELECT count(*) FROM amounts WHERE v = %s", [0.3])
    assert counted.reads[0][2] is None and "(0.3)::float8" in counted.reads[0][1]
    assert replayed_pages._still_the_same(counted)
    with connection.cursor() as cursor:  # equal to the float8 0.3, not to the numeric 0.3
        cursor.execute("INSERT INTO amounts VALUES (0.30000000000000001)")
    assert not replayed_pages._still_the_same(counted)
    ordered = _recorded_with_values("SELECT v FROM amounts ORDER BY (%s)", [2])
    assert "((2)::int2)" in ordered.reads[0][1] and replayed_pages._still_the_same(ordered)
    texts = _recorded_with_values("SELECT %s::text, %s::text, %s", ["a'b%", None, True])
    assert texts.reads[0][2] is None and replayed_pages._still_the_same(texts)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's binding")
def test_a_text_that_errs_or_answers_otherwise_stays_bound():
    """The written-in text is tried once at recording: `ORDER BY ($1)` with text bound is a
    constant, written in it is refused (a non-integer constant); such a read stays bound,
    and the transaction it was recorded in goes on."""
    entry = _recorded_with_values("SELECT 1 AS one ORDER BY (%s)", ["x"])
    assert entry.reads[0][2] == ("x",) and replayed_pages._still_the_same(entry)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's binding")
def test_a_search_narrowed_by_a_category_is_written_in_with_its_id_typed(client, people):
    application = submitted(people["alice"])
    as_user(client, people["bob"])
    code = application.category.code
    url = f"/applications/?q={quote(application.child.name[:2])}&category={code}"
    first = client.get(url)
    assert application.reference in page(first) and not built(client.get(url))
    entry = next(iter(replayed_pages.REPLAYS._values.values()))
    searched = [read for read in entry.reads if "LIKE" in read[1]]
    assert len(searched) == 1 and searched[0][2] is None
    assert f"({application.category_id})::int2" in searched[0][1]


WRITTEN_IN = [
    ("SELECT %s::text", ['O\'Brien \\ %_ "x"']),
    ("SELECT %s", ["abc"]),
    ("SELECT %s, pg_typeof(%s)::text", [1, 1]),
    ("SELECT %s, pg_typeof(%s)::text", [70000, 70000]),
    ("SELECT %s, pg_typeof(%s)::text", [2**40, 2**40]),
    ("SELECT %s, pg_typeof(%s)::text", [2**70, 2**70]),
    ("SELECT %s / 3, pg_typeof(%s)::text", [1.0, 1.0]),
    ("SELECT %s", [1e20]),
    ("SELECT 0.30000000000000001::numeric = %s", [0.3]),
    ("SELECT %s, pg_typeof(%s)::text", [Decimal("1.50"), Decimal("1.50")]),
    ("SELECT %s", [None]),
    ("SELECT %s", [True]),
    ("SELECT %s", [datetime.date(2024, 1, 2)]),
    ("SELECT %s", [datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)]),
    ("SELECT %s", [datetime.timedelta(days=1, seconds=3)]),
    ("SELECT %s", [uuid.UUID(int=5)]),
    ("SELECT %s", [b"\x00\\'x"]),
    ("SELECT %s::text[]", [["a b", "NULL", '"', "\\", "{", ",", "'"]]),
    ("SELECT %s, pg_typeof(%s)::text", [[1, 2], [1, 2]]),
    ("SELECT 'a%%b' || %s", ["c"]),
    ("SELECT 'x' LIKE %s", ["%x%"]),
    ("SELECT v FROM (VALUES (1, 'a'), (2, 'b')) AS t(k, v) ORDER BY (%s), k", [2]),
]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's binding")
@pytest.mark.parametrize(("sql", "params"), WRITTEN_IN)
def test_the_written_in_text_answers_as_the_bound_statement(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        bound = replayed_pages.result_digest(cursor.cursor.pgresult)
        written = read_answers.written_in(connection, sql, params)
        cursor.execute(written)
        assert replayed_pages.result_digest(cursor.cursor.pgresult) == bound, written


def test_the_edit_pages_same_child_check_is_replayed_with_its_values_in(client, people):
    """The same-child check (written in on PostgreSQL: its plan depends on its values) sees
    a record of the same child that another member submits after the page was kept."""
    alice = people["alice"]
    draft = fill(services.application_create(by=alice), alice, sequence="123")
    as_user(client, alice)
    url = f"/applications/{draft.reference}/edit/"
    first = client.get(url)
    assert not built(client.get(url))
    entry = next(iter(replayed_pages.REPLAYS._values.values()))
    checks = [read for read in entry.reads if '"cases_child"."name" =' in read[1]]
    assert len(checks) == 1
    assert (checks[0][2] is None) == (connection.vendor == "postgresql")
    # Member 2 submits a child of the same name and birth date (another ID number: not
    # joined to this record, so listed as a possible match).
    submitted(people["carol"], sequence="125")
    changed = client.get(url)
    assert built(changed) and page(changed) != page(first)


def _reads_of(statements, *, with_values=False) -> list[tuple]:
    """The reads recorded of running `statements` ((sql, params) pairs)."""
    record = replayed_pages._Record()
    with ExitStack() as stack:
        stack.enter_context(replayed_pages._recording(record))
        if with_values:
            stack.enter_context(replayed_pages.planned_for_its_values())
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
    return replayed_pages._Recorder.digests(record)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's reads together")
def test_reads_together_tell_apart_what_each_read_would():
    """The reads as one statement (replayed_pages._read_together): its answer differs
    whenever a read's would: a row fewer, another order, NULL or empty, values running on
    into the next column, no row or a row of NULLs; a read's text with `%` in it runs beside
    bound values."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE words (n int, w text)")
        cursor.execute("INSERT INTO words VALUES (1, 'a'), (2, NULL)")

    def together(*statements):
        found = replayed_pages._read_together(_reads_of(statements))
        assert found is not None
        assert replayed_pages._answers_the_same_together(found)  # as recorded
        return found[3], found[4]  # this process's digest, and PostgreSQL's own

    asked = ("SELECT n, w FROM words WHERE n >= %s ORDER BY n", [1])
    literal = ("SELECT 'x%y' AS literal", None)
    same = together(asked, literal)
    assert same == together(asked, literal)
    variants = {
        same,
        together(("SELECT n, w FROM words WHERE n >= %s ORDER BY n DESC", [1]), literal),
        together(("SELECT n, w FROM words WHERE n >= %s ORDER BY n", [2]), literal),
        together(("SELECT n, coalesce(w, '') FROM words WHERE n >= %s ORDER BY n", [1]), literal),
        together(asked, ("SELECT 'x%'", None), ("SELECT 'y'", None)),
        together(asked, ("SELECT 'x%y' WHERE false", None)),
        together(asked, ("SELECT NULL::text", None)),
    }
    assert len(variants) == 7
    assert (
        len({here for here, _there in variants}) == len({there for _here, there in variants}) == 7
    )

    # A read keeping some of more rows in no fixed order is compared apart: which rows it
    # keeps may differ between its own plan and the statement's. A LIMIT it did not reach
    # (Django's get()) cut nothing.
    def apart(sql):
        return replayed_pages._read_together(_reads_of([(sql, None)])) is None

    assert apart("SELECT n FROM words LIMIT 1")
    assert apart("SELECT n FROM words LIMIT 2")
    assert apart("SELECT n FROM words OFFSET 1 LIMIT 5")
    assert not apart("SELECT n FROM words WHERE n = 1 LIMIT 21")
    assert not apart(
        "SELECT n FROM words WHERE n = 1 AND EXISTS (SELECT 1 FROM words LIMIT 1) LIMIT 21"
    )
    assert not apart("SELECT n FROM words ORDER BY n LIMIT 1")
    # A row changed after recording: the statement answers otherwise.
    kept = replayed_pages._read_together(_reads_of([asked]))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE words SET w = 'b' WHERE n = 2")
    assert not replayed_pages._answers_the_same_together(kept)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's reads together")
def test_the_answers_binary_digest_tells_apart_what_a_page_would_show():
    """PostgreSQL digests the statement's answer in binary (record_send): values a page
    shows differently digest differently (a numeric's scale, a JSON key, a float's sign, a
    byte, the empty text and NULL), and a time's digest does not depend on the session's
    time zone, so a serve on any connection compares alike."""

    def there(value_sql):
        together = f"SELECT (SELECT array_agg(t) FROM ({value_sql}) AS t)"  # noqa: S608 - the test's own
        with connection.cursor() as cursor:
            cursor.execute(replayed_pages._DIGESTED_THERE.format(together=together))
            return bytes(cursor.fetchone()[0])

    pairs = [
        ("SELECT 1.0::numeric", "SELECT 1.00::numeric"),
        ("""SELECT '{"a": 1}'::jsonb""", """SELECT '{"b": 1}'::jsonb"""),
        ("SELECT 0.0::float8", "SELECT '-0'::float8"),
        ("SELECT '\\x00'::bytea", "SELECT '\\x01'::bytea"),
        ("SELECT ''::text", "SELECT NULL::text"),
        ("SELECT 'a'::text, 'b'::text", "SELECT 'ab'::text, ''::text"),
    ]
    for one, other in pairs:
        assert there(one) != there(other), (one, other)
        assert there(one) == there(one)
    moment = "SELECT '2026-12-07 12:00:00+00'::timestamptz"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        in_utc = there(moment)
        cursor.execute("SET LOCAL TIME ZONE 'Asia/Shanghai'")
        assert there(moment) == in_utc
        assert there("SELECT '2026-12-07 12:00:01+00'::timestamptz") != in_utc


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's reads together")
def test_reads_are_together_only_when_each_answers_now_as_the_page_was_built():
    """Recording runs every read again in one snapshot with the statement: a read that
    answers otherwise by then (the page was built from rows changed since) leaves the reads
    apart, so the statement's digest never stands for rows the page does not show. A
    statement that errs leaves them apart too, and the transaction goes on."""
    reads = _reads_of([("SELECT 1 AS one", None), ("SELECT %s::int AS two", [2])])
    assert replayed_pages._read_together(reads) is not None
    changed = [reads[0], (*reads[1][:4], b"the rows the page was built from")]
    assert replayed_pages._read_together(changed) is None
    apart = [("default", "SELECT 1/0", None, replayed_pages.RAW, reads[0][4])]
    assert replayed_pages._read_together(apart) is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's reads together")
def test_reads_together_are_one_text_for_every_value_sent_as_it_is(client, people):
    """The reads together, and with them the access record, are kept with PostgreSQL's own
    placeholders and their values bound: psycopg sends the text as it is, not scanning it on
    every serve, and it is the same text for every page of the view (every application and
    reader), which the connection prepares once. A `%` or `$1` in a value stays a value."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE words (n int, w text)")
        cursor.execute("INSERT INTO words VALUES (1, '%$1 x'), (2, NULL)")
    read = "SELECT n, w FROM words WHERE n >= %s AND w LIKE %s ORDER BY n"
    one = replayed_pages._read_together(_reads_of([(read, [1, "%$1%"]), ("SELECT '5%'", None)]))
    two = replayed_pages._read_together(_reads_of([(read, [0, "%"]), ("SELECT '5%'", None)]))
    assert one[1] == two[1] and "$1" in one[1] and "%s" not in one[1] and "'5%'" in one[1]
    assert one[2] == (1, "%$1%") and one[3] == two[3] and one[4] == two[4]  # the same rows
    assert replayed_pages._answers_the_same_together(one)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE words SET w = '%$1 y' WHERE n = 1")
    assert not replayed_pages._answers_the_same_together(one)

    # Two applications' pages, each served again: one statement text for both.
    statements = []
    real = replayed_pages._answers_the_same_with_after

    def kept_statement(alias, sql, params):
        statements.append((sql, params))
        return real(alias, sql, params)

    first, second = submitted(people["alice"]), submitted(people["alice"], sequence="135")
    as_user(client, people["bob"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replayed_pages, "_answers_the_same_with_after", kept_statement)
        for application in (first, second):
            client.get(detail(application))
            assert not built(client.get(detail(application)))
        # The entry's statement is made once, then sent as it was, with this serve's values.
        assert not built(client.get(detail(second)))
    assert len(statements) == 3 and statements[0][0] == statements[1][0]
    assert statements[2][0] is statements[1][0]
    text = statements[0][0].decode()
    assert first.reference not in text and "$1" in text
    times = AccessRecord.objects.filter(application=second, view="detail").values_list("at")
    assert len(set(times)) == len(times) == 3  # built, then served twice: each its own time


def test_psycopgs_placeholders_become_postgresqls_numbered_ones():
    """An `after`'s SQL in the statement sent as it is: %s numbered on from the values
    already there, %% a plain %, and a value short or over is refused (the reads and the
    after then run apart)."""
    params = ["digest"]
    sql = replayed_pages._numbered("SELECT %s, '100%%', %s", params, [1, "b"])
    assert sql == "SELECT $2, '100%', $3" and params == ["digest", 1, "b"]
    with pytest.raises(ValueError):
        replayed_pages._numbered("SELECT %s", [], [])
    with pytest.raises(ValueError):
        replayed_pages._numbered("SELECT 1", [], [1])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's reads together")
def test_a_read_a_server_side_cursor_gave_is_together_too(people):
    """A form's choices are read through a server-side cursor (Django's
    ModelChoiceIterator), digested as rows: at recording they are compared as rows, then
    answer in the one statement like any other read, and a change shows."""
    categories = DiseaseCategory.objects.order_by("pk")
    record = replayed_pages._Record()
    with replayed_pages._recording(record):
        assert len(list(categories.iterator())) > 1
    reads = replayed_pages._Recorder.digests(record)
    assert [read[3] for read in reads] == [replayed_pages.ROWS]
    together = replayed_pages._read_together(reads)
    assert together is not None and replayed_pages._answers_the_same_together(together)
    DiseaseCategory.objects.filter(pk=categories[0].pk).update(name_zh="改名")
    assert not replayed_pages._answers_the_same_together(together)
    assert replayed_pages._read_together(reads) is None  # no longer the rows recorded
