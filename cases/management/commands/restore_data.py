"""Restore a backup (backup_data) into a fresh, empty database and media folder, then
check every count of the manifest against what was restored."""

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import dj_database_url
from django.core.management.base import BaseCommand, CommandError

from cases.management.commands.backup_data import COUNTED, pg_env, sha256, tool


class Command(BaseCommand):
    help = "Restore a backup folder into an empty database (--database-url) and media folder."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True)
        parser.add_argument("--database-url", required=True, help="an existing, empty database")
        parser.add_argument("--media-root", required=True, help="a new or empty folder")

    def handle(self, *args, input, database_url, media_root, **options):
        folder = Path(input)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for name, digest in manifest["files"].items():
            if sha256(folder / name) != digest:
                raise CommandError(f"{name} does not match the manifest: the backup is damaged")
        target = dj_database_url.parse(database_url)
        if manifest["vendor"] == "postgresql":
            args, env = pg_env(target)
            subprocess.run(  # noqa: S603 - arguments from the command line of an operator
                [
                    tool("pg_restore"),
                    "--no-owner",
                    "--exit-on-error",
                    *args,
                    "-d",
                    target["NAME"],
                    str(folder / "database.dump"),
                ],
                check=True,
                env=env,
            )
        else:
            with (
                sqlite3.connect(folder / "database.sqlite3") as source,
                sqlite3.connect(target["NAME"]) as copy,
            ):
                source.backup(copy)
        media = Path(media_root)
        media.mkdir(parents=True, exist_ok=True)
        if any(media.iterdir()):
            raise CommandError(f"{media} is not empty")
        with (
            tempfile.TemporaryDirectory() as scratch,
            tarfile.open(folder / "private-media.tar.gz") as archive,
        ):
            archive.extractall(scratch, filter="data")  # no absolute paths, links or devices
            unpacked = Path(scratch) / "private-media"
            if unpacked.exists():
                shutil.copytree(unpacked, media, dirs_exist_ok=True)
        counts = self._counts(target, manifest["counts"])
        if counts != manifest["counts"]:
            raise CommandError(
                f"restored counts {counts} differ from the backup's {manifest['counts']}"
            )
        self.stdout.write(f"restored and checked: {counts}")

    def _counts(self, target: dict, expected: dict) -> dict:
        tables = {name: model._meta.db_table for name, model in COUNTED.items()}
        if target["ENGINE"].endswith("sqlite3"):
            with sqlite3.connect(target["NAME"]) as db:
                return {
                    name: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                    for name, table in tables.items()
                }
        import psycopg

        with (
            psycopg.connect(
                dbname=target["NAME"],
                host=target.get("HOST") or None,
                port=target.get("PORT") or None,
                user=target.get("USER") or None,
                password=target.get("PASSWORD") or None,
            ) as db,
            db.cursor() as cursor,
        ):
            result = {}
            for name, table in tables.items():
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - our table names
                result[name] = cursor.fetchone()[0]
            return result
