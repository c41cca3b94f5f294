"""How a recorded read's answer is taken and digested, for aid_alliance.replayed_pages
(issue 18): PostgreSQL's answer as its bytes, other rows pickled; the rows a server-side
cursor gives its caller, kept as they are fetched; a read's text with its values written
in, for the reads whose plan depends on them (replayed_pages.planned_for_its_values).
"""

from __future__ import annotations

import pickle
import re
from contextlib import nullcontext

from aid_alliance import kept


def rows_digest(rows) -> bytes | None:
    """The rows' digest; None for rows that cannot be pickled (not compared, not kept)."""
    try:
        return kept.pickled_digest(rows)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


# How a read's answer is digested: its rows as Python values, pickled (SQLite, and the rows
# a server-side cursor gave its caller), or the bytes PostgreSQL sent (RAW).
ROWS, RAW = "rows", "raw"


def result_digest(pgresult) -> bytes:
    """PostgreSQL's answer as it came, every value's bytes (None for NULL), row by row: no
    value made into a Python object and no pickling of objects. Making the inbox's rows into
    datetimes and decimals and pickling them was a sixth of its served-again page (issue
    18). The same statement on the same connection settings gives the same bytes for the
    same rows, and different bytes for different ones."""
    get, fields = pgresult.get_value, range(pgresult.nfields)
    values = [get(row, field) for row in range(pgresult.ntuples) for field in fields]
    return kept.pickled_digest((pgresult.nfields, pgresult.ntuples, values))


PLACEHOLDER = re.compile(r"%%|%s")


def written_in(connection, sql: str, params) -> str | None:
    """The statement with its values written in, each cast to the type psycopg binds it as
    (none for what it sends untyped: text, NULL), so that it means what the bound statement
    means; None when that cannot be told (see planned_for_its_values)."""
    if connection.vendor != "postgresql" or not isinstance(params, tuple | list):
        return None
    placeholders = PLACEHOLDER.findall(sql)
    if "%" in PLACEHOLDER.sub("", sql) or placeholders.count("%s") != len(params):
        return None  # a placeholder Django does not write, or not one value each
    import psycopg
    from psycopg.adapt import PyFormat, Transformer

    raw = connection.connection
    binding = Transformer(raw)
    casts = []
    for value in params:
        try:
            oid = 0 if value is None else binding.get_dumper(value, PyFormat.AUTO).oid
        except (psycopg.ProgrammingError, TypeError, ValueError):
            return None
        info = raw.adapters.types.get(oid) if oid else None
        if oid and (info is None or oid not in (info.oid, info.array_oid)):
            return None
        casts.append("" if not oid else f"::{info.name}" + ("[]" if oid == info.array_oid else ""))
    cast = iter(casts)
    typed = PLACEHOLDER.sub(
        lambda found: found[0] if found[0] == "%%" else f"(%s){next(cast)}", sql
    )
    return connection.ops.compose_sql(typed, params)


def answers_alike(connection, written: str, digest: bytes) -> bool:
    """Whether the written-in statement runs and answers what the bound one just did (a
    savepoint around it inside a transaction: an error leaves the page's reads as they
    were). Run once, when the page is recorded."""
    import psycopg

    raw = connection.connection
    try:
        with raw.transaction() if connection.in_atomic_block else nullcontext():
            with raw.cursor() as cursor:
                cursor.execute(written)
                return cursor.pgresult is not None and result_digest(cursor.pgresult) == digest
    except psycopg.Error:
        return False


def rows_seen(connection, context, sql, params):
    """What the statement just run answers, without taking it from its caller: the digest
    of PostgreSQL's answer (bytes), a list of rows, or a Tee that collects the rows as the
    caller fetches them (a server-side cursor)."""
    raw = context["cursor"].cursor
    if connection.vendor == "postgresql":
        import psycopg

        if isinstance(raw, psycopg.ServerCursor):  # a queryset's iterator(): read as it goes
            context["cursor"].cursor = tee = Tee(raw)
            return tee
        # The whole answer is in the client cursor's result: read there, not fetched.
        return result_digest(raw.pgresult) if raw.pgresult is not None else None
    if connection.vendor == "sqlite":
        # The same statement again in the same transaction (the build runs in one): the
        # same snapshot, so the same rows.
        from django.db.backends.sqlite3.base import SQLiteCursorWrapper

        again = connection.connection.cursor(factory=SQLiteCursorWrapper)
        try:
            again.execute(sql, params)
            return again.fetchall()
        finally:
            again.close()
    return None


class Tee:
    """A server-side cursor whose rows are kept as its caller fetches them; `rows` is None
    until the caller has fetched the last one."""

    def __init__(self, raw):
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_seen", [])
        object.__setattr__(self, "rows", None)
        object.__setattr__(self, "_skipped", False)

    def _took(self, rows, last: bool):
        self._seen.extend(rows)
        if last and not self._skipped:
            object.__setattr__(self, "rows", self._seen)
        return rows

    def scroll(self, *args, **kwargs):  # rows skipped or read twice: not all the rows once
        object.__setattr__(self, "_skipped", True)
        object.__setattr__(self, "rows", None)
        return self._raw.scroll(*args, **kwargs)

    def fetchmany(self, size=0):
        rows = self._raw.fetchmany(size) if size else self._raw.fetchmany()
        return self._took(rows, not rows)

    def fetchall(self):
        return self._took(self._raw.fetchall(), True)

    def fetchone(self):
        row = self._raw.fetchone()
        self._took([] if row is None else [row], row is None)
        return row

    def __iter__(self):
        while rows := self.fetchmany(self._raw.itersize):
            yield from rows

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __setattr__(self, name, value):
        setattr(self._raw, name, value)


def answer_digest(cursor, kind: str) -> bytes | None:
    """The digest of what a replayed statement answers, the way its record was digested
    (None, which differs from every digest, when there is no result). `cursor`: Django's
    cursor (its errors are Django's) or, in the pipeline, psycopg's."""
    if kind == RAW:
        raw = getattr(cursor, "cursor", cursor)
        return None if raw.pgresult is None else result_digest(raw.pgresult)
    return rows_digest(cursor.fetchall())
