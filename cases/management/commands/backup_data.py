"""Back up the database and the uploaded files into one folder, with a manifest to check
a restore against (README: Backup and restore)."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from cases.models import AccessRecord, Application, ApplicationEvent, Document, Receipt

COUNTED = {
    "applications": Application,
    "documents": Document,
    "history": ApplicationEvent,
    "access_records": AccessRecord,
    "receipts": Receipt,
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tool(name: str) -> str:
    """The PostgreSQL client program, by its full path."""
    found = shutil.which(name)
    if not found:
        raise CommandError(f"{name} is missing: apt-get install postgresql-client")
    return found


def pg_env(db: dict) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump / pg_restore; the password only in the environment."""
    args = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = {"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {}
    return args, {**os.environ, **env}


class Command(BaseCommand):
    help = "Write database.dump (or database.sqlite3), private-media.tar.gz and manifest.json."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="a new or empty folder")

    def handle(self, *args, output, **options):
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        if any(folder.iterdir()):
            raise CommandError(f"{folder} is not empty: back up into a new folder")
        db = settings.DATABASES["default"]
        if connection.vendor == "postgresql":
            dump = folder / "database.dump"
            args, env = pg_env(db)
            # Custom format: compressed, and pg_restore can restore it into any database.
            command = [tool("pg_dump"), "--format=custom", "--no-owner", *args, "-f", str(dump)]
            subprocess.run([*command, db["NAME"]], check=True, env=env)  # noqa: S603 - settings
        elif connection.vendor == "sqlite":
            dump = folder / "database.sqlite3"
            # SQLite's online backup: a consistent copy while the app keeps running.
            with sqlite3.connect(db["NAME"]) as source, sqlite3.connect(dump) as target:
                source.backup(target)
        else:  # pragma: no cover
            raise CommandError(f"no backup for {connection.vendor}")
        media = folder / "private-media.tar.gz"
        root = Path(settings.PRIVATE_MEDIA_ROOT)
        with tarfile.open(media, "w:gz") as archive:
            if root.exists():
                archive.add(root, arcname="private-media")
        manifest = {
            "made_at": timezone.now().isoformat(),
            "vendor": connection.vendor,
            "counts": {name: model.objects.count() for name, model in COUNTED.items()},
            "files": {path.name: sha256(path) for path in (dump, media)},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        self.stdout.write(f"backup written to {folder}: {manifest['counts']}")
