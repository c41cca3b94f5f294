"""A hot read whose SQL is compiled once per process, not on every request (issue 18).

Django builds a queryset and compiles its SQL each time it is evaluated: for the short
reads of a page such as the family's status (one row by its key, a few joined columns),
that costs about five times the CPU of the round trip and of reading the rows. The SQL of
such a read is the same for every caller but for one parameter, the key: `CompiledRead`
compiles it once with a stand-in for the key and runs that SQL with each caller's key.

Only the statement is kept, never a row: each call reads the database afresh, so nothing
can be stale and nothing of one caller reaches another. The rows come back through the
compiler's own converters (decimals, dates and JSON on SQLite, JSON on PostgreSQL), as
`values_list()` would give them, and the statement runs through `connection.cursor()`,
so query logging and counting (`django_assert_num_queries`) see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections, router
from django.db.models import Model, QuerySet

# Negative: no row has it, so it cannot be mistaken for a real key. Within a 32-bit
# integer: Django turns a lookup beyond its field's range into "no rows" before the SQL.
# A read of several keys gets STAND_IN, STAND_IN - 1, ...: distinct, as an `__in` list's
# values must be (Django drops repeated ones).
STAND_IN = -1_999_999_973


def stand_ins(count: int) -> list[int]:
    return [STAND_IN - n for n in range(count)]


class CompiledRead:
    """`build(*keys)` gives the read as a values_list() queryset whose only parameters that
    vary are its `keys` (`size` of them), each given once: an exact lookup, or the values of
    an `__in` list of a fixed length (pad a shorter list with `padded()`)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], size: int = 1):
        self._model = model
        self._build = build
        self._size = size
        # Per thread, as Django's connections are: the compiler, kept for its converters,
        # refers to the connection it compiled for, which is then never another thread's
        # (nor kept alive after its thread). A sync worker compiles once.
        self._per_thread = threading.local()

    def rows(self, *keys: int) -> list[tuple]:
        if len(keys) != self._size:
            raise TypeError(f"{self._size} key(s) expected, {len(keys)} given")
        alias = router.db_for_read(self._model)
        compiled = getattr(self._per_thread, alias, None) or self._compile(alias)
        compiler, sql, params, positions = compiled
        params = [*params]
        for position, key in zip(positions, keys, strict=True):
            params[position] = key
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compile(self, alias: str) -> tuple:
        keys = stand_ins(self._size)
        compiler = self._build(*keys).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        if any(params.count(key) != 1 for key in keys):
            name = self._model.__name__
            raise ValueError(f"{name}: each key must be one varying parameter of the read")
        compiled = (compiler, sql, tuple(params), [params.index(key) for key in keys])
        setattr(self._per_thread, alias, compiled)
        return compiled


def padded(keys: list[int], size: int) -> list[int]:
    """`keys` (at most `size`, distinct, none negative) padded to `size` with keys that no
    row has, distinct from each other: the keys of a read of an `__in` list of `size`."""
    if len(keys) > size:
        raise ValueError(f"at most {size} keys, {len(keys)} given")
    # Beyond a smallint: psycopg 3 sends an int as the smallest type that holds it, and a
    # prepared statement is kept per types, so the pads match a large table's keys.
    return [*keys, *range(PAD, PAD - (size - len(keys)), -1)]


PAD = -1_000_000_000
