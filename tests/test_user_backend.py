"""The authentication backend reads the user's member and second-factor device with the
user, and with Redis from the cache, exactly (issue 18)."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organizations import auth_backends, second_factor, services
from organizations.models import User

pytestmark = pytest.mark.django_db


def test_the_users_member_comes_with_the_user_in_one_query(client, people):
    client.force_login(people["alice"])
    request = type("Request", (), {"session": client.session})()
    with CaptureQueriesContext(connection) as captured:
        user = get_user(request)
    assert len(captured) == 2  # the session, then the user and its member in one query
    with CaptureQueriesContext(connection) as captured:
        assert user.organization.short_name == people["alice"].organization.short_name
    assert len(captured) == 0


def test_an_inactive_users_session_no_longer_logs_in(client, people):
    client.force_login(people["alice"])
    people["alice"].is_active = False
    people["alice"].save()
    request = type("Request", (), {"session": client.session})()
    assert not get_user(request).is_authenticated


def signed_in_user(client):
    """request.user as the middleware leaves it for the client's session (the session,
    the user with the backend, the second factor's device), evaluated."""
    from django.conf import settings
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory

    from organizations.second_factor import VerifiedDeviceMiddleware

    request = RequestFactory().get("/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = client.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    stack = SessionMiddleware(
        AuthenticationMiddleware(VerifiedDeviceMiddleware(lambda r: HttpResponse()))
    )
    stack(request)
    user = request.user
    user.is_authenticated  # noqa: B018 - the lazy user is read here
    return user._wrapped if hasattr(user, "_wrapped") else user


def test_the_verified_device_comes_with_the_user_in_the_same_query(client, people):
    client.force_login(people["bob"])  # a reviewer, past the code
    with CaptureQueriesContext(connection) as captured:
        user = signed_in_user(client)
        assert user.is_verified()
    assert len(captured) == 2  # the session; the user with its member and device
    assert user.otp_device.pk == second_factor.confirmed_device(people["bob"]).pk


def test_a_removed_device_unverifies_the_session_at_once(client, people):
    client.force_login(people["bob"])
    second_factor.reset(user=people["bob"], by=people["root"])
    assert not signed_in_user(client).is_verified()


@pytest.fixture
def user_cache(settings):
    """The settings REDIS_URL gives, with the process's own cache instead of Redis."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-user-cache",
        }
    }
    settings.SESSION_ENGINE = "aid_alliance.session_store"
    settings.AUTH_USER_CACHE = True
    settings.DIRECTORY_GENERATION = True
    yield
    cache.clear()


def test_with_the_cache_a_signed_in_request_reads_nothing_from_the_database(
    client, people, user_cache
):
    client.force_login(people["bob"])
    signed_in_user(client)  # the first read fills the cache
    with CaptureQueriesContext(connection) as captured:
        user = signed_in_user(client)
        assert user.is_verified() and user.organization.pk == people["bob"].organization_id
    assert len(captured) == 0


def test_a_deactivated_user_is_signed_out_on_the_next_request_despite_the_cache(
    client, people, user_cache
):
    client.force_login(people["bob"])
    assert signed_in_user(client).is_authenticated
    services.user_set_active(user=people["bob"], is_active=False, by=people["root"])
    assert not signed_in_user(client).is_authenticated


def test_a_removed_device_counts_on_the_next_request_despite_the_cache(client, people, user_cache):
    client.force_login(people["bob"])
    assert signed_in_user(client).is_verified()
    second_factor.reset(user=people["bob"], by=people["root"])
    assert not signed_in_user(client).is_verified()


def test_a_changed_role_member_or_password_counts_despite_the_cache(client, people, user_cache):
    bob = people["bob"]
    client.force_login(bob)
    assert signed_in_user(client).role == User.Role.REVIEWER
    bob.role = User.Role.CASEWORKER
    bob.save()
    assert signed_in_user(client).role == User.Role.CASEWORKER
    member = bob.organization
    member.name_zh = "改过的名字"
    member.save()
    assert signed_in_user(client).organization.name_zh == "改过的名字"
    bob.set_password("another long password")
    bob.save()
    assert not signed_in_user(client).is_authenticated  # the session's hash no longer fits


def test_a_user_read_before_a_change_and_cached_after_it_is_not_served(
    client, people, user_cache, monkeypatch
):
    """The generations are read before the database: a copy read just before a change
    is stored under the old generation, and the next request reads the user again."""
    client.force_login(people["bob"])
    original = auth_backends.load_user

    def read_then_deactivated(user_id):
        user = original(user_id)  # the old row
        services.user_set_active(user=people["bob"], is_active=False, by=people["root"])
        return user

    monkeypatch.setattr(auth_backends, "load_user", read_then_deactivated)
    assert signed_in_user(client).is_authenticated  # this request read it while active
    monkeypatch.setattr(auth_backends, "load_user", original)
    assert not signed_in_user(client).is_authenticated


class CacheReads:
    """The default cache's reads (get, get_many), counted as the callers make them (the
    process's own cache answers get_many with a get for each key: not counted again)."""

    def __init__(self, monkeypatch):
        from django.core.cache import caches

        self.calls, self.inside = [], False
        backend = caches["default"]
        for name in ("get", "get_many"):
            original = getattr(backend, name)

            def counted(*args, _name=name, _original=original, **kwargs):
                if self.inside:
                    return _original(*args, **kwargs)
                self.calls.append((_name, args[0]))
                self.inside = True
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.inside = False

            monkeypatch.setattr(backend, name, counted)


def test_the_session_the_user_and_the_directorys_generation_are_one_read(
    client, people, user_cache, monkeypatch
):
    """aid_alliance.session_store: once this process knows whose the session is, the session,
    the user's copy with its generations and the directory's generation come in one read of
    the cache, and the rest of the request reads none of them again; the end of the request
    forgets them."""
    from django.core.signals import request_finished, request_started

    from aid_alliance import generations
    from organizations import directory_cache

    client.force_login(people["bob"])
    signed_in_user(client)  # fills the cache; the process learns whose the session is
    directory_cache.generation()
    request_finished.send(sender=None)
    reads = CacheReads(monkeypatch)
    with CaptureQueriesContext(connection) as captured:
        user = signed_in_user(client)
        assert user.is_verified() and user.pk == people["bob"].pk
        token = directory_cache.generation()
    assert len(captured) == 0
    assert [name for name, _keys in reads.calls] == ["get_many"]
    assert set(reads.calls[0][1]) >= {
        *auth_backends.keys_of(people["bob"].pk),
        directory_cache.GENERATION_KEY,
    }
    request_finished.send(sender=None)
    assert directory_cache.generation() == token
    assert len(reads.calls) == 2  # read again: the request that read it has ended
    signed_in_user(client)  # a session read outside a request: the next request starts afresh
    request_started.send(sender=None)
    assert directory_cache.generation() == token
    assert len(reads.calls) == 4
    # Each reader of the user gets a copy of its own, not the one read with the session.
    signed_in_user(client)
    assert auth_backends.cached_user(people["bob"].pk) is not auth_backends.cached_user(
        people["bob"].pk
    )
    # A new generation made in the request is not answered from what was read before it.
    signed_in_user(client)
    generations.renew(directory_cache.GENERATION_KEY)
    assert directory_cache.generation() != token


def test_a_wrong_guess_of_whose_the_session_is_reads_the_right_user(
    client, people, user_cache, monkeypatch
):
    """The process's guess only chooses what is read with the session: the user is the one
    the session names, read on its own when the guess was someone else."""
    from aid_alliance import session_store

    client.force_login(people["bob"])
    signed_in_user(client)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    session_store._WHOSE.put(session_store._digest(key), str(people["alice"].pk))
    reads = CacheReads(monkeypatch)
    user = signed_in_user(client)
    assert user.pk == people["bob"].pk and user.is_verified()
    assert len(reads.calls) == 2  # with the session (alice's keys), then bob's
    assert str(people["alice"].pk) not in str(reads.calls[1][1])
