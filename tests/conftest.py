"""Shared fixtures: the demo directory and a base set of named users.

Users (password "pw" everywhere):
- alice: caseworker of member 1 (CRCF); bob: reviewer of member 1
- carol: caseworker of member 2 (CCCF); dave: reviewer of member 2
- sam: the secretariat; root: administrator (superuser)

Reviewers, the secretariat and administrators sign in with a second factor (TOTP). The
`client` fixture's force_login does what a person does: the password's session, then the
code's mark (django_otp.login) with the user's confirmed device, added on first use
(`second_factor_device`). `password_only_login` stops after the password.
"""

import time
from pathlib import Path

import pytest
import yaml
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from aid_alliance import replayed_pages
from organizations import second_factor, services
from organizations.models import MemberOrganization, User

DATA = Path(__file__).parent / "data"
DIRECTORY = Path(__file__).resolve().parents[1] / "organizations" / "data" / "demo-directory.yaml"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_kept_pages():
    """Each test starts with no page kept (aid_alliance.replayed_pages): a page kept by an
    earlier test, whose rows were rolled back, would be served to this one's first request
    when the ids and figures happen to be the same, and its templates not rendered for
    the test to read their context."""
    replayed_pages.REPLAYS.clear()


@pytest.fixture
def directory(db):
    services.directory_load(data=yaml.safe_load(DIRECTORY.read_text(encoding="utf-8")))
    return MemberOrganization.objects.order_by("number")


def _user(username, role, member=None, superuser=False):
    # by=None: created as the server's command line would (each is an account event).
    return services.user_create(
        by=None,
        username=username,
        password="pw",
        role=role,
        organization=member,
        is_superuser=superuser,
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


def second_factor_device(user) -> TOTPDevice | None:
    """The user's confirmed TOTP device; one is added when their role needs it and they
    have none (as if they had enrolled)."""
    device = second_factor.confirmed_device(user)
    if device is None and second_factor.required_by_role(user):
        device = TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)
    return device


def current_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows now, as a person would type it.

    A code is accepted once (django-otp keeps the last time step used): when this one was,
    the next step's code (accepted too, one step of clock drift) or, past that, a wait for
    the next step."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    step = max(totp.t(), device.last_t + 1)
    while step > totp.t() + device.tolerance:  # t() follows the clock
        time.sleep(1)
    totp.time = device.t0 + (step - device.drift) * device.step
    return f"{totp.token():0{device.digits}d}"


class StaffClient(Client):
    """Django's test client; force_login gives both factors (see the module's docstring)."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        device = second_factor_device(user)
        if device is not None:
            # What django_otp.login does after a right code.
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    def password_only_login(self, user, backend=None):
        """Signed in with the password, the code not given yet."""
        super().force_login(user, backend)


@pytest.fixture
def client():
    return StaffClient()


def api_token_for(user, scope="read_write") -> str:
    """The secret of a new API token of the user (organizations.tokens), as a member
    system holds it."""
    from organizations import tokens

    return tokens.api_token_create(user=user, name="test system", scope=scope, by=user)[1]


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
