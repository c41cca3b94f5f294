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


# --- read with the session (aid_alliance.session_store) ---------------------------------------
# A signed-in staff page read Redis three times before its own work: the session, the user
# with its two generations (organizations.auth_backends), then the directory's generation
# (organizations.directory_cache). Those keys are known, or guessed, before the session is
# read, so the session store reads them with it, in one round trip, and keeps them for the
# rest of the request in this thread: `get_many` answers from them, and reads the cache only
# for what was not read with the session. Read earlier in the request, a generation is
# still read before the data cached under it; a new generation made in this thread (renew)
# forgets what was read with the session, and so does the end of the request.

_ABSENT = object()
_WITH_THE_SESSION: list = []


def read_with_the_session(keys_for) -> None:
    """Register `keys_for(user_id)`, the keys a request of that user (None: no user) reads
    from the cache on most pages: they are read with the session (AppConfig.ready)."""
    _WITH_THE_SESSION.append(keys_for)


def keys_with_the_session(user_id) -> list[str]:
    return [key for keys_for in _WITH_THE_SESSION for key in keys_for(user_id)]


def read_with(found: dict, asked) -> None:
    """What the session store read with the session (`asked`, the keys; `found`, those the
    cache had), kept for this request in this thread."""
    _local.with_session = {key: found.get(key, _ABSENT) for key in asked}


def forget_what_was_read_with_the_session(**_kwargs) -> None:
    """At the start and end of each request (request_started, request_finished), at each
    session load before it reads, and on every new generation."""
    _local.with_session = None


def forget_read_with_the_session(key: str) -> None:
    """This key is read from the cache again when next asked for (a value to be had afresh
    each time: a cached user's copy, unpickled anew for each reader)."""
    kept = getattr(_local, "with_session", None)
    if kept is not None:
        kept.pop(key, None)


def get_many(keys) -> dict:
    """cache.get_many, answered from what was read with the session when it read every
    one of `keys` (those the cache did not have are absent here too)."""
    kept = getattr(_local, "with_session", None)
    if kept is not None and all(key in kept for key in keys):
        return {key: kept[key] for key in keys if kept[key] is not _ABSENT}
    return cache.get_many(keys)


def current(*keys: str) -> tuple[str, ...]:
    """The keys' tokens, each made when missing (one read when they are all there)."""
    found = get_many(keys)
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
    forget_what_was_read_with_the_session()
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
