"""Settings fail loudly; production mode is safe; the demo loader is idempotent."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from organizations.models import (
    AidProject,
    Hospital,
    HospitalEvent,
    MemberOrganization,
    RuleSet,
    User,
)

ROOT = Path(__file__).resolve().parents[1]
STRONG_KEY = "k" * 20 + "3fT9-strong-random-looking-key-for-tests-only" + "z" * 10
# Keys of the encrypted ID and bank numbers (cases.crypto): a new one first, an old one kept.
FIELD_KEYS = {
    "FIELD_ENCRYPTION_KEY": "7Fv0rT2QeWq1cZB9yL4pXg3mN8sHkD6aJuE5oRiYbtA=,"
    "q1Zk9P0wYh3Rn6Tt2Lc8Vb5Xm4Sd7Gf1Je0Ua9Io3Ks=",
    "FIELD_HASH_KEY": "h" * 12 + "-hash-key-for-tests-only-" + "9" * 12,
}


def manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE", "AID_TEST_MODE")
        and not k.startswith("FIELD_")
    }
    files = {
        f"{name}_FILE": f"/nonexistent/{name}"
        for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **files, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_mode_refuses_to_start_without_the_field_encryption_keys():
    result = manage("check", DEBUG="false", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is not set" in result.stderr
    result = manage("check", DEBUG="false", SECRET_KEY=STRONG_KEY, FIELD_ENCRYPTION_KEY="short")
    assert result.returncode != 0 and "32 random bytes" in result.stderr
    keys = {**FIELD_KEYS, "FIELD_HASH_KEY": ""}
    result = manage("check", DEBUG="false", SECRET_KEY=STRONG_KEY, **keys)
    assert result.returncode != 0 and "FIELD_HASH_KEY is not set" in result.stderr


def test_production_settings_need_the_keys_even_where_pytest_is_importable():
    """Only the test configuration's explicit AID_TEST_MODE relaxes the keys: a production
    process that happens to import pytest (a shell, a health check) must still refuse."""
    code = "import pytest, django; django.setup(); print('started')"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "AID_TEST_MODE", "DJANGO_ALLOW_ASYNC_UNSAFE")
        and not k.startswith("FIELD_")
    }
    env |= {
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "aid_alliance.settings",
        **{
            f"{name}_FILE": f"/nonexistent/{name}"
            for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY")
        },
    }

    def run(**extra):
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = run()
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr
    started = run(AID_TEST_MODE="1")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "started"


def test_production_mode_refuses_a_weak_secret_key():
    result = manage("check", DEBUG="false", SECRET_KEY="short")
    assert result.returncode != 0 and "too weak" in result.stderr


def test_a_bad_boolean_fails_loudly():
    result = manage("check", DEBUG="maybe", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0 and "DEBUG='maybe' is not a boolean" in result.stderr


def test_check_deploy_is_clean_with_production_values():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="aid.example.org",
        HTTPS="true",
        EMAIL_HOST="smtp.example.org",
        **FIELD_KEYS,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_load_demo_refuses_demo_users_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="i-know-this-is-demo"):
        call_command("load_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_load_demo_loads_the_directory_and_users_once(settings):
    settings.DEBUG = False
    call_command("load_demo", "--i-know-this-is-demo", stdout=open(os.devnull, "w"))
    call_command("load_demo", "--i-know-this-is-demo", stdout=open(os.devnull, "w"))
    assert MemberOrganization.objects.count() == 8
    assert AidProject.objects.count() == 24
    assert RuleSet.objects.count() == 24  # the second run published no new versions
    assert User.objects.count() == 2 + 16 + 2  # and two hospitals' staff (issue 17)
    assert Hospital.objects.filter(is_demo=True).count() == 11
    # The second run changed no hospital: one "created" event each, nothing else.
    assert HospitalEvent.objects.count() == 11
    hospital_staff = User.objects.get(username="h-bch")
    assert hospital_staff.role == "hospital_staff" and hospital_staff.hospital.code == "bch"
    reviewer = User.objects.get(username="m8-reviewer")
    assert reviewer.organization.short_name == "hemo" and reviewer.role == "reviewer"
    assert reviewer.check_password("demo-password")
    assert User.objects.get(username="secretariat").is_staff
    assert User.objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_load_demo_directory_only_with_no_users(settings):
    settings.DEBUG = False
    call_command("load_demo", "--no-users", stdout=open(os.devnull, "w"))
    assert AidProject.objects.count() == 24 and not User.objects.exists()
