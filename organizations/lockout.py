"""Staff login lockout: after LOGIN_MAX_FAILURES failures in LOGIN_LOCKOUT_SECONDS, per user
name and per client address, no more tries until the oldest counted failure ages out.

Each try is written first (autocommit, so every app server sees it at once) and counted
after: of any number of simultaneous guesses, no more get through than the limit allows.
A successful login takes its own row back and clears the user name's failures. With a
second factor the password alone takes back only its own row: the name's failures, wrong
codes included, are cleared when the code is right (organizations.accounts).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from organizations.models import LoginFailure


def _key(kind: str, value: str) -> str:
    return salted_hmac(f"organizations.lockout.{kind}", value, algorithm="sha256").hexdigest()


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def _blocked_until(scope: Q, *, since: datetime, exclude: int) -> datetime | None:
    limit = settings.LOGIN_MAX_FAILURES
    counted = (
        LoginFailure.objects.filter(scope, at__gte=since)
        .exclude(pk=exclude)
        .order_by("-at")
        .values_list("at", flat=True)[limit - 1 : limit]
    )
    at = next(iter(counted), None)
    return at + _window() if at else None


def attempt_begin(*, username: str, address: str) -> tuple[int | None, datetime | None]:
    """(row of this try, None) when it may go on; (None, retry time) when locked out."""
    now = timezone.now()
    since = now - _window()
    LoginFailure.objects.filter(at__lt=since).delete()
    username_key = _key("username", username.strip().lower())
    address_key = _key("address", address)
    row = LoginFailure.objects.create(username_key=username_key, address_key=address_key, at=now)
    blocked = [
        _blocked_until(Q(username_key=username_key), since=since, exclude=row.pk),
        _blocked_until(Q(address_key=address_key), since=since, exclude=row.pk),
    ]
    retry_at = max((at for at in blocked if at is not None), default=None)
    if retry_at is not None:
        row.delete()
        return None, retry_at
    return row.pk, None


def attempt_succeeded(pk: int, *, username: str) -> None:
    LoginFailure.objects.filter(
        Q(pk=pk) | Q(username_key=_key("username", username.strip().lower()))
    ).delete()


def attempt_passed(pk: int) -> None:
    """The password was right but the login goes on with a code: this try is no failure,
    and the failures counted so far stay until the code is right."""
    LoginFailure.objects.filter(pk=pk).delete()
