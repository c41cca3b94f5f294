"""Shared fixtures: the demo directory and a base set of named users.

Users (password "pw" everywhere):
- alice: caseworker of member 1 (CRCF); bob: reviewer of member 1
- carol: caseworker of member 2 (CCCF); dave: reviewer of member 2
- sam: the secretariat; root: administrator (superuser)
"""

from pathlib import Path

import pytest
import yaml

from organizations import services
from organizations.models import MemberOrganization, User

DATA = Path(__file__).parent / "data"
DIRECTORY = Path(__file__).resolve().parents[1] / "organizations" / "data" / "demo-directory.yaml"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def directory(db):
    services.directory_load(data=yaml.safe_load(DIRECTORY.read_text(encoding="utf-8")))
    return MemberOrganization.objects.order_by("number")


def _user(username, role, member=None, superuser=False):
    return services.user_create(
        username=username, password="pw", role=role, organization=member, is_superuser=superuser
    )


@pytest.fixture
def people(directory):
    m1, m2 = directory[0], directory[1]
    return {
        "alice": _user("alice", User.Role.CASEWORKER, m1),
        "bob": _user("bob", User.Role.REVIEWER, m1),
        "carol": _user("carol", User.Role.CASEWORKER, m2),
        "dave": _user("dave", User.Role.REVIEWER, m2),
        "sam": _user("sam", User.Role.SECRETARIAT),
        "root": _user("root", "", superuser=True),
    }


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _static_manifest(django_db_blocker):
    """Pages are rendered with the production static storage, which needs its manifest."""
    from django.conf import settings
    from django.core.management import call_command

    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)
