"""Index changes that leave a big table open to writes while they run, and tables kept by
triggers, for migrations.

On PostgreSQL, `CREATE INDEX` blocks every write to the table while it builds, and
dropping a foreign key's index through `AlterField(db_index=False)` also drops and adds the
constraint again, under ACCESS EXCLUSIVE locks on both tables until the migration commits
(the review of issue 18 found both on the applications and the access records). These
operations build and drop indexes CONCURRENTLY there (the migration must say
`atomic = False`); SQLite, for development and CI, gets the plain statements.
"""

from __future__ import annotations

from django.contrib.postgres.operations import (
    AddIndexConcurrently,
    NotInTransactionMixin,
    RemoveIndexConcurrently,
)
from django.db import migrations
from django.db.migrations.operations import AddConstraint, AddIndex, RemoveIndex


def _online(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class _Online:
    """The CONCURRENTLY operation (the next class in the MRO) on PostgreSQL, `plain`'s
    statements elsewhere."""

    plain: type

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _online(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _online(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexOnline(_Online, AddIndexConcurrently):
    """AddIndex, CONCURRENTLY on PostgreSQL."""

    plain = AddIndex


class RemoveIndexOnline(_Online, RemoveIndexConcurrently):
    """RemoveIndex, CONCURRENTLY on PostgreSQL."""

    plain = RemoveIndex


class AddPartialUniqueOnline(NotInTransactionMixin, AddConstraint):
    """AddConstraint of a UniqueConstraint with a condition, which the database holds as a
    unique index: built CONCURRENTLY on PostgreSQL (Django's AddConstraint would block the
    table's writes while it builds), plainly elsewhere. Like every CONCURRENTLY build, one
    that fails leaves an INVALID index to drop before the migration runs again."""

    def _model(self, app_label, schema_editor, state):
        """The model, when this database migrates it (as Django's online operations ask)."""
        self._ensure_not_in_transaction(schema_editor)
        model = state.apps.get_model(app_label, self.model_name)
        return model if self.allow_migrate_model(schema_editor.connection.alias, model) else None

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _online(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = self._model(app_label, schema_editor, to_state)
        if model is None:
            return None
        sql = str(self.constraint.create_sql(model, schema_editor))
        if self.constraint.condition is None or not sql.startswith("CREATE UNIQUE INDEX "):
            raise ValueError("a unique constraint with a condition (a partial unique index)")
        online = sql.replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX CONCURRENTLY ", 1)
        schema_editor.execute(online)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _online(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        if self._model(app_label, schema_editor, from_state) is None:
            return None
        quoted = schema_editor.quote_name(self.constraint.name)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")


def _single_column_index(schema_editor, table: str, column: str) -> str | None:
    """The name of the plain index on just this column, as the database has it."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        plain = info["index"] and not (info["unique"] or info["primary_key"] or info["foreign_key"])
        if plain and info["columns"] == [column]:
            return name
    return None


def drop_field_index(app_label: str, model_name: str, field_name: str) -> migrations.RunPython:
    """The database's side of a field's `db_index=False` (the state's AlterField goes with
    it, in SeparateDatabaseAndState): its index dropped alone, CONCURRENTLY on PostgreSQL,
    the foreign key's constraint left as it is."""

    def field(apps):
        model = apps.get_model(app_label, model_name)
        return model, model._meta.get_field(field_name)

    def forwards(apps, schema_editor):
        model, column = field(apps)
        name = _single_column_index(schema_editor, model._meta.db_table, column.column)
        if name is not None:
            concurrently = " CONCURRENTLY" if _online(schema_editor) else ""
            quoted = schema_editor.quote_name(name)
            schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {quoted}")

    def backwards(apps, schema_editor):
        model, column = field(apps)
        online = {"concurrently": True} if _online(schema_editor) else {}
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[column], **online))

    return migrations.RunPython(forwards, backwards)


def kept_by_triggers(
    *, table: str, postgresql: str, postgresql_drop: str, sqlite, sqlite_drop, fill: str
) -> migrations.RunPython:
    """A table the database keeps from another by triggers (ReviewCount, Pledged): the
    triggers for the database at hand (a script on PostgreSQL, statements on SQLite), then
    the table emptied and filled from what is there; backwards, the triggers dropped."""

    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgresql)
        elif vendor == "sqlite":
            for statement in sqlite:
                schema_editor.execute(statement)
        else:
            raise NotImplementedError(f"the triggers keeping {table} on {vendor}")
        schema_editor.execute(f"DELETE FROM {table}")  # noqa: S608 - the migration's own table
        schema_editor.execute(fill)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(postgresql_drop)
        else:
            for statement in sqlite_drop:
                schema_editor.execute(statement)

    return migrations.RunPython(forwards, backwards)
