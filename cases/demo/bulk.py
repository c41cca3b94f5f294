"""Bulk inserts for the demo generator: COPY on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from datetime import date

from django.db import connection

from cases.crypto import EncryptedCharField, KeyedHashField
from cases.models import (
    Allocation,
    Application,
    Child,
    ChildIdentity,
    MemberReview,
    Payment,
    Receipt,
    ReviewEvent,
)


@contextmanager
def explicit_timestamps():
    """Let bulk_create keep the timestamps we set (spread over 2 years): created_at and
    updated_at, the reviews' routed_at and their events' at."""
    fields = [
        Child._meta.get_field("created_at"),
        ChildIdentity._meta.get_field("created_at"),
        Application._meta.get_field("created_at"),
        Application._meta.get_field("updated_at"),
        MemberReview._meta.get_field("routed_at"),
        ReviewEvent._meta.get_field("at"),
        Receipt._meta.get_field("recorded_at"),
        Allocation._meta.get_field("created_at"),
        Payment._meta.get_field("created_at"),
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    try:
        for f in fields:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def insert(model, objs: list) -> None:
    """bulk_create, faster on PostgreSQL: keys drawn from the table's sequence in one query,
    then the rows sent by COPY as text, without the ORM's work per value (the reviews and
    their events are most of the time of 100,000 applications: scripts/bench_reports.py).
    Like bulk_create, each object gets its key, and a row pointing to an object saved just
    before gets that object's key."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=2000)
        return
    if not objs:
        return
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # ID and bank numbers go in encrypted, with their search hashes (cases.crypto).
    stored = [isinstance(f, EncryptedCharField | KeyedHashField) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objs)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        buffer = io.StringIO()
        for obj, key in zip(objs, keys, strict=True):
            obj.pk = key
            obj._state.adding, obj._state.db = False, connection.alias
            values = [str(key)]
            for f, as_stored in zip(fields, stored, strict=True):
                if as_stored:
                    values.append(_copy_text(f.get_db_prep_save(f.pre_save(obj, True), connection)))
                    continue
                value = getattr(obj, f.attname)
                if value is None and f.is_relation and f.is_cached(obj):
                    value = getattr(obj, f.name).pk
                    # Through __dict__: setting the attribute would drop the cached object,
                    # and the next `application.child` would be one query per row.
                    obj.__dict__[f.attname] = value
                values.append(_copy_text(value))
            buffer.write("\t".join(values) + "\n")
        buffer.seek(0)
        sql = f"COPY {table} (id, {columns}) FROM STDIN"  # noqa: S608 - names from the model
        with cursor.cursor.copy(sql) as copy:
            copy.write(buffer.getvalue())


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, date):  # datetimes too: ISO 8601 with their offset
        return value.isoformat()
    # str.replace, not str.translate: translate is slow on long non-ASCII text.
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
