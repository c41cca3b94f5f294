"""Staff accounts are created and changed by administrators only (standard.md §5), each
change an account event that the member's reviewers can read."""

import pytest

from organizations.models import User

pytestmark = pytest.mark.django_db

USERS = "/admin/organizations/user/"
NEW_CASEWORKER = {
    "username": "mallory",
    "password1": "草原上的风-2026-long",
    "password2": "草原上的风-2026-long",
    "role": User.Role.CASEWORKER,
}


def test_the_secretariat_cannot_create_a_caseworker_in_the_admin(client, people):
    client.force_login(people["sam"])
    data = {**NEW_CASEWORKER, "organization": people["alice"].organization_id}
    assert client.post(f"{USERS}add/", data).status_code == 403
    assert client.get(f"{USERS}add/").status_code == 403
    assert not User.objects.filter(username="mallory").exists()
