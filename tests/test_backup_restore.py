"""Recovery (standard.md §5 and the privacy issue): a backup restored into a fresh database
and media folder holds every application, document, history and access row, and every
uploaded file byte for byte."""

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from cases import audit
from cases.bills import services as bills
from cases.intake import services
from cases.models import AccessRecord, Application, ApplicationEvent, Document
from tests.intake_data import PDF_BYTES
from tests.test_bills import RECEIPT
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings):
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def data(people, media):
    application = submitted(people["alice"])
    services.document_upload(
        application=application,
        doc_type="other",
        flag="",
        upload=SimpleUploadedFile("scan.pdf", PDF_BYTES),
        by=people["alice"],
    )
    audit.access_record(application=application, user=people["bob"], view="detail")
    bills.receipt_record(application=application, by=people["bob"], **RECEIPT)
    return application


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database next to the test database, dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    settings_dict = connection.settings_dict
    host = settings_dict.get("HOST") or "127.0.0.1"
    user = settings_dict.get("USER") or "root"
    port = settings_dict.get("PORT") or 5432
    subprocess.run(["createdb", "-h", host, "-p", str(port), "-U", user, name], check=True)
    yield f"postgres://{user}@{host}:{port}/{name}"
    subprocess.run(["dropdb", "-h", host, "-p", str(port), "-U", user, name], check=True)


def counts():
    return {
        "applications": Application.objects.count(),
        "documents": Document.objects.count(),
        "history": ApplicationEvent.objects.count(),
        "access_records": AccessRecord.objects.count(),
    }


def restore_target(tmp_path, request):
    if connection.vendor == "postgresql":
        return request.getfixturevalue("fresh_database")
    return f"sqlite:///{tmp_path / 'restored.sqlite3'}"


def test_a_backup_restores_into_a_fresh_database_with_every_row_and_file(
    data, media, tmp_path, request
):
    backup = tmp_path / "backup"
    call_command("backup_data", output=str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["counts"]["applications"] == 1
    assert {k: manifest["counts"][k] for k in counts()} == counts()
    restored_media = tmp_path / "restored-media"
    call_command(
        "restore_data",
        input=str(backup),
        database_url=restore_target(tmp_path, request),
        media_root=str(restored_media),
    )
    # Every uploaded file is back, byte for byte.
    for document in Document.objects.all():
        original = Path(media) / document.file.name
        copy = restored_media / document.file.name
        assert copy.read_bytes() == original.read_bytes() == PDF_BYTES


def test_a_damaged_backup_is_refused(data, tmp_path, request):
    backup = tmp_path / "backup"
    call_command("backup_data", output=str(backup))
    dump = next(p for p in backup.iterdir() if p.name.startswith("database."))
    dump.write_bytes(dump.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CommandError, match="damaged"):
        call_command(
            "restore_data",
            input=str(backup),
            database_url=restore_target(tmp_path, request),
            media_root=str(tmp_path / "m"),
        )


def test_a_backup_goes_only_into_an_empty_folder(data, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup_data", output=str(tmp_path / "used"))
