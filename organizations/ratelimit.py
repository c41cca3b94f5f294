"""One rate limiter for every limit on people (standard.md §5): the staff login lockout,
the family status page, password reset, the family's uploads and call-back requests. The
API's request throttles are DRF's.

A scope names its settings (the most hits allowed in a window) and its keys, at most two
(the table has two key columns): a hit counts against each of them, and any one of them
over the limit refuses it. Hits are rows in the shared database, so the limits hold across
app servers; keys are stored as keyed hashes.

Each hit is written first (autocommit, so every app server sees it at once) and counted
after: of any number of simultaneous hits, no more get through than the limit has room
for; a refused hit is taken back. Callers that count failures only take a hit back when
the request succeeds (`release`); their views must not run in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from organizations.models import RateLimitHit


@dataclass(frozen=True)
class Scope:
    max_setting: str
    window_setting: str
    keys: tuple[str, ...]
    # The prefix of the keys' hashes; the login and status scopes keep the ones of the
    # tables their rows were moved from, so counts under way survived the move.
    salt: str

    @property
    def limit(self) -> int:
        return getattr(settings, self.max_setting)

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=getattr(settings, self.window_setting))


SCOPES = {
    "login": Scope(
        "LOGIN_MAX_FAILURES",
        "LOGIN_LOCKOUT_SECONDS",
        ("username", "address"),
        "organizations.lockout",
    ),
    "family_status": Scope(
        "FAMILY_STATUS_MAX_FAILURES",
        "FAMILY_STATUS_WINDOW_SECONDS",
        ("client", "reference"),
        "cases.family_status",
    ),
    "password_reset": Scope(
        "PASSWORD_RESET_MAX_REQUESTS",
        "PASSWORD_RESET_WINDOW_SECONDS",
        ("address", "email"),
        "organizations.password_reset",
    ),
    # Documents sent from the family status page: per application and per client a day.
    "family_upload": Scope(
        "FAMILY_UPLOAD_MAX_PER_DAY",
        "FAMILY_UPLOAD_WINDOW_SECONDS",
        ("application", "client"),
        "cases.family_upload",
    ),
    # Call-back requests from the pre-check (no account): per client address and per phone.
    "lead": Scope("LEAD_MAX_REQUESTS", "LEAD_WINDOW_SECONDS", ("client", "phone"), "cases.lead"),
}
_COLUMNS = ("first_key", "second_key")


@dataclass(frozen=True)
class Hit:
    """A counted request: its row, or when the client may try again."""

    row: int | None = None
    retry_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.retry_at is None


def _scope(name: str) -> Scope:
    return SCOPES[name]


def _hashed(name: str, keys: dict[str, str]) -> dict[str, str]:
    """Column -> keyed hash, for the keys given (an empty value is no key)."""
    scope = _scope(name)
    unknown = set(keys) - set(scope.keys)
    if unknown:
        raise ValueError(f"scope {name!r} has no key {', '.join(sorted(unknown))}")
    return {
        column: salted_hmac(f"{scope.salt}.{kind}", keys[kind], algorithm="sha256").hexdigest()
        for kind, column in zip(scope.keys, _COLUMNS, strict=False)
        if keys.get(kind)
    }


def _retry_at(name: str, hashed: dict[str, str], *, exclude: int | None = None):
    """When the most loaded key falls below the limit again, or None if all are below."""
    scope = _scope(name)
    since = timezone.now() - scope.window
    retry = []
    for column, value in hashed.items():
        # The limit-th most recent hit: once it leaves the window, one more is allowed.
        counted = (
            RateLimitHit.objects.filter(Q(**{column: value}), scope=name, at__gte=since)
            .exclude(pk=exclude)
            .order_by("-at")
            .values_list("at", flat=True)[scope.limit - 1 : scope.limit]
        )
        at = next(iter(counted), None)
        if at is not None:
            retry.append(at + scope.window)
    return max(retry, default=None)


def hit(name: str, **keys: str) -> Hit:
    """Count one request against each key; refused (and not kept) when any is at the limit."""
    hashed = _hashed(name, keys)
    now = timezone.now()
    RateLimitHit.objects.filter(scope=name, at__lt=now - _scope(name).window).delete()
    row = RateLimitHit.objects.create(scope=name, at=now, **hashed)
    retry_at = _retry_at(name, hashed, exclude=row.pk)
    if retry_at is not None:
        row.delete()
        return Hit(retry_at=retry_at)
    return Hit(row=row.pk)


def blocked(name: str, **keys: str) -> datetime | None:
    """When a hit with these keys would be allowed again, or None if it would be now."""
    return _retry_at(name, _hashed(name, keys))


def release(row: int | None) -> None:
    """Take one hit back: the request it counted succeeded, so it was no failure."""
    if row is not None:
        RateLimitHit.objects.filter(pk=row).delete()


def clear(name: str, **keys: str) -> None:
    """Forget every hit counted against these keys (e.g. a user name after a login)."""
    query = Q()
    for column, value in _hashed(name, keys).items():
        query |= Q(**{column: value})
    if query:
        RateLimitHit.objects.filter(query, scope=name).delete()
