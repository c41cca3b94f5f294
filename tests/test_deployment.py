"""Several app servers (issue 9): the reports read on a streaming replica when there is one,
the settings that move the cache and the private files to shared services, and the deploy/
folder kept in step with the settings. Two real app servers: tests/test_multi_server.py."""

import io
import re
import runpy
import shlex
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command, load_command_class
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from aid_alliance.routing import REPLICA, ReportReplicaRouter, replica_reads
from cases.models import AccessRecord, Application
from organizations.models import MemberOrganization
from reports import services
from reports.periods import parse_period
from reports.selectors import report_figures
from tests.test_settings_and_commands import STRONG_KEY, manage

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
YEAR = parse_period("2026")


def generate(count=30):
    call_command(
        "generate_demo_cases",
        f"--count={count}",
        "--seed=11",
        "--until=2026-11-20",
        "--workers=1",  # no forked workers next to this test's extra connection
        "--i-know-this-is-demo",
        stdout=io.StringIO(),
    )


@pytest.fixture(scope="class")
def replica_alias(django_db_setup):
    """A second alias on the test database, a connection of its own, as Django's TEST
    MIRROR makes of DATABASE_REPLICA_URL: it sees what the primary committed. Added before
    the tests' database access is set up (class scope), so that they may use it."""
    connections.settings[REPLICA] = {
        **connections[DEFAULT_DB_ALIAS].settings_dict,
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
    }
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def replica(replica_alias, transactional_db):
    return connections[REPLICA]


def sql(queries) -> str:
    return "\n".join(query["sql"] for query in queries)


# --- the replica ---------------------------------------------------------------------------


@pytest.mark.usefixtures("replica_alias")
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
class TestWithAReplica:
    def test_the_report_figures_are_read_on_the_replica_and_nothing_on_the_primary(
        self, replica, people
    ):
        generate()
        with (
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
            CaptureQueriesContext(replica) as standby,
        ):
            figures = report_figures(YEAR)
        start, end = YEAR.bounds()
        received = Application.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        assert figures.received == received.count() > 0
        assert len(primary) == 0
        assert "cases_memberreview" in sql(standby) and "cases_application" in sql(standby)

    def test_an_export_reads_on_the_replica_and_writes_its_access_records_on_the_primary(
        self, replica, people
    ):
        generate()
        with (
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
            CaptureQueriesContext(replica) as standby,
        ):
            lines = list(
                services.report_csv_lines(
                    kind="authorities", period=YEAR, full_ids=False, by=people["sam"]
                )
            )
        recorded = AccessRecord.objects.filter(view="export", user=people["sam"]).count()
        assert recorded > 0 and len(lines) > 2  # the byte-order mark, the headers, the children
        assert 'INSERT INTO "cases_accessrecord"' in sql(primary)
        assert "cases_memberreview" not in sql(primary)
        # The applications for the access record, then the children's rows, streamed.
        assert sql(standby).count("cases_memberreview") >= 2
        assert "INSERT" not in sql(standby)

    def test_the_dashboard_keeps_the_replicas_figures_until_a_commit_through_a_service(
        self, replica, people, client
    ):
        """Real commits here (no test transaction): the service's commit sets the new
        generation (reports.figures_cache)."""
        from reports import figures_cache
        from tests.test_report_figures_cache import figures_part, part_of
        from tests.test_workflow import submitted

        generate()
        client.force_login(people["sam"])
        assert client.get("/reports/?period=2026").status_code == 200
        with CaptureQueriesContext(replica) as standby:
            client.get("/reports/?period=2026")
        assert "reports_" not in sql(standby) and "cases_" not in sql(standby), "cached"
        before = figures_cache.generation()
        submitted(people["alice"])  # today, in 2026
        after = figures_cache.generation()
        assert after != before
        with CaptureQueriesContext(replica) as standby:
            page = client.get("/reports/?period=2026").content.decode()
        assert "cases_" in sql(standby) or "reports_" in sql(standby), "read again"
        assert part_of(page).startswith(figures_part("2026").strip())

    def test_an_object_read_on_the_replica_is_saved_on_the_primary(self, replica, people):
        with replica_reads():
            member = MemberOrganization.objects.get(number=1)
        assert member._state.db == REPLICA
        member.name_en = "Renamed on the primary"
        with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary:
            member.save()
        assert 'UPDATE "organizations_memberorganization"' in sql(primary)
        assert MemberOrganization.objects.get(number=1).name_en == "Renamed on the primary"


@pytest.mark.django_db
def test_without_a_replica_the_reports_read_on_the_primary(people):
    router = ReportReplicaRouter()
    assert REPLICA not in django_settings.DATABASES
    with replica_reads():
        assert router.db_for_read(Application) is None
    with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary:
        report_figures(YEAR)
    assert "cases_memberreview" in sql(primary)
    # The replica follows the primary's tables: migrations never run there.
    assert router.allow_migrate(REPLICA, "cases") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "cases") is True


# --- settings ------------------------------------------------------------------------------

SHOW = (
    "from django.conf import settings; from cases.models import Document; "
    "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['KEY_PREFIX'], "
    "settings.SESSION_ENGINE.rsplit('.', 1)[1], settings.AUTH_USER_CACHE); "
    "replica = settings.DATABASES.get('replica', {}); "
    "print(sorted(settings.DATABASES), replica.get('TEST', {}).get('MIRROR')); "
    "print(type(Document._meta.get_field('file').storage).__name__)"
)


def test_by_default_the_cache_is_the_database_and_private_files_a_folder():
    result = manage("shell", "-c", SHOW, DEBUG="true", SECRET_KEY=STRONG_KEY, DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    cache, databases, storage = result.stdout.splitlines()[-3:]
    assert cache == "django.core.cache.backends.db.DatabaseCache  db False"
    assert databases == "['default'] None"
    assert storage == "FileSystemStorage"


def test_redis_a_replica_and_another_storage_come_from_the_environment():
    result = manage(
        "shell",
        "-c",
        SHOW,
        DEBUG="true",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL="",
        REDIS_URL="redis://127.0.0.1:6379/3",
        CACHE_KEY_PREFIX="aid-one",
        DATABASE_REPLICA_URL="postgres://reader@10.0.0.22:5432/aid_alliance",
        PRIVATE_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
        PRIVATE_STORAGE_OPTIONS='{"location": "private"}',
    )
    assert result.returncode == 0, result.stderr
    cache, databases, storage = result.stdout.splitlines()[-3:]
    # Sessions read from Redis (aid_alliance.session_store, Django's cached_db) and written
    # through to the database; users read from Redis.
    assert cache == "aid_alliance.cache.ReusedClientRedisCache aid-one session_store True"
    assert databases == "['default', 'replica'] default"
    assert storage == "InMemoryStorage"


def test_storage_options_that_are_not_a_json_object_fail_loudly():
    result = manage(
        "check",
        DEBUG="true",
        SECRET_KEY=STRONG_KEY,
        PRIVATE_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
        PRIVATE_STORAGE_OPTIONS="bucket=private",
    )
    assert result.returncode != 0
    assert "PRIVATE_STORAGE_OPTIONS='bucket=private' is not a JSON object" in result.stderr


# --- deploy/ -------------------------------------------------------------------------------


def variables_read(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found = re.findall(r'(?:env_\w+|_field_key|environ\.get)\(\s*"([A-Z][A-Z0-9_]*)"', text)
    return set(found)


def test_the_environment_file_example_lists_every_variable_the_settings_read():
    listed = set(
        re.findall(
            r"^#? ?([A-Z][A-Z0-9_]*)=",
            (DEPLOY / "aid-alliance.env.example").read_text(encoding="utf-8"),
            re.M,
        )
    )
    read = variables_read(ROOT / "aid_alliance" / "settings.py")
    read |= variables_read(DEPLOY / "gunicorn.conf.py")
    assert {"DATABASE_URL", "REDIS_URL", "GUNICORN_BIND"} <= read  # the search works
    assert read - listed == set()


def test_nginx_takes_a_document_of_the_largest_size_and_serves_no_private_file():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    size = re.search(r"^\s*client_max_body_size (\d+)m;", conf, re.M)[1]
    assert django_settings.DOCUMENT_MAX_BYTES < int(size) * 1024 * 1024
    served = re.findall(r"^\s*(?:alias|root)\s+(\S+);", conf, re.M)
    assert served == ["/srv/aid-alliance/staticfiles/"]
    upstream = re.search(r"upstream aid_alliance_app \{(.*?)\}", conf, re.S)[1]
    assert len(re.findall(r"^\s*server ", upstream, re.M)) == 2
    # The app counts the address nginx appends: one trusted proxy.
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf
    assert "TRUSTED_PROXY_COUNT=1" in conf


def test_gunicorn_allows_a_pdf_its_time_and_recycles_workers_at_different_moments():
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["timeout"] >= 60 and config["graceful_timeout"] < config["timeout"]
    assert config["workers"] >= 1
    assert config["max_requests"] > 0 and 0 < config["max_requests_jitter"] < config["max_requests"]
    # A new worker's start (the app's import, its pages built live once) is spread over its
    # requests: at a thousand it cost about a millisecond of each (issue 18).
    assert config["max_requests"] >= 10_000
    assert config["control_socket_disable"] is True  # two instances on one host


def test_the_worker_unit_runs_the_task_worker_with_options_it_accepts(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    unit = (DEPLOY / "aid-alliance-worker.service").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M)[1])
    assert command[1:3] == ["manage.py", "db_worker"]
    worker = load_command_class("django_tasks_db", "db_worker")
    options = worker.create_parser("manage.py", "db_worker").parse_args(command[3:])
    assert (options.queue_name, options.reload) == ("default", False)
