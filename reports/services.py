"""Every report file is made here: by the web download, the background task and the command.

`report_write` writes one file for (kind, period, format); the three callers differ only in
where the bytes go. Files of the report to authorities hold personal data: writing one
adds an access record per application included (standard.md §5), "export" when the ID
numbers are masked and "export-full" when the secretariat asked for them in full.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.utils import timezone, translation

from cases.models import AccessRecord
from reports import exports, pdf
from reports.models import ReportRun
from reports.periods import Period, parse_period
from reports.selectors import aided_application_ids, aided_children_count, report_figures
from reports.tables import report_tables

Kind, Format = ReportRun.Kind, ReportRun.Format
ACCESS_BATCH = 2000


class ReportError(ValueError):
    """A report that cannot be made as asked (e.g. a PDF of the report to authorities)."""


def may_export(user) -> bool:
    """Reports and exports are the secretariat's (standard.md §5), and administrators'."""
    return user.is_authenticated and (user.is_superuser or getattr(user, "is_secretariat", False))


def check_request(kind: str, fmt: str, full_ids: bool, by) -> None:
    if not may_export(by):
        raise PermissionDenied
    if kind == Kind.AUTHORITIES and fmt == Format.PDF:
        raise ReportError("The report to authorities is a table: CSV or XLSX.")
    if full_ids and kind != Kind.AUTHORITIES:
        raise ReportError("Only the report to authorities has ID numbers.")


def export_access_record(*, period: Period, by, full_ids: bool, fmt: str) -> int:
    """One access record per application in the report to authorities, in batches."""
    view = "export-full" if full_ids else "export"
    detail = f"authorities {period.code} {fmt}"
    ids = aided_application_ids(period)
    for start in range(0, len(ids), ACCESS_BATCH):
        AccessRecord.objects.bulk_create(
            AccessRecord(application_id=pk, user=by, view=view, detail=detail)
            for pk in ids[start : start + ACCESS_BATCH]
        )
    return len(ids)


def report_csv_lines(*, kind: str, period: Period, full_ids: bool, by) -> Iterator[str]:
    """The CSV as lines, for a streaming response. Access is recorded before the first line."""
    check_request(kind, Format.CSV, full_ids, by)
    if kind == Kind.ALLIANCE:
        return exports.tables_csv(report_tables(report_figures(period)))
    export_access_record(period=period, by=by, full_ids=full_ids, fmt=Format.CSV)
    return exports.authority_csv(exports.authority_rows(period, full_ids=full_ids))


def report_write(
    *,
    kind: str,
    period: Period,
    fmt: str,
    target,
    by,
    full_ids: bool = False,
    progress: Callable[[int], None] = lambda percent: None,
) -> None:
    """Write the file to `target` (a binary file object), in the active language."""
    check_request(kind, fmt, full_ids, by)
    if kind == Kind.ALLIANCE:
        figures = report_figures(period)
        progress(40)
        if fmt == Format.PDF:
            pdf.alliance_report_pdf(figures, target, progress=progress)
        elif fmt == Format.CSV:
            for line in exports.tables_csv(report_tables(figures)):
                target.write(line.encode())
        else:
            exports.tables_xlsx(report_tables(figures), target, generated_at=figures.generated_at)
        return
    total = aided_children_count(period) or 1
    export_access_record(period=period, by=by, full_ids=full_ids, fmt=fmt)
    progress(10)
    rows = exports.authority_rows(period, full_ids=full_ids)
    if fmt == Format.CSV:
        for line in exports.authority_csv(rows):
            target.write(line.encode())
        return

    def on_row(count: int) -> None:
        if count % 1000 == 0:
            progress(10 + 85 * count // total)

    exports.authority_xlsx(rows, target, generated_at=timezone.now(), on_row=on_row)


# --- in the background ------------------------------------------------------------------


def run_execute(*, run_id: int) -> str:
    """The task's work: make the file, keep it, mark the run done (or failed, with why)."""
    run = ReportRun.objects.select_related("requested_by").get(pk=run_id)
    ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.RUNNING, progress=5)

    def progress(percent: int) -> None:
        ReportRun.objects.filter(pk=run.pk).update(progress=min(percent, 99))

    try:
        with translation.override(run.language), tempfile.TemporaryFile() as spool:
            report_write(
                kind=run.kind,
                period=parse_period(run.period),
                fmt=run.format,
                target=spool,
                by=run.requested_by,
                full_ids=run.full_ids,
                progress=progress,
            )
            spool.seek(0)
            run.file.save(run.filename, File(spool), save=False)
    except Exception as exc:
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRun.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRun.Status.DONE, progress=100, file=run.file.name, finished_at=timezone.now()
    )
    return run.file.name


def runs_in_background(kind: str, fmt: str, period: Period) -> bool:
    """The heavy files of a long period: the PDF of the alliance report, the XLSX of the
    report to authorities. CSV streams and the figures' XLSX is small: those are direct."""
    heavy = (kind, fmt) in ((Kind.ALLIANCE, Format.PDF), (Kind.AUTHORITIES, Format.XLSX))
    return heavy and period.is_long
