"""Several app servers share everything that must be shared (issue 9): two real Gunicorn
servers, separate processes with nothing in common but the test database (and, for one
test, Redis), answer one family and one member of staff as if they were one server.

PostgreSQL only: SQLite's test database lives in this process's memory, out of reach of
another process. Each server runs deploy/gunicorn.conf.py, so the config is checked too.
"""

import os
import re
import secrets
import shlex
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from organizations import services
from organizations.models import RateLimitHit, User
from reports import tasks
from reports.periods import parse_period

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="two app server processes need a shared database: PostgreSQL (set DATABASE_URL); "
        "SQLite's test database is in this process's memory",
    ),
    pytest.mark.django_db(transaction=True),  # the servers see committed rows only
]

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
REDIS = ("127.0.0.1", 6379)
API_LIMIT = 3  # anonymous API requests a minute, on the servers started here
PASSWORD = "two-servers-one-session"
# What either server may be told, unless a test says otherwise: nothing is inherited that
# could make the two disagree or point them at another database or cache.
# AID_TEST_MODE too: the servers run in production mode, as deployed.
_NOT_INHERITED = {
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "DEBUG",
    "AID_TEST_MODE",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _test_database_url() -> str:
    """The test database (test_…, made by pytest-django), as a URL for another process."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


def _server_env(**extra) -> dict[str, str]:
    """Production mode, as `make run` serves it, with the keys this test process uses."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    key = django_settings.SECRET_KEY
    if len(key) < 32 or key.startswith("django-insecure"):
        key = secrets.token_urlsafe(50)  # the test's throwaway key is refused with DEBUG off
    env |= {
        "DJANGO_SETTINGS_MODULE": "aid_alliance.settings",
        "DATABASE_URL": _test_database_url(),
        "DB_CONN_MAX_AGE": "0",  # no connection left open when the test database is dropped
        "SECRET_KEY": key,
        "ACCESS_CHAIN_KEY": django_settings.ACCESS_CHAIN_KEY,
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXY_COUNT": "0",  # both servers see the client as 127.0.0.1
        "FAMILY_STATUS_MAX_FAILURES": "5",
        "FAMILY_STATUS_ONE_TIME_CODE": "false",
        "API_THROTTLE_ANON": f"{API_LIMIT}/minute",
        "TASKS_BACKEND": "immediate",
        "PRIVATE_MEDIA_ROOT": str(django_settings.PRIVATE_MEDIA_ROOT),
        # Counters of other tests' clients (also 127.0.0.1) in the same cache stay apart.
        "CACHE_KEY_PREFIX": f"multi-{secrets.token_hex(4)}",
        "LOG_LEVEL": "WARNING",
    }
    # The keys of encrypted fields, when the settings have them: the servers must read
    # what this process wrote.
    if hasattr(django_settings, "FIELD_ENCRYPTION_KEYS"):
        env["FIELD_ENCRYPTION_KEY"] = ",".join(django_settings.FIELD_ENCRYPTION_KEYS)
    if hasattr(django_settings, "FIELD_HASH_KEY"):
        env["FIELD_HASH_KEY"] = django_settings.FIELD_HASH_KEY
    return env | extra


@contextmanager
def two_servers(log_dir: Path, **extra_env):
    """Servers A and B: one Gunicorn each, on its own port; stopped whatever happens."""
    env = _server_env(**extra_env)
    servers = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = open(log_dir / f"server-{name}.log", "wb")  # noqa: SIM115 - closed below
            process = subprocess.Popen(
                [GUNICORN, "-c", "deploy/gunicorn.conf.py", "aid_alliance.wsgi"]
                + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            servers.append((f"http://127.0.0.1:{port}", process, log))
        for url, process, log in servers:
            _wait_until_serving(url, process, Path(log.name))
        yield [url for url, _process, _log in servers]
    finally:
        for _url, process, _log in servers:
            process.terminate()
        for _url, process, log in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app server at {url} stopped:\n{log.read_text(errors='replace')}")
        try:
            # The socket listens before the worker has loaded Django: the first answer waits.
            if requests.get(f"{url}/status/", timeout=20).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    pytest.fail(f"the app server at {url} did not answer:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    """A and B with the cache in the database (the default)."""
    with two_servers(tmp_path_factory.mktemp("servers-db")) as urls:
        yield urls


@pytest.fixture(params=["database", "redis"])
def servers_by_cache(request, tmp_path_factory):
    if request.param == "database":
        yield request.getfixturevalue("servers")
        return
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    with two_servers(
        tmp_path_factory.mktemp("servers-redis"), REDIS_URL="redis://127.0.0.1:6379/0"
    ) as urls:
        yield urls


def csrf_token(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]


def look_up(browser: requests.Session, server: str, token: str, n: int) -> requests.Response:
    details = {"reference": f"DB-2026-WRONG{n}", "phone": "13800138000"}
    return browser.post(
        f"{server}/status/", data={**details, "csrfmiddlewaretoken": token}, timeout=10
    )


def test_failed_lookups_on_two_servers_count_against_one_limit(servers):
    """Five wrong lookups, three on A and two on B, from two browsers at one address: the
    sixth is refused on either server (standard.md §5, FAMILY_STATUS_MAX_FAILURES=5)."""
    a, b = servers
    first, second = requests.Session(), requests.Session()
    token_a, token_b = csrf_token(first, f"{a}/status/"), csrf_token(second, f"{b}/status/")
    answers = [look_up(first, a, token_a, n) for n in range(3)]
    answers += [look_up(second, b, token_b, n) for n in range(3, 5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert RateLimitHit.objects.filter(scope="family_status").count() == 5

    on_b, on_a = look_up(first, b, token_a, 5), look_up(second, a, token_b, 6)
    assert (on_b.status_code, on_a.status_code) == (429, 429)
    assert int(on_b.headers["Retry-After"]) > 0
    assert (
        RateLimitHit.objects.filter(scope="family_status").count() == 5
    )  # the refused tries are not rows


def test_a_staff_session_opened_on_one_server_holds_on_the_other_and_ends_on_both(
    servers, directory, settings
):
    # The servers check passwords with Django's default hashers, not the tests' MD5.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    services.user_create(
        by=None,
        username="erin",
        password=PASSWORD,
        role=User.Role.CASEWORKER,
        organization=directory[0],
    )
    a, b = servers
    browser = requests.Session()
    token = csrf_token(browser, f"{a}/accounts/login/")
    signed_in = browser.post(
        f"{a}/accounts/login/",
        data={"username": "erin", "password": PASSWORD, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 302, signed_in.text[:2000]
    assert "sessionid" in browser.cookies

    # The same cookie, sent to B (as a load balancer would): B reads the session from the
    # database and serves the caseworker's page.
    for server in (b, a):
        page = browser.get(f"{server}/applications/", allow_redirects=False, timeout=10)
        assert page.status_code == 200
        assert "erin" in page.text

    logged_out = browser.post(
        f"{b}/accounts/logout/",
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert logged_out.status_code == 302
    on_a = requests.get(
        f"{a}/applications/",
        cookies={"sessionid": signed_in.cookies["sessionid"]},
        allow_redirects=False,
        timeout=10,
    )
    assert on_a.status_code == 302 and "/accounts/login/" in on_a.headers["Location"]


def test_the_api_rate_limit_counts_requests_on_both_servers(servers_by_cache):
    """Anonymous API requests from one address: A and B share the counter, in the database
    cache or in Redis (REDIS_URL)."""
    a, b = servers_by_cache
    answers = [
        requests.get(f"{server}/api/v1/organizations/", timeout=10).status_code
        for server in (a, b, a)
    ]
    assert answers == [200] * API_LIMIT
    assert requests.get(f"{b}/api/v1/organizations/", timeout=10).status_code == 429
    assert requests.get(f"{a}/api/v1/organizations/", timeout=10).status_code == 429


def test_a_report_asked_for_in_the_background_is_made_by_the_worker_process(people, settings):
    """The worker is a process of its own (deploy/aid-alliance-worker.service, run here until
    the queue is empty): it finds the task the app queued in the database and leaves the
    file in the shared private storage, where any app server opens it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run = tasks.run_request(
        kind="alliance", period=parse_period("2026-11"), fmt="csv", by=people["sam"]
    )
    assert run.status == "queued"

    unit = (ROOT / "deploy" / "aid-alliance-worker.service").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M)[1])
    worker = subprocess.run(
        [ROOT / ".venv" / "bin" / "python", *command[1:], "--batch", "--no-startup-delay"],
        cwd=ROOT,
        env=_server_env(TASKS_BACKEND="database"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 0, worker.stderr

    run.refresh_from_db()
    assert (run.status, run.progress, run.error) == ("done", 100, "")
    assert (django_settings.PRIVATE_MEDIA_ROOT / run.file.name).is_file()
    with run.file.open("rb") as made:
        text = made.read().decode("utf-8-sig")
    assert "2026-11" in text
