"""The bench database, set up once for every bench script (bench_application_list,
bench_workflow, bench_reports, bench_scale): the environment of an in-process
production-mode run, the database (created when missing; its name must contain "bench"),
migrated, with the demo directory and users, topped up to the applications wanted."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/aid_alliance_bench"


def configure_environment() -> str:
    """Settings for an in-process production-mode run; returns the database URL."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aid_alliance.settings"
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("HTTPS", "false")  # no redirect to https:// for the test client
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    if "SECRET_KEY" not in os.environ and not (BASE_DIR / ".secret_key").is_file():
        import secrets

        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    for name, file in (
        ("FIELD_ENCRYPTION_KEY", ".field_encryption_key"),
        ("FIELD_HASH_KEY", ".field_hash_key"),
    ):
        if name not in os.environ and not (BASE_DIR / file).is_file():
            import base64

            # Written like `make run` does: a bench database of an earlier run still decrypts.
            key = base64.urlsafe_b64encode(os.urandom(32)).decode()
            (BASE_DIR / file).write_text(key + "\n", encoding="utf-8")
            (BASE_DIR / file).chmod(0o600)
    sys.path.insert(0, str(BASE_DIR))
    return os.environ["DATABASE_URL"]


def ensure_database(url: str) -> bool:
    """Create the bench database if it is missing (connected to `postgres`); True if created."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"The bench needs PostgreSQL, not {config['ENGINE']}.")
    name = config["NAME"]
    if "bench" not in name:
        sys.exit(f"Refusing to fill database {name!r}: its name must contain 'bench'.")
    connection = psycopg.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        connection.close()


def fill(*, count: int, seed: int, batch: int = 5000, route_existing: bool = False) -> dict:
    """Migrate, load the demo directory and users, generate the applications missing (and,
    with route_existing, route those a database filled before routing holds). Django must
    be set up."""
    from django.core.management import call_command

    from cases.models import Application

    call_command("migrate", verbosity=0)
    call_command("load_demo", demo_ok=True, verbosity=0)
    existing = Application.objects.count()
    info = {"existing": existing, "generated": 0, "generation_s": None}
    if existing < count:
        started = time.monotonic()
        call_command(
            "generate_demo_cases", count=count - existing, seed=seed, batch=batch, demo_ok=True
        )
        info["generation_s"] = time.monotonic() - started
        info["generated"] = count - existing
    if route_existing:
        unrouted = Application.objects.filter(status="submitted", reviews__isnull=True).count()
        info["routed"] = unrouted
        started = time.monotonic()
        if unrouted:
            call_command(
                "generate_demo_cases", route_existing=True, seed=seed, batch=batch, demo_ok=True
            )
        info["routing_s"] = time.monotonic() - started
    return info


def vacuum(tables=None) -> float:
    """What autovacuum does on its own sooner or later: planner statistics and a current
    visibility map (index-only scans), so that every run measures the same steady state;
    the freshly inserted pages written out now rather than during the timed requests.
    `tables` None: the whole database. Returns the seconds it took."""
    from django.db import DatabaseError, connection, transaction

    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in tables if tables is not None else [""]:
            cursor.execute(f"VACUUM (ANALYZE) {table}".strip())
        try:
            with transaction.atomic():
                cursor.execute("CHECKPOINT")
        except DatabaseError:  # needs superuser or pg_checkpoint: measure without it
            pass
    return time.monotonic() - started


def verified_client(user):
    """A test client logged in as `user` and, when the role needs a second factor, past it:
    the user's confirmed TOTP device (one is added for the bench user when missing) marked
    in the session as django_otp.login does after a right code."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from organizations import second_factor

    client = Client()
    client.force_login(user)
    if second_factor.required_by_role(user):
        device = second_factor.confirmed_device(user) or TOTPDevice.objects.create(
            user=user, name="bench", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: Linux's VmHWM, the high-water mark of its
    own memory since its exec. Not ru_maxrss: Linux carries that across fork and exec, so a
    measure started from a big parent (make bench fills the database in-process first)
    reported the parent's size (254 MB for the CSV and the PDF alike, 2026-12-06)."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
