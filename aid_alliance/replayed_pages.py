"""Pages served again while every read they were made of answers the same (issue 18).

`aid_alliance.kept_pages` keeps a page under the inputs its view names. The application
page, its edit page and the lists are made of many reads (the application, its sections,
guardians, documents, reviews, pledges, receipts, history, the same-child check), and
naming every one of them by hand is where a mistake would hide. Here the reads name
themselves. While the view builds the page, every SQL statement it runs is recorded with
a digest of the rows it got, and so is every generation it read from the cache
(`aid_alliance.generations`: the directory's, the users'). The next request for the same
page, by the same reader, runs those statements again as they were, with a plain cursor
(no queryset, model, form or template), and compares. When every statement answers with
the same rows and every generation is the same, it gets the page kept from the first: the
view is a function of those rows and of what is in the key, so it would have built the
same page again. When any answer differs, the page is built live and recorded anew.

The key also holds what the view reads beside the database: the view and what the caller
names, the page's address, host and scheme, the htmx headers, every field of the reader
and of the objects loaded with them (their member), the header's reader and the
navigation, the language, time zone, URL configuration and script prefix, and the minute.
The minute: a read whose parameters come from the clock (the inbox's "waiting more than
N days") is recorded anew every minute, so a page is never more than a minute behind the
clock, and never behind the database.

Not kept, built live every time: a page whose building ran anything but a plain SELECT
(a write, a lock, a sequence, a savepoint, a server-side cursor), changed the session,
queued a message, or asked for the CSRF token or the CSP nonce itself (they are stand-ins
in what is kept, as in kept_pages, and each response gets its own); a request with
messages waiting; a database other than PostgreSQL or SQLite. A view that answers with
something else than the page (a redirect, a 404 or 403) is passed through as it is.

What every serve must still do, built or served again, is the page's `after` (the access
record of §5: who saw which child's data, on every view).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field

from django.db import DatabaseError, connections, transaction
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import render as render_live
from django.utils.functional import empty

from aid_alliance import generations, kept, kept_pages
from aid_alliance.context_processors import navigation
from aid_alliance.kept import Kept
from aid_alliance.nav_tags import reader
from aid_alliance.read_answers import (
    PLACEHOLDER,
    RAW,
    ROWS,
    Tee,
    answer_digest,
    answers_alike,
    result_digest,
    rows_digest,
    rows_seen,
    written_in,
)

logger = logging.getLogger(__name__)
REPLAYS = Kept(512)  # per process; the least recently used go first
_local = threading.local()
# Statements that read but also lock or change something: never replayed.
_NOT_A_READ = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|\b(?:nextval|setval|pg_advisory\w*)\s*\(",
    re.IGNORECASE,
)


# What the page holds of the session or the response must be the stand-ins only, even when
# the token or nonce was made before the page (then Django's flags, compared in _recorded,
# cannot tell).
_ANY_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')
_ANY_NONCE = re.compile(r'\bnonce="([^"]*)"')


@dataclass
class Page:
    """What a view's builder gives: the template and its context, the status, and what
    every serve of this page must do (`after`: callables given the request)."""

    template: str
    context: dict
    after: tuple[Callable, ...] = ()
    status: int = 200


@dataclass
class _Entry:
    html: str
    status: int
    after: tuple[Callable, ...]
    reads: list[tuple]  # (alias, sql, params, how digested: ROWS or RAW, the digest)
    tokens: list[tuple]  # (keys, tokens) of aid_alliance.generations
    minute: int  # the clock's minute it was built in: served in that minute only
    # The reads as one statement, when they could be (PostgreSQL): (alias, sql, params,
    # this process's digest of its answer, PostgreSQL's digest of it). See _read_together.
    together: tuple | None = None
    served: kept_pages.Html = field(init=False, repr=False)  # the html as it is served
    # The statement of _with_after, made once: (what it was made for, its text as bytes).
    with_after: tuple | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.served = kept_pages.Html(self.html)

    @property
    def statements(self) -> int:
        """How many statements a serve runs to compare its reads."""
        return 1 if self.together is not None else len(self.reads)


@dataclass
class _Record:
    reads: list[tuple] = field(default_factory=list)
    tokens: list[tuple] = field(default_factory=list)
    refused: str = ""

    def refuse(self, why: str) -> None:
        self.refused = self.refused or why


def refuse(why: str) -> None:
    """The page being built now is not to be kept (what it shows was read in a way that its
    reads do not stand for: figures from a replica behind the primary)."""
    record = getattr(_local, "record", None)
    if record is not None:
        record.refuse(why)


@contextmanager
def not_recorded():
    """Reads that fill a cache kept under a version the page's record already holds (the
    directory's generation or fingerprint, organizations.directory_cache): the version
    stands for them, so they are not run again on each serve."""
    paused, _local.paused = getattr(_local, "paused", False), True
    try:
        yield
    finally:
        _local.paused = paused


@contextmanager
def planned_for_its_values():
    """Reads whose plan depends on their values, replayed as their text with the values
    written in, each as the type it is bound as.

    A name search's pattern is such a value: PostgreSQL never settles on one plan for
    `name LIKE $1` and plans the prepared statement again for each execution (a custom
    plan). Its text with the pattern in is a statement of its own, which psycopg prepares
    once the connection has run it five times (settings.PG_OPTIONS), and PostgreSQL then
    runs on the plan made for that pattern, without planning again. Measured at 100,000
    applications, the search's statement: 1.42 ms a run planned each time, 0.34 ms prepared
    (issue 18). The page is built as always; only its replay runs the text.

    Each value is written in as the type psycopg binds it as: a number written in bare
    would mean another thing (psycopg binds a float as float8 and a small int as int2, where
    0.3 written in is numeric and 2 is int4, and `ORDER BY $1` sorts by a constant where
    `ORDER BY 2` sorts by the second column), so `(0.3)::float8` and `(2)::int2`. Text and
    NULL go untyped, bound or written in. The text is run once when the page is recorded,
    and replayed only if it answered the same bytes as the bound statement; a value whose
    type cannot be told, or a text that errs or answers otherwise, keeps the statement
    bound, replayed as every other read."""
    outer, _local.with_values = getattr(_local, "with_values", False), True
    try:
        yield
    finally:
        _local.with_values = outer


class _Recorder:
    def __init__(self, record: _Record, alias: str):
        self.record, self.alias = record, alias

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if self.record.refused or getattr(_local, "paused", False):
            return result
        if many or sql.lstrip()[:6].upper() != "SELECT" or _NOT_A_READ.search(sql):
            self.record.refuse(f"not a plain read: {sql[:60]}")
            return result
        rows = rows_seen(context["connection"], context, sql, params)
        if rows is None:
            self.record.refuse(f"rows not comparable: {sql[:60]}")
        else:
            params = tuple(params) if isinstance(params, list) else params
            if isinstance(rows, bytes) and getattr(_local, "with_values", False):
                connection = context["connection"]
                written = written_in(connection, sql, params)
                if written is not None and answers_alike(connection, written, rows):
                    sql, params = written, None
            self.record.reads.append((self.alias, sql, params, rows))
        return result

    @staticmethod
    def digests(record: _Record) -> list[tuple] | None:
        """The reads with how their answers are digested and the digest, or None when some
        rows were not all fetched or cannot be compared."""
        reads = []
        for alias, sql, params, seen in record.reads:
            if isinstance(seen, bytes):
                reads.append((alias, sql, params, RAW, seen))
                continue
            rows = seen.rows if isinstance(seen, Tee) else seen
            found = None if rows is None else rows_digest(rows)
            if found is None:
                return None
            reads.append((alias, sql, params, ROWS, found))
        return reads


@contextmanager
def _recording(record: _Record):
    outer, _local.record = getattr(_local, "record", None), record
    try:
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(_Recorder(record, alias)))
            record.tokens = stack.enter_context(generations.noted())
            yield
    finally:
        _local.record = outer


# _answers_the_same: the reads answer the same, and the page's `after` ran with them.
AFTER_RAN = "after ran"


def _answers_the_same(entry: _Entry, request=None) -> bool | str:
    """Whether the reads answer the same: False, True, or AFTER_RAN when the page's `after`
    was done in the same statement (_answers_the_same_with_after)."""
    for keys, tokens in entry.tokens:
        if generations.current(*keys) != tokens:
            return False
    if entry.together is not None:
        with_after = None if request is None else _with_after(entry, request)
        if with_after is not None:
            return AFTER_RAN if _answers_the_same_with_after(*with_after) else False
        return _answers_the_same_together(entry.together)
    if PIPELINE and all(connections[a].vendor == "postgresql" for a, *_ in entry.reads):
        return _answers_the_same_pipelined(entry.reads)
    cursors = {}
    try:
        for alias, sql, params, kind, found in entry.reads:
            cursor = cursors.get(alias) or cursors.setdefault(alias, connections[alias].cursor())
            cursor.execute(sql, params)
            if answer_digest(cursor, kind) != found:
                return False
    finally:
        for cursor in cursors.values():
            cursor.close()
    return True


# PostgreSQL answers the statements in one round trip (A/B at 100,000, CPU ms a request:
# application 3.86 -> 3.30, inbox 4.38 -> 3.98, edit 3.96 -> 3.46; wall about 1 ms less).
PIPELINE = True


def _answers_the_same_pipelined(reads) -> bool:
    """PostgreSQL: every statement sent at once (psycopg's pipeline mode), then every
    answer read: one round trip instead of one a statement."""
    by_alias: dict[str, list] = {}
    for alias, sql, params, kind, found in reads:
        by_alias.setdefault(alias, []).append((sql, params, kind, found))
    for alias, statements in by_alias.items():
        connection = connections[alias]
        # No health check first (Django's SELECT 1, a round trip of its own): a connection
        # that fails here raises, and the page is built live on a new one (_still_the_same).
        # Answered, the connection is as good as checked for the rest of the request.
        connection.ensure_connection()
        raw = connection.connection
        cursors = []
        with connection.wrap_database_errors:
            try:
                with raw.pipeline():
                    for sql, params, _kind, _found in statements:
                        cursors.append(raw.cursor())
                        cursors[-1].execute(sql, params)
                if connection.queries_logged:  # as Django's debug cursor logs them
                    connection.queries_log.extend(
                        {"sql": sql, "time": "0.000"} for sql, *_ in statements
                    )
                connection.health_check_done = True
                for cursor, (_sql, _params, kind, found) in zip(cursors, statements, strict=True):
                    if answer_digest(cursor, kind) != found:
                        return False
            finally:
                for cursor in cursors:
                    cursor.close()
    return True


# The reads of a page as one statement (issue 18). Measured at 100,000 applications, one
# process, a serve's comparison of its reads (CPU ms of the process / of its PostgreSQL
# backend), pipelined -> together: inbox 0.30 / 0.38 -> 0.10 / 0.46, application page
# 0.52 / 0.37 -> 0.17 / 0.46, edit page 0.46 / 0.24 -> 0.12 / 0.20.
TOGETHER = True


def _read_together(reads) -> tuple | None:
    """The page's reads as one statement, each a column of it: `SELECT (SELECT
    array_agg(t) FROM (<read>) AS t), ...`. A serve then sends one statement and reads one
    answer, where the pipeline sends each read, reads each answer and digests each one: most
    of the Python a served-again page spends on its reads. Its answer is digested as a
    read's is (result_digest): each column holds every row of its read, in the read's order,
    with every value, NULL apart from empty, and no read at all (NULL) apart from a row of
    NULLs; an answer that differs in any row, value or order differs. A read whose order is
    not fixed may answer in another order: then the page is built live, as now.

    Its digest is taken once, when the page is recorded: in one snapshot (REPEATABLE READ),
    every read is run again and must answer what the page was built from, and the statement
    is run in the same snapshot, so its digest stands for the rows the page shows and for no
    others. Inside a transaction of the caller's (the tests'; pages are built outside one:
    ATOMIC_REQUESTS is off) they run in it, at its isolation: at READ COMMITTED a commit
    between the reads and the statement could make the digest stand for rows committed
    after the page was built. None (the reads are compared one by one, pipelined) when they
    cannot be one statement: not all of PostgreSQL, on more than one database, with values
    not in a list, a read keeping rows in no fixed order (_rows_cut_in_no_order), or when a
    read answers otherwise now or the statement errs. A read whose rows a server-side cursor
    gave (a form's choices: Django's ModelChoiceIterator) is compared here as its rows were,
    and then answers in the statement like any other."""
    if not TOGETHER or not reads or len({alias for alias, *_ in reads}) != 1:
        return None
    alias = reads[0][0]
    connection = connections[alias]
    if connection.vendor != "postgresql" or any(
        not (params is None or isinstance(params, tuple | list))
        for _alias, _sql, params, *_ in reads
    ):
        return None
    bound = any(params is not None for _alias, _sql, params, *_ in reads)
    parts, values = [], []
    for _alias, sql, params, _kind, _found in reads:
        if params is None:  # its text is sent as it is; among placeholders, % is written %%
            sql = sql.replace("%", "%%") if bound else sql
        else:
            values.extend(params)
        parts.append(f"(SELECT array_agg(t) FROM ({sql}) AS t)")  # noqa: S608 - the page's own recorded reads
    together = "SELECT " + ", ".join(parts)
    values = tuple(values) if bound else None
    if values is not None:
        try:  # with PostgreSQL's own placeholders, sent as it is (_one_statement)
            together = _numbered(together, [], values)
        except ValueError:  # a placeholder psycopg would not take
            return None
    digests = _together_digest(connection, reads, together, values)
    return None if digests is None else (alias, together, values, *digests)


_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_LIMIT = re.compile(r"\b(?:LIMIT|OFFSET|FETCH)\b", re.IGNORECASE)
_LIMIT_AT_THE_END = re.compile(r"\bLIMIT\s+(\d+)\s*$", re.IGNORECASE)
_INNERMOST = re.compile(r"\([^()]*\)")


def _rows_cut_in_no_order(sql: str, rows: int) -> bool:
    """Whether a read that gave `rows` rows may have kept some of more rows in no fixed
    order (a LIMIT or OFFSET of the statement itself, not of a subquery, without its ORDER
    BY): which ones it keeps may differ between its own plan and its plan inside the
    statement, whose digest would then stand for rows the page does not show. Such reads
    are compared apart. A LIMIT written in at the end that the read did not reach cut
    nothing (Django's get(): LIMIT 21, one row). Not seen here: a subquery's LIMIT (the
    pages' are existence checks or ordered) and ties in an order (the pages' reads order by
    a unique key last); an entry is served in the minute it was built in only."""
    outer = sql
    while (inner := _INNERMOST.sub(" ", outer)) != outer:  # subqueries and lists taken out
        outer = inner
    if not _LIMIT.search(outer) or _ORDER_BY.search(outer):
        return False
    limit = _LIMIT_AT_THE_END.search(outer)
    return limit is None or len(_LIMIT.findall(outer)) > 1 or rows >= int(limit[1])


def _together_digest(connection, reads, together: str, values) -> tuple[bytes, bytes] | None:
    """The digests of `together`'s answer (with PostgreSQL's placeholders) in a snapshot
    where every read answers as it was recorded: as this process takes it (result_digest)
    and as PostgreSQL takes it (_DIGESTED_THERE); None when a read does not answer as
    recorded, or on an error (a savepoint or its own transaction around it: the connection
    is left as it was)."""
    import psycopg

    raw = connection.connection
    try:
        with raw.transaction(), raw.cursor() as cursor, psycopg.RawCursor(raw) as numbered:
            if not connection.in_atomic_block:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for _alias, sql, params, kind, found in reads:
                cursor.execute(sql, params)
                if cursor.pgresult is None or answer_digest(cursor, kind) != found:
                    return None
                if _rows_cut_in_no_order(sql, cursor.pgresult.ntuples):
                    return None
            numbered.execute(together, values)
            if numbered.pgresult is None:
                return None
            here = result_digest(numbered.pgresult)
            numbered.execute(_DIGESTED_THERE.format(together=together), values)
            return here, numbered.fetchone()[0]
    except psycopg.Error:
        logger.debug("reads not run together", exc_info=True)
        return None


# The together statement's answer digested by PostgreSQL: its row as PostgreSQL sends it
# in binary (record_send: each column's type, length and bytes, -1 for NULL; arrays of the
# reads' rows, each value as its type's send function gives it), hashed. Taken at recording
# and compared by _with_after's statement. Binary, not the row's text: writing every value
# out as text was half of the application page's statement (at 100,000 applications, 170
# of its 340 µs of PostgreSQL's CPU; binary, 243 µs: issue 18). A value's binary form is as
# exact as its text (a numeric's scale, a float's bits), and it does not depend on the
# session's time zone or interval style; text values are sent in the client's encoding,
# the same for every connection here. A type without a binary form makes the statement err
# at recording, and the reads are then compared one by one.
_ANSWER_DIGEST = "sha256(record_send(answer))"
_DIGESTED_THERE = f"SELECT {_ANSWER_DIGEST} FROM ({{together}}) AS answer"  # noqa: S608 - constant


def _with_after(entry: _Entry, request) -> tuple | None:
    """The reads together and the page's `after` as one statement, for this request:
    (alias, sql, params), or None when an `after` cannot be written into it.

    An `after` that can (the access record: cases.audit.on_each_serve) gives its write as
    SQL with a condition put in (`with_the_reads(request, alias, when)`). The statement is

        WITH answer AS MATERIALIZED (<the reads together>),
             same AS (SELECT sha256(<answer in binary>) = <as recorded> AS same FROM answer),
             after_1 AS (INSERT ... WHERE (SELECT same FROM same)), ...
        SELECT same FROM same

    PostgreSQL compares, and writes the access record only when the reads answer as the
    page was built, in the same statement: one round trip and one commit instead of two,
    and a view is recorded only when the page it records is the one served (issue 18)."""
    alias, together, values, _digest, digested_there = entry.together
    afters = []
    for after in entry.after:
        make = getattr(after, "with_the_reads", None)
        made = None if make is None else make(request, alias=alias, when="(SELECT same FROM same)")
        if made is None:
            return None
        afters.extend(made)
    if not afters:  # nothing to write: the reads together, compared here
        return None
    # PostgreSQL's own placeholders ($1, ...), sent as they are (psycopg's RawCursor): the
    # reads' text, thousands of characters, is not scanned for psycopg's on every serve. The
    # values stay bound, so the text is one for every page of the view (every application,
    # every reader) and the connection prepares it once.
    params = [*(values or ()), digested_there]
    # The text is the same on every serve of the entry while the afters' SQL and their
    # number of values are: made once, as bytes (psycopg then neither encodes it nor hashes
    # it again to find its prepared statement). Only the values change (the record's time).
    made_for = tuple((sql, len(after_params)) for sql, after_params in afters)
    made = entry.with_after
    if made is not None and made[0] == made_for:
        for _sql, after_params in afters:
            params.extend(after_params)
        return alias, made[1], params
    try:
        parts = [
            f"answer AS MATERIALIZED ({together})",
            f"same AS (SELECT {_ANSWER_DIGEST} = ${len(params)} AS same FROM answer)",  # noqa: S608 - constant
            *(
                f"after_{number} AS ({_numbered(sql, params, after_params)})"
                for number, (sql, after_params) in enumerate(afters)
            ),
        ]
    except ValueError:  # a placeholder psycopg would not take: the reads and after apart
        return None
    statement = "WITH " + ", ".join(parts) + " SELECT same FROM same"  # noqa: S608 - recorded reads, the afters' own SQL
    made = entry.with_after = (made_for, statement.encode())
    return alias, made[1], params


def _numbered(sql: str, params: list, values) -> str:
    """`sql`, written with psycopg's placeholders (%s, and %% for %), with PostgreSQL's
    numbered ones instead, continuing after `params`; its `values` added to `params`."""
    values = list(values)
    if PLACEHOLDER.findall(sql).count("%s") != len(values):
        raise ValueError("one value for each placeholder")
    start = len(params)
    params.extend(values)
    numbers = iter(range(start + 1, len(params) + 1))
    return PLACEHOLDER.sub(lambda found: "%" if found[0] == "%%" else f"${next(numbers)}", sql)


@contextmanager
def _one_statement(alias: str, sql: str | bytes, params):
    """A cursor that has run `sql`, written with PostgreSQL's placeholders ($1, ...) and
    sent as it is (psycopg's RawCursor), as the pipeline runs its statements: no health
    check first (a connection the server ended fails here, and the page is built live on a
    new one: _still_the_same), logged as Django's debug cursor logs."""
    import psycopg

    connection = connections[alias]
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        if connection.queries_logged:
            text = sql.decode() if isinstance(sql, bytes) else sql
            connection.queries_log.append({"sql": text, "time": "0.000"})
        connection.health_check_done = True
        yield cursor


def _answers_the_same_with_after(alias: str, sql: str | bytes, params) -> bool:
    """The statement of _with_after: True when the reads answered the same (and the
    `after` wrote), False when not (and nothing was written)."""
    with _one_statement(alias, sql, params) as cursor:
        row = cursor.fetchone()
        return bool(row and row[0])


def _answers_the_same_together(together: tuple) -> bool:
    """One statement for all the reads (_read_together)."""
    alias, sql, params, found, _digested_there = together
    with _one_statement(alias, sql, params) as cursor:
        return cursor.pgresult is not None and result_digest(cursor.pgresult) == found


def _fields(instance) -> tuple:
    return tuple(
        (f.attname, getattr(instance, f.attname, None)) for f in instance._meta.concrete_fields
    )


def reader_fields(user) -> tuple:
    """Every field of the reader and of the objects loaded with them (their member)."""
    if not user.is_authenticated:
        return ("anonymous",)
    wrapped = getattr(user, "_wrapped", empty)  # request.user is a lazy object: unwrapped,
    user = user if wrapped is empty else wrapped  # its fields are read at a plain speed
    loaded = getattr(user._state, "fields_cache", {})
    return (
        _fields(user),
        tuple(
            (name, _fields(value) if hasattr(value, "_meta") else value)
            for name, value in sorted(loaded.items())
        ),
    )


def _key(request, inputs) -> bytes:
    return kept.digest(
        (
            inputs,
            request.get_full_path(),
            request.get_host(),
            request.is_secure(),
            sorted((k, v) for k, v in request.headers.items() if k.lower().startswith("hx-")),
            reader_fields(request.user),
            reader(request.user),
            sorted(navigation(request).items()),
            kept.surroundings(),
            get_nonce(request) is None,
        )
    )


def page(request, build: Callable[[], Page | HttpResponse], *, inputs) -> HttpResponse:
    """The page `build()` makes, served again while its reads answer the same.

    `build` does what the view does before rendering: the access check and every read. It
    returns a Page, or any other response (a redirect) which is passed through. `inputs`:
    what names the page besides the request (the view and its arguments)."""
    if request.method != "GET" or kept_pages.messages_waiting(request):
        return _live(request, build)
    key, minute = _key(request, inputs), int(time.time() // 60)
    entry = REPLAYS.get(key)
    same = entry is not None and entry.minute == minute and _still_the_same(entry, request)
    if not same:
        REPLAYS.discard(key)  # never served again: not kept in memory either
        entry = _recorded(request, build, key, minute)
        if not isinstance(entry, _Entry):
            return entry  # not the page (a redirect), or a page shown live
    if same != AFTER_RAN:
        for after in entry.after:
            after(request)
    return kept_pages.serve(request, entry.served, status=entry.status)


def _still_the_same(entry: _Entry, request=None) -> bool | str:
    """Whether the reads answer the same (_answers_the_same); an error in them (a connection
    lost, a timeout) is an answer that differs: the page is built live, on a connection made
    anew."""
    try:
        return _answers_the_same(entry, request)
    except DatabaseError:
        for alias in {alias for alias, *_ in entry.reads}:
            connection = connections[alias]
            if connection.in_atomic_block:
                raise  # the transaction is broken: nothing more can be read in it
            connection.close()
        logger.warning("replay failed; page built live", exc_info=True)
        return False


def _recorded(request, build, key, minute) -> _Entry | HttpResponse:
    """The page built live while its reads are recorded; kept when nothing refuses it."""
    record = _Record()
    # The directory's state is read once per request (directory_cache.state_of): read by
    # the page, so that it is recorded, not taken from before it.
    request.__dict__.pop("_directory_state", None)
    default = connections["default"]
    if default.vendor not in ("postgresql", "sqlite"):
        record.refuse("database")
    session = dict(request.session.items()) if hasattr(request, "session") else None
    csrf_before = request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    nonce_before = bool(get_nonce(request))
    # On SQLite the recorder reads each statement's rows again: in one transaction, they are
    # the rows the view got. On PostgreSQL it reads the view's own rows (no transaction).
    in_one = default.vendor == "sqlite" and not default.in_atomic_block
    with transaction.atomic() if in_one else nullcontext(), _recording(record):
        made = build()
        if not isinstance(made, Page):
            return made
        html = kept_pages.build(request, made.template, made.context)
    if session is not None and dict(request.session.items()) != session:
        record.refuse("session changed")
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") != csrf_before:
        record.refuse("CSRF token asked for")
    if bool(get_nonce(request)) != nonce_before:  # True once made (django.utils.csp)
        record.refuse("CSP nonce asked for")
    if kept_pages.messages_waiting(request):  # shown now, on the page built live
        for after in made.after:
            after(request)
        return render_live(request, made.template, made.context, status=made.status)
    if set(_ANY_TOKEN.findall(html)) - {kept_pages._TOKEN}:
        record.refuse("a token of this session in the page")  # a part rendered apart
    if set(_ANY_NONCE.findall(html)) - {kept_pages._NONCE}:
        record.refuse("a nonce of this response in the page")
    reads = _Recorder.digests(record)
    if reads is None:
        record.refuse("rows not all fetched or not comparable")
    entry = _Entry(html, made.status, made.after, reads or [], record.tokens, minute)
    if record.refused:
        logger.debug("%s not kept: %s", request.path, record.refused)
    else:
        entry.together = _read_together(entry.reads)
        REPLAYS.put(key, entry)
    # An entry of an earlier minute is never served again: none stays in memory, holding a
    # child's data, once a later one is built (entries are used in the minute they are made,
    # so the least recently used are the oldest).
    REPLAYS.drop_oldest_while(lambda kept_entry: kept_entry.minute < minute)
    return entry


def _live(request, build) -> HttpResponse:
    made = build()
    if not isinstance(made, Page):
        return made
    response = render_live(request, made.template, made.context, status=made.status)
    for after in made.after:
        after(request)
    return response
