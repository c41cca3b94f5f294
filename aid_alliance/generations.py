"""Generations in Django's cache: a random token per key, replaced by every change of what
it stands for, so that what was cached under the old token is no longer read. Used for the
signed-in users (organizations.auth_backends), the directory (organizations.directory_cache)
and the report figures (reports.figures_cache).

A token, not a counter: a key lost with the cache (emptied, evicted) starts a new token,
never an old one again. A reader reads the token *before* the data it caches under it, so
that data read before a change is never kept under the token after it.
"""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction

_local = threading.local()


def current(*keys: str) -> tuple[str, ...]:
    """The keys' tokens, each made when missing (one read when they are all there)."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            token = uuid.uuid4().hex
            # Another process may have made it meanwhile: then its token counts.
            found[key] = token if cache.add(key, token, timeout=None) else cache.get(key, token)
    tokens = tuple(found[key] for key in keys)
    noted = getattr(_local, "noted", None)
    if noted is not None:
        noted.append((tuple(keys), tokens))
    return tokens


@contextmanager
def noted():
    """The generations read in this thread while inside, as (keys, tokens) pairs: what a
    page built meanwhile depends on (aid_alliance.replayed_pages)."""
    outer, _local.noted = getattr(_local, "noted", None), []
    try:
        yield _local.noted
    finally:
        _local.noted = outer


def renew(*keys: str) -> None:
    """New tokens for these keys, at once."""
    cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)


def renew_at_commit(*keys: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """New tokens when the current transaction commits (at once outside one); robust: the
    change is committed whatever the cache says."""
    transaction.on_commit(lambda: renew(*keys), using=using, robust=True)


def renew_now_and_at_commit(*keys: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """New tokens now, and again when the change commits: a reader that read the old rows
    before the commit does not keep them under the token either."""
    renew(*keys)
    renew_at_commit(*keys, using=using)
