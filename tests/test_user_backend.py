"""The authentication backend reads the user's member with the user (issue 18)."""

import pytest
from django.contrib.auth import get_user
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
