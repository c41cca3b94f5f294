"""The report's figures cached by a generation (issue 18: the dashboard at national scale).

One query of the kept figures is the dashboard's whole cost at 100,000 applications, and
its answer changes only when a service changes what an application adds to the figures
(`reports.aggregates.refresh`), when the aggregates are rebuilt, or when the directory
(members, projects, categories: the breakdowns' rows and names) changes. Each of those
sets a new generation when its transaction commits (`changed`); what is built from the
figures is cached under the generation it was read under, with the active language, so
the next request after a change reads the figures again.

The rules that keep it exact:
- The generation is read *before* the figures: a read that races a change is stored under
  the old generation, which that change's commit retires.
- A new generation only after the commit (transaction.on_commit): never a write inside the
  services' transactions (with the database cache that would be one row every submission
  waits for), and a change rolled back retires nothing.
- A generation is a random token, not a counter: a generation lost with the cache (Redis
  emptied, evicted) starts a new one, never an old one again.
- With a streaming replica the figures are read there (aid_alliance.routing): after the
  generation is read, the primary's current WAL position is read, and what is read on a
  replica that has not yet replayed that far is served but not stored. Every change whose
  commit retired an older generation committed before the generation was read, so before
  that position (a position carried in the generation itself, as first built, could be
  overwritten by an older one set later, or lost with the cache: the review of issue 18).
- A process that dies between its commit and the new generation, or a change made outside
  the services (SQL by hand), is bounded by FIGURES_SECONDS: every entry expires. The
  dashboard served again (aid_alliance.replayed_pages) compares the generation only and
  holds a page for the minute it was built in: up to a minute more.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import translation

from aid_alliance import generations, replayed_pages
from aid_alliance.routing import REPLICA, replica_configured

GENERATION_KEY = "reports-figures:generation"
# What is cached expires after this long whatever the generation: the bound on how stale a
# figure can be after a change the generation missed (see above). A cold read of the kept
# figures is cheap enough (docs: README, issue 18) to redo every few minutes.
FIGURES_SECONDS = 5 * 60
# Part of every key: a deployment that changes what is cached (the Figures class, the
# dashboard's fragment) changes it, so that no older shape is read back.
LAYOUT = "1"
_building: ContextVar[str] = ContextVar("reports_figures_building", default="")


def changed(using: str = DEFAULT_DB_ALIAS) -> None:
    """The figures change with this transaction: a new generation when it commits (at once
    outside a transaction)."""
    # Whatever the cache says, the change is committed; FIGURES_SECONDS bounds it.
    generations.renew_at_commit(GENERATION_KEY, using=using)


def directory_changed(sender=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_save / post_delete of a member, a project or a disease category."""
    changed(using)


def generation() -> str:
    """The current generation, made when there is none."""
    return generations.current(GENERATION_KEY)[0]


def _replica_has(current: str) -> bool:
    """Whether the reads of the figures see every change up to this generation (read
    before this call): the replica has replayed the primary's WAL as far as it is now."""
    if not replica_configured():
        return True
    primary, replica = connections[DEFAULT_DB_ALIAS], connections[REPLICA]
    if primary.vendor != "postgresql" or replica.vendor != "postgresql":
        return True
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        position = cursor.fetchone()[0]
    with replica.cursor() as cursor:
        # NULL on a primary (tests mirror it): it has everything.
        cursor.execute("SELECT COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, TRUE)", [position])
        return bool(cursor.fetchone()[0])


def cached[T](name: str, parts: tuple, build: Callable[[], T]) -> T:
    """What `build` returns for the current generation, these parts (a period's code, ...)
    and the active language, built when not cached yet."""
    # Before build(): see the module's note. What a build caches in turn (the dashboard's
    # fragment its figures) is of the generation read for it: one read, not two.
    current = _building.get() or generation()
    language = translation.get_language() or ""
    key = ":".join(("reports-figures", LAYOUT, name, current, *map(str, parts), language))
    value = cache.get(key)
    if value is None:
        # A page served again while its reads answer the same (the dashboard, aid_alliance.
        # replayed_pages) does not read the figures again each time: the generation, noted
        # with its reads, stands for them.
        with replayed_pages.not_recorded():
            fresh = _replica_has(current)
            token = _building.set(current)
            try:
                value = build()
            finally:
                _building.reset(token)
        if fresh:
            cache.set(key, value, FIGURES_SECONDS)
        else:  # served, not stored; nor is a page made of them kept
            replayed_pages.refuse("figures read on a replica behind the primary")
    return value
