"""Reads for the reports go to the streaming replica, when there is one (DATABASE_REPLICA_URL).

A report reads a period's applications and reviews in full (standard.md §6): on the replica
those long reads leave the primary to the caseworkers. Only the functions marked with
`@reads_from_replica` read there, and only reads: a write inside one (an access record of an
export) still goes to the primary. The replica may lag the primary by a moment; a report's
figures are "as of the report's time" anyway, and nothing read there is written back.
Without a replica, or outside a marked function, the router has no opinion and Django uses
the primary.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads():
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def reads_from_replica(function):
    """Mark a read-only selector. A generator is read on the replica step by step, so that a
    streamed export (a CSV response, iterator() in chunks) keeps reading there, and nothing
    else running between two steps does."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def steps(*args, **kwargs) -> Iterator:
            with replica_reads():
                iterator = function(*args, **kwargs)
            while True:
                with replica_reads():
                    try:
                        item = next(iterator)
                    except StopIteration:
                        return
                yield item

        return steps

    @functools.wraps(function)
    def call(*args, **kwargs):
        with replica_reads():
            return function(*args, **kwargs)

    return call


class ReportReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_reports.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        # A standby refuses writes: an object read there is saved on the primary.
        instance = hints.get("instance")
        if instance is not None and instance._state.db == REPLICA:
            return DEFAULT_DB_ALIAS
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # The same rows on both: an object read on the replica may point at one of the primary.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's tables through streaming replication.
        return db != REPLICA
