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
STAND_IN = -1_999_999_973


class CompiledRead:
    """`build(key)` gives the read as a values_list() queryset whose only parameter that
    varies is `key`, given once (an exact lookup, not an `__in` list)."""

    def __init__(self, model: type[Model], build: Callable[[int], QuerySet]):
        self._model = model
        self._build = build
        # Per thread, as Django's connections are: the compiler, kept for its converters,
        # refers to the connection it compiled for, which is then never another thread's
        # (nor kept alive after its thread). A sync worker compiles once.
        self._per_thread = threading.local()

    def rows(self, key: int) -> list[tuple]:
        alias = router.db_for_read(self._model)
        compiled = getattr(self._per_thread, alias, None) or self._compile(alias)
        compiler, sql, params, position = compiled
        params = [*params]
        params[position] = key
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compile(self, alias: str) -> tuple:
        compiler = self._build(STAND_IN).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if list(params).count(STAND_IN) != 1:
            name = self._model.__name__
            raise ValueError(f"{name}: the key must be the read's one varying parameter")
        compiled = (compiler, sql, tuple(params), list(params).index(STAND_IN))
        setattr(self._per_thread, alias, compiled)
        return compiled
