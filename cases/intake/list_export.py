"""The staff application list as one CSV file: every application the list's filters select.

The file is streamed: rows come from a server-side cursor in chunks and leave as lines, so
a million applications never sit in memory (scripts/bench_scale.py measures time and peak
memory). ID numbers are masked as on the list; cells are written like the reports' CSV
(UTF-8 with a byte-order mark, formulas neutralised). Access is recorded before the first
line: one access record per application, written by one INSERT … SELECT over the same
filter, so an export of everything costs one statement, not a row per round trip.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.identity import mask_id_number
from cases.models import AccessRecord, Application
from reports.exports import BOM, csv_line
from reports.periods import CHINA

CHUNK = 2000
VIEW = "list-export"


def headers() -> list[str]:
    return [
        _("Reference"),
        _("Status"),
        _("Entered by member"),
        _("Child's name"),
        _("ID number (masked)"),
        _("Disease category"),
        _("Created"),
        _("Submitted"),
    ]


def record_export(queryset, *, user) -> int:
    """One access record per application of `queryset` (the export's filter), in one
    statement; the number recorded."""
    ids = queryset.order_by().annotate(exported_id=F("pk")).values("exported_id")
    ids_sql, params = ids.query.sql_with_params()
    table = connection.ops.quote_name(AccessRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (application_id, user_id, at, view, detail, chain_hash) "  # noqa: S608 - names from the model
            f"SELECT exported.exported_id, %s, %s, %s, %s, '' FROM ({ids_sql}) AS exported",
            [
                user.pk,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                VIEW,
                "applications csv",
                *params,
            ],
        )
        return cursor.rowcount


def _day(moment) -> str:
    return timezone.localtime(moment, CHINA).date().isoformat() if moment else ""


def csv_lines(queryset) -> Iterator[str]:
    """The file, line by line (access is recorded by the caller first)."""
    statuses = {value: str(label) for value, label in Application.Status.choices}
    rows = queryset.values_list(
        "reference",
        "status",
        "member__name_zh",
        "child__name",
        "child__id_number",
        "category__name_zh",
        "created_at",
        "submitted_at",
        "discarded_at",
    )
    # A discarded draft is listed only for the secretariat, and said so (issue 16).
    discarded_label = _("Discarded draft")
    yield BOM
    yield csv_line(headers())
    for (
        reference,
        status,
        member,
        name,
        id_number,
        category,
        created,
        submitted,
        discarded,
    ) in rows.iterator(chunk_size=CHUNK):
        yield csv_line(
            [
                reference,
                discarded_label if discarded else statuses.get(status, status),
                member,
                name,
                mask_id_number(id_number) if id_number else "",
                category or "",
                _day(created),
                _day(submitted),
            ]
        )
