"""Django's cached_db sessions, read from the cache together with what the request will read
next (issue 18): the signed-in user's copy and its generations (organizations.auth_backends)
and the directory's generation (organizations.directory_cache), registered with
aid_alliance.generations.read_with_the_session. One round trip to Redis instead of three on
a staff page served again.

The user's keys need the user's id, which is in the session: this process remembers, for
each session it has read, whose it was, and reads that user's keys with it. A guess only:
the user is still the one the session names (django.contrib.auth reads it from the session,
then checks the session's hash against that user), and when the guess is not that user
their keys were not read, and are read as before. A session this process has not read yet
is read with the other keys only. The session keys are remembered by their digest.

Everything else is Django's cached_db store: the database stays the record, a session not
in the cache is read from it, and writes go to both.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import DEFAULT_CACHE_ALIAS

from aid_alliance import generations
from aid_alliance.kept import Kept

# Session (its digest) -> the user id it named when this process last read it.
_WHOSE = Kept(4096)


def _digest(session_key: str) -> bytes:
    return hashlib.blake2b(session_key.encode(), digest_size=16).digest()


class SessionStore(CachedDBStore):
    def load(self):
        generations.forget_what_was_read_with_the_session()
        # The keys registered are read from the default cache (aid_alliance.generations).
        if settings.SESSION_CACHE_ALIAS != DEFAULT_CACHE_ALIAS or not self.session_key:
            return super().load()
        whose = _WHOSE.get(_digest(self.session_key))
        with_it = generations.keys_with_the_session(whose)
        if not with_it:
            return super().load()
        session_key = self.cache_key
        try:
            found = self._cache.get_many([session_key, *with_it])
        except Exception:  # as Django's: an invalid key or a cache that fails is no session
            return super().load()
        generations.read_with(found, with_it)
        data = found.get(session_key)
        if data is None:  # not in the cache: Django's store reads the database
            data = super().load()
        self._remember(data)
        return data

    def _remember(self, data) -> None:
        user_id = data.get(SESSION_KEY) if isinstance(data, dict) else None
        if self.session_key:
            _WHOSE.put(_digest(self.session_key), user_id)
