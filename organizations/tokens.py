"""API tokens for member systems (standard.md §5: a token acts as its user, never more).

A token is a random secret shown once; the database keeps its SHA-256 (enough for a
256-bit random secret: nothing to guess, so no slow hash is needed), its first characters
to tell it apart, a scope, an expiry (API_TOKEN_DAYS) and, once revoked, the time. The
header stays DRF's `Authorization: Token <secret>`, so member systems change nothing but
the secret.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS

from organizations.models import AccountEvent, ApiToken, User
from organizations.services import account_event_record

PREFIX_LENGTH = 8
# Writing last_used_at on every request would make each API read a write.
LAST_USED_PRECISION = timedelta(minutes=1)
READ_ONLY_MESSAGE = _("This token may only read: make a read and write token to change data.")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *, user: User, name: str, scope: str, days: int | None = None, by: User | None, note=""
) -> tuple[ApiToken, str]:
    """A new token of `user`, and its secret (shown once, never stored)."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:PREFIX_LENGTH],
            key_hash=hash_secret(secret),
            scope=scope,
            created_at=now,
            expires_at=now + timedelta(days=days or settings.API_TOKEN_DAYS),
        )
        account_event_record(
            user=user,
            kind=AccountEvent.Kind.API_TOKEN_CREATED,
            by=by,
            note=f"{token.prefix} {scope} {name} {note}".strip()[:200],
        )
    return token, secret


def api_token_revoke(*, token: ApiToken, by: User | None) -> ApiToken:
    """The token stops working at once; revoking it twice changes nothing."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            account_event_record(
                user=token.user,
                kind=AccountEvent.Kind.API_TOKEN_REVOKED,
                by=by,
                note=f"{token.prefix} {token.name}"[:200],
            )
    return token


def tokens_of(user: User):
    return ApiToken.objects.filter(user=user)


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's Token header, looked up by hash; expired or revoked tokens get 401.

    The scope is checked here rather than in each view's permissions: every view, present
    or future, then refuses a read token's writes without having to remember to.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and request.method not in SAFE_METHODS:
            if result[1].scope != ApiToken.Scope.READ_WRITE:
                raise exceptions.PermissionDenied(READ_ONLY_MESSAGE)
        return result

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_secret(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired: make a new one."))
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
