"""On PostgreSQL the app talks through psycopg 3 with server-side binding, and a statement a
connection has run five times is prepared: PostgreSQL then neither parses nor plans it again
(aid_alliance/settings.py, issue 18). DB_PREPARED_STATEMENTS=false turns both off."""

import pytest
from django.db import connection

from cases.family import selectors as family_status
from tests.test_workflow import submitted

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
    ),
]


def prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {statement for (statement,) in cursor.fetchall()}


def test_the_family_pages_read_is_prepared_after_five_runs_and_reads_fresh_rows(people):
    application = submitted(people["alice"])
    connection.ensure_connection()
    assert connection.connection.prepare_threshold == 5
    before = prepared()
    for _ in range(6):
        view = family_status.family_view(application.pk)
    new = prepared() - before
    # The read of the application with its reviews (aliased values, the key bound as $1).
    assert any('"cases_application"."reference" AS "reference"' in sql for sql in new), new
    assert all("$1" in sql for sql in new)
    assert view.reference == application.reference
    # Prepared is the statement, not its rows: another key reads its own.
    other = submitted(people["carol"], sequence="125")
    assert family_status.family_view(other.pk).reference == other.reference


def test_the_setting_turns_it_off(monkeypatch):
    import importlib

    from aid_alliance import settings as project_settings

    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "false")
    try:
        reloaded = importlib.reload(project_settings)
        assert "prepare_threshold" not in reloaded.DATABASES["default"].get("OPTIONS", {})
        assert reloaded.PG_OPTIONS == {}
    finally:
        monkeypatch.delenv("DB_PREPARED_STATEMENTS")
        reloaded = importlib.reload(project_settings)
    assert reloaded.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 5
