"""API tokens of our own (organizations.tokens): stored as a hash only, with a scope, an
expiry and a revocation; made on a page behind the second factor or with a command."""

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from organizations import tokens
from organizations.models import AccountEvent, ApiToken
from tests.conftest import second_factor_device

pytestmark = pytest.mark.django_db

API = "/api/v1"
PAGE = "/accounts/tokens/"


def api(client, method, path, secret, **extra):
    return getattr(client, method)(
        API + path,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {secret}",
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


def make(user, *, scope=ApiToken.Scope.READ_WRITE, name="member system", days=None):
    token, secret = tokens.api_token_create(user=user, name=name, scope=scope, days=days, by=user)
    return token, secret


def test_a_token_is_stored_as_its_hash_only(people):
    token, secret = make(people["alice"])
    assert len(secret) >= 40
    row = ApiToken.objects.get()
    stored = " ".join(str(value) for value in ApiToken.objects.values().get().values())
    assert secret not in stored
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:8] and secret.startswith(row.prefix)
    assert row.expires_at - row.created_at == timedelta(days=django_settings.API_TOKEN_DAYS)


def test_a_read_write_token_reads_and_writes_as_its_user(client, people):
    _token, secret = make(people["alice"])
    assert api(client, "get", "/applications/", secret).status_code == 200
    response = api(client, "post", "/applications/", secret, data={})
    assert response.status_code == 201


def test_a_read_only_token_reads_but_gets_403_on_writes(client, people):
    _token, secret = make(people["alice"], scope=ApiToken.Scope.READ)
    assert api(client, "get", "/applications/", secret).status_code == 200
    response = api(client, "post", "/applications/", secret, data={})
    assert response.status_code == 403
    assert response.json() == {"detail": tokens.READ_ONLY_MESSAGE, "errors": []}
    response = api(client, "patch", "/applications/DB-2026-AAAAAA/sections/A/", secret, data={})
    assert response.status_code == 403


def test_an_expired_token_gets_401_with_a_clear_message(client, people):
    token, secret = make(people["alice"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api(client, "get", "/applications/", secret)
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has expired: make a new one."
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_token_gets_401(client, people):
    token, secret = make(people["alice"])
    tokens.api_token_revoke(token=token, by=people["alice"])
    response = api(client, "get", "/applications/", secret)
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has been revoked."


def test_an_unknown_token_gets_401(client, people):
    make(people["alice"])
    assert api(client, "get", "/applications/", "not-a-token").status_code == 401


def test_a_token_never_widens_its_users_permissions(client, people):
    # The secretariat reads, never writes (§5), whatever the token's scope.
    _token, secret = make(people["sam"])
    assert api(client, "get", "/applications/", secret).status_code == 200
    assert api(client, "post", "/applications/", secret, data={}).status_code == 403
    # A token of a member's caseworker sees nothing of another member's applications.
    _token, carols = make(people["carol"])
    alices = api(client, "post", "/applications/", make(people["alice"])[1], data={})
    reference = alices.json()["reference"]
    assert api(client, "get", f"/applications/{reference}/", carols).status_code == 404


def test_last_used_is_written_at_most_once_a_minute(client, people):
    token, secret = make(people["alice"])
    assert ApiToken.objects.get().last_used_at is None
    api(client, "get", "/applications/", secret)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    api(client, "get", "/applications/", secret)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    api(client, "get", "/applications/", secret)
    assert ApiToken.objects.get().last_used_at > first - timedelta(minutes=1)


# --- the page ----------------------------------------------------------------------------


def english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_page_makes_a_token_shows_it_once_and_records_it(client, people):
    client.force_login(people["bob"])
    response = english(client).post(PAGE, {"name": "CRCF system", "scope": "read"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert secret in response.text and secret.startswith(token.prefix)
    assert token.user == people["bob"] and token.scope == "read" and token.name == "CRCF system"
    event = AccountEvent.objects.get(kind=AccountEvent.Kind.API_TOKEN_CREATED)
    assert event.user == event.by == people["bob"] and token.prefix in event.note
    # Listed afterwards with its prefix, never its secret.
    listing = client.get(PAGE)
    assert token.prefix in listing.text and secret not in listing.text


def test_member_staff_find_the_page_from_home(client, people):
    client.force_login(people["alice"])
    assert f'href="{PAGE}"' in client.get("/").text


def test_a_bad_name_or_scope_is_refused_at_the_field_in_chinese(client, people):
    client.force_login(people["bob"])
    response = client.post(PAGE, {"name": "", "scope": "admin"})
    assert response.status_code == 200
    assert "这个字段是必填项" in response.text or "必填" in response.text
    assert 'aria-invalid="true"' in response.text
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token(client, people):
    token, _secret = make(people["bob"])
    client.force_login(people["bob"])
    response = client.post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.API_TOKEN_REVOKED).count() == 1


def test_another_users_token_cannot_be_revoked(client, people):
    token, _secret = make(people["dave"])
    client.force_login(people["bob"])
    assert client.post(f"{PAGE}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.get(f"{PAGE}{token.pk}/revoke/").status_code == 405


def test_the_page_needs_the_second_factor_of_a_reviewer(client, people):
    second_factor_device(people["bob"])
    client.password_only_login(people["bob"])
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/")
    assert client.post(PAGE, {"name": "x", "scope": "read"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_a_caseworker_without_a_second_factor_is_sent_to_enrol_first(client, people):
    client.force_login(people["alice"])  # a caseworker: signed in with the password alone
    assert client.get("/applications/").status_code == 200
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/otp/enrol/?next=%2Faccounts%2Ftokens%2F"
    assert client.post(PAGE, {"name": "x", "scope": "read"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_a_caseworker_with_a_device_gives_the_code_first(client, people):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    alice = people["alice"]
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client.password_only_login(alice)
    response = client.get(PAGE)
    assert response["Location"] == "/accounts/otp/?next=%2Faccounts%2Ftokens%2F"
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert client.get(PAGE).status_code == 200


# --- the command -------------------------------------------------------------------------


def test_the_command_makes_a_token_and_prints_it_once(people, capsys):
    call_command("create_api_token", "bob", "--name", "CRCF", "--scope", "read", "--days", "30")
    out = capsys.readouterr().out
    token = ApiToken.objects.get()
    secret = next(word for word in out.split() if word.startswith(token.prefix))
    assert out.count(secret) == 1
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.user == people["bob"] and token.scope == "read"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    event = AccountEvent.objects.get(kind=AccountEvent.Kind.API_TOKEN_CREATED)
    assert event.by is None and "create_api_token" in event.note


def test_the_command_refuses_an_unknown_user_or_scope(people):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", "--name", "x", "--scope", "read")
    with pytest.raises(CommandError):
        call_command("create_api_token", "bob", "--name", "x", "--scope", "admin")
    assert not ApiToken.objects.exists()


# --- the move from DRF's authtoken ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_old_authtoken_key_keeps_working_after_the_migration_and_its_table_goes(client, people):
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("organizations.migrations.0007_api_tokens")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id bigint NOT NULL)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created datetime NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [old_key, timezone.now(), people["alice"].pk],
        )
    with connection.schema_editor() as editor:
        migration.move_authtoken_keys(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get()
    assert token.prefix == old_key[:8] and token.scope == "read_write"
    assert old_key not in str(ApiToken.objects.values().get())
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert api(client, "get", "/applications/", old_key).status_code == 200
