"""Rendered parts kept in this process under a digest of everything they are made of.

A part rendered from the same inputs is the same text, so keeping it under a digest of the
inputs needs no invalidation and cannot go stale: a change in any input is another key.
What goes into the key is the caller's to get complete; the text kept is what the page
would send anyway, to the same kind of reader (issue 18).
"""

from __future__ import annotations

import hashlib
import pickle
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone
from django.utils.translation import get_language

# Keyed with a secret of this process: the digests say nothing of the inputs.
_KEY = secrets.token_bytes(32)


def stand_in() -> str:
    """A random text of this process to stand, in what is kept, for what is put in on each
    request (a CSRF token, a page's address): no page's data can hold it."""
    return "kept" + secrets.token_hex(16)


def surroundings() -> tuple:
    """What any rendering reads beside its data: the active language and time zone, the URL
    configuration and script prefix (every address it writes). Part of every kept key."""
    return (
        get_language(),
        timezone.get_current_timezone_name(),
        settings.ROOT_URLCONF,
        get_urlconf(),
        get_script_prefix(),
    )


def pickled_digest(value) -> bytes:
    """A digest of every field of every object in `value` (pickled), for values whose repr
    leaves fields out (model instances, dataclasses): no field can be missed in a key."""
    return hashlib.sha256(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).digest()


def digest(parts) -> bytes:
    """A keyed digest of `parts`' repr: pass plain values (str, int, dates, tuples of them)."""
    return hashlib.blake2b(repr(parts).encode(), key=_KEY, digest_size=20).digest()


class Kept:
    """At most `size` values, the least recently used going first; safe under threads."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def get(self, key: Hashable):
        """The value kept under `key` (now the most recently used), or None."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._values.pop(key, None)

    def drop_oldest_while(self, stale: Callable[[object], bool]) -> None:
        """Drop the least recently used values while `stale` says so of the oldest."""
        with self._lock:
            while self._values and stale(next(iter(self._values.values()))):
                self._values.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], object]):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()  # outside the lock: two threads may build the same value once each
        self.put(key, value)
        return value
