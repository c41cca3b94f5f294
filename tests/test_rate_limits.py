"""One rate limiter (organizations.ratelimit) for the login lockout, the family status page
and password reset: rows in the shared database, keyed hashes, one API."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from organizations import ratelimit
from organizations.models import RateLimitHit

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"


def ask_reset(client, email, *, address="10.0.0.1", language="en"):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address)


@pytest.fixture
def alice_with_email(people):
    alice = people["alice"]
    alice.email = "alice@example.org"
    alice.save(update_fields=["email"])
    return alice


def test_password_reset_sends_mail_below_the_limit(client, alice_with_email):
    response = ask_reset(client, "alice@example.org")
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]


def test_a_sixth_reset_for_one_address_within_the_hour_is_refused_with_429_and_no_mail(
    client, alice_with_email
):
    for n in range(5):
        assert ask_reset(client, "alice@example.org", address=f"10.0.1.{n}").status_code == 302
    assert len(mail.outbox) == 5
    response = ask_reset(client, "ALICE@example.org ", address="10.0.2.1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many password reset requests" in response.text
    assert len(mail.outbox) == 5


def test_one_client_asking_for_many_addresses_is_refused(client, alice_with_email):
    for n in range(5):
        ask_reset(client, f"nobody{n}@example.org", address="10.0.3.3")
    response = ask_reset(client, "alice@example.org", address="10.0.3.3")
    assert response.status_code == 429
    assert mail.outbox == []
    # Another client may still ask for alice's address.
    assert ask_reset(client, "alice@example.org", address="10.0.3.4").status_code == 302


def test_the_reset_limit_message_is_chinese_by_default(client, alice_with_email):
    for _ in range(5):
        ask_reset(client, "alice@example.org", language="zh-hans")
    response = ask_reset(client, "alice@example.org", language="zh-hans")
    assert response.status_code == 429
    assert "重置密码的请求过多" in response.text


def test_the_reset_limit_ends_when_the_requests_age_out(client, alice_with_email, settings):
    for _ in range(5):
        ask_reset(client, "alice@example.org")
    assert ask_reset(client, "alice@example.org").status_code == 429
    hour = timedelta(seconds=settings.PASSWORD_RESET_WINDOW_SECONDS)
    RateLimitHit.objects.update(at=timezone.now() - hour - timedelta(seconds=1))
    assert ask_reset(client, "alice@example.org").status_code == 302


def test_the_reset_page_itself_is_not_counted(client):
    for _ in range(8):
        assert client.get(RESET).status_code == 200
    assert not RateLimitHit.objects.exists()


def test_the_limiter_counts_per_key_and_stores_only_keyed_hashes(settings):
    settings.PASSWORD_RESET_MAX_REQUESTS = 2
    first = ratelimit.hit("password_reset", address="192.0.2.9", email="x@example.org")
    second = ratelimit.hit("password_reset", address="192.0.2.8", email="x@example.org")
    assert first.allowed and second.allowed
    assert ratelimit.blocked("password_reset", email="x@example.org") is not None
    assert ratelimit.blocked("password_reset", address="192.0.2.9") is None
    refused = ratelimit.hit("password_reset", address="192.0.2.7", email="x@example.org")
    assert not refused.allowed and refused.retry_at > timezone.now()
    assert RateLimitHit.objects.count() == 2  # a refused hit is taken back
    stored = " ".join(f"{row.first_key} {row.second_key}" for row in RateLimitHit.objects.all())
    assert "192.0.2" not in stored and "example.org" not in stored
    ratelimit.clear("password_reset", email="x@example.org")
    assert not RateLimitHit.objects.exists()


def test_the_limiter_refuses_a_key_its_scope_does_not_name():
    with pytest.raises(ValueError, match="phone"):
        ratelimit.hit("login", username="bob", phone="13800138000")


def test_scopes_keep_apart(settings):
    settings.LOGIN_MAX_FAILURES = 1
    ratelimit.hit("login", username="bob", address="192.0.2.1")
    assert ratelimit.blocked("login", username="bob") is not None
    assert ratelimit.blocked("password_reset", address="192.0.2.1") is None
