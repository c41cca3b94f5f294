"""Staff accounts (standard.md §5): login lockout per user and per address, in the database
so it holds across app servers; the admin behind the same rule; idle sessions end."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from organizations.models import RateLimitHit

pytestmark = pytest.mark.django_db

# The login lockout's rows in the one rate-limit table (organizations.ratelimit).
FAILURES = RateLimitHit.objects.filter(scope="login")

LOCKED = "Too many failed logins"


def login(client, username, password, *, address="10.0.0.1", url="/accounts/login/"):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_six_failures_lock_the_user_name_even_with_the_right_password(client, people):
    for _ in range(6):
        response = login(client, "bob", "wrong")
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    response = login(client, "bob", "pw")
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address too: the user name is locked, not only the address.
    assert LOCKED in login(client, "bob", "pw", address="10.9.9.9").content.decode()
    # Another user from another address is not affected.
    assert login(client, "dave", "pw", address="10.9.9.9").status_code == 302


def test_one_address_guessing_many_user_names_is_locked(client, people):
    for name in ("alice", "bob", "carol", "dave", "sam", "nobody"):
        login(client, name, "wrong", address="10.0.0.7")
    assert LOCKED in login(client, "dave", "pw", address="10.0.0.7").content.decode()
    assert login(client, "dave", "pw", address="10.0.0.8").status_code == 302


def test_the_lock_ends_when_the_failures_age_out(client, people):
    for _ in range(6):
        login(client, "bob", "wrong")
    assert LOCKED in login(client, "bob", "pw").content.decode()
    FAILURES.update(at=timezone.now() - timedelta(minutes=31))
    assert login(client, "bob", "pw").status_code == 302


def test_a_success_clears_the_user_names_failures(client, people):
    # alice signs in with a password alone; for a user with a second factor the failures
    # clear only with the right code (tests/test_second_factor.py).
    for _ in range(5):
        login(client, "alice", "wrong")
    assert login(client, "alice", "pw").status_code == 302
    client.logout()
    for _ in range(5):
        login(client, "alice", "wrong", address="10.0.0.2")
    assert login(client, "alice", "pw", address="10.0.0.3").status_code == 302


def test_nothing_readable_is_stored(client, people):
    login(client, "bob", "wrong", address="192.0.2.55")
    row = FAILURES.get()
    assert "bob" not in row.first_key and "192.0.2.55" not in row.second_key


def test_the_admin_login_has_the_same_lockout(client, people):
    for _ in range(6):
        login(client, "sam", "wrong", url="/admin/login/")
    response = login(client, "sam", "pw", url="/admin/login/")
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_message_is_chinese_by_default(client, people):
    for _ in range(6):
        client.post("/accounts/login/", {"username": "bob", "password": "x"})
    html = client.post("/accounts/login/", {"username": "bob", "password": "pw"}).content
    assert "登录失败次数过多".encode() in html


def test_an_idle_session_ends(client, people, settings):
    client.force_login(people["alice"])
    assert client.get("/applications/").status_code == 200
    session = client.session
    session["last_seen"] -= settings.SESSION_IDLE_SECONDS + 1
    session.save()
    response = client.get("/applications/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_an_active_session_goes_on(client, people, settings):
    client.force_login(people["alice"])
    session = client.session
    session["last_seen"] -= settings.SESSION_IDLE_SECONDS - 120
    session.save()
    assert client.get("/applications/").status_code == 200
    # ...and the stamp moved on, so the next minutes count from now.
    assert client.session["last_seen"] >= int(timezone.now().timestamp()) - 5


def test_passwords_must_be_long_and_uncommon():
    with pytest.raises(ValidationError):
        validate_password("short1")
    with pytest.raises(ValidationError):
        validate_password("password1234")
    validate_password("草原上的风-2026-long")
