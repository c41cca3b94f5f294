"""The migrations that change indexes on the busiest tables leave them open to writes on
PostgreSQL (aid_alliance/migration_ops.py): no constraint dropped and added again, every
index built or dropped CONCURRENTLY; SQLite gets the plain statements."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

# sqlmigrate of a non-atomic migration cannot run inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

ONLINE = [
    ("cases", "0018_review_info_requested_index"),
    ("cases", "0020_application_member_list_index"),
    ("cases", "0023_access_record_lookups_for_sealed_records"),
]


def sql_of(app: str, migration: str, *, backwards: bool = False) -> str:
    out = io.StringIO()
    call_command("sqlmigrate", app, migration, backwards=backwards, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("app", "migration"), ONLINE)
def test_an_index_is_built_without_blocking_writes(app, migration):
    forwards = sql_of(app, migration)
    assert "CREATE INDEX" in forwards
    if connection.vendor == "postgresql":
        assert "CREATE INDEX CONCURRENTLY" in forwards
    else:
        assert "CONCURRENTLY" not in forwards


def test_the_access_records_indexes_go_without_their_foreign_keys():
    """0019 drops the two single-column indexes and nothing else: an AlterField to
    db_index=False dropped and added both foreign keys again, under the strongest locks."""
    from cases.models import AccessRecord

    assert "CONSTRAINT" not in sql_of("cases", "0019_access_record_without_redundant_indexes")
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AccessRecord._meta.db_table)
    single = sorted(
        info["columns"][0]
        for info in constraints.values()
        if info["index"] and not info["unique"] and len(info["columns"]) == 1
    )
    assert "application_id" not in single and "user_id" not in single
    # 0021 then drops the two foreign keys themselves, on purpose (db_constraint=False):
    # checking them at commit was half the database's work for a list page's records.
    foreign = sorted(info["columns"][0] for info in constraints.values() if info["foreign_key"])
    assert foreign == []


def _access_indexes() -> dict:
    from cases.models import AccessRecord

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AccessRecord._meta.db_table)
    return {name: info for name, info in constraints.items() if not info["primary_key"]}


def test_the_access_records_look_ups_hold_sealed_records_and_go_back(people):
    """0023: the look-up indexes become partial (sealed records), chain_seq's uniqueness
    with them; backwards, the full indexes and the unique constraint come back."""
    from django.db import IntegrityError, transaction
    from django.db.migrations.executor import MigrationExecutor

    from cases.models import AccessRecord

    def migrate(targets=None):
        executor = MigrationExecutor(connection)
        executor.migrate(targets or executor.loader.graph.leaf_nodes())

    before = [("cases", "0022_pledged_totals")]
    try:
        migrate(before)
        indexes = _access_indexes()
        assert {"cases_access_app_at", "cases_access_user_at", "cases_access_view_at"} <= set(
            indexes
        )
        assert "cases_access_sealed_app" not in indexes
        assert ["at"] in [info["columns"] for info in indexes.values() if not info["unique"]]
        [unique] = [name for name, info in indexes.items() if info["unique"]]
        assert indexes[unique]["columns"] == ["chain_seq"] and unique != "cases_access_sealed_seq"
        migrate()
        indexes = _access_indexes()
        assert "cases_access_app_at" not in indexes
        assert ["at"] not in [info["columns"] for info in indexes.values()]
        assert {"cases_access_sealed_app", "cases_access_sealed_seq"} <= set(indexes)
        assert [info["columns"] for info in indexes.values() if info["unique"]] == [["chain_seq"]]
    finally:
        migrate()
    # Unsealed records share the NULL; two sealed ones never share a place in the chain.
    rows = {"application_id": 1, "user": people["alice"], "view": "detail"}
    AccessRecord.objects.bulk_create([AccessRecord(**rows), AccessRecord(**rows)])
    AccessRecord.objects.bulk_create([AccessRecord(**rows, chain_seq=1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessRecord.objects.bulk_create([AccessRecord(**rows, chain_seq=1)])
