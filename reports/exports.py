"""CSV and XLSX files: the alliance report's tables and the report to authorities (§6).

CSV is UTF-8 with a byte-order mark, so that Excel on a Chinese Windows reads it as UTF-8
instead of GBK; it is produced line by line for StreamingHttpResponse. XLSX is written by
XlsxWriter in constant-memory mode (rows go to disk as they are written), so a year of
rows never sits in memory. Text that a spreadsheet would run as a formula (=, +, -, @ at
the start) is written with a leading apostrophe in CSV and as a string cell in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.utils import timezone, translation

from cases.identity import mask_id_number
from cases.models import Child, Sex
from organizations import regions
from reports.periods import CHINA, Period
from reports.selectors import AidedChild, aided_children
from reports.tables import Table, plain

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The report to authorities: a fixed column order with fixed Chinese headers, the same in
# every language of the interface (the departments' format, not a page of the app).
AUTHORITY_COLUMNS = (
    ("number", "序号"),
    ("references", "申请编号"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("dob", "出生日期"),
    ("id_type", "证件类型"),
    ("id_number", "证件号码"),
    ("region_code", "户籍地区代码"),
    ("region", "户籍地区"),
    ("categories", "疾病类别"),
    ("icd_codes", "诊断编码（ICD-10）"),
    ("members", "救助成员机构"),
    ("projects", "救助项目"),
    ("pledged", "资助金额（元）"),
    ("paid", "已拨付金额（元）"),
    ("submitted", "申请提交日期"),
    ("first_approved", "首次批准资助日期"),
)
AUTHORITY_HEADERS = [header for _, header in AUTHORITY_COLUMNS]
SEPARATOR = "、"


def _csv_cell(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    text = plain(value)
    # Text only: a number (a negative amount too) stays a number. Spreadsheets may trim
    # leading spaces before they read a formula, so " =1" is neutralised as well.
    if isinstance(value, str) and (
        text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START)
    ):
        return "'" + text
    return text


def _csv_line(values: Iterable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_csv_cell(v) for v in values])
    return buffer.getvalue()


# The public name, for the other CSV downloads (cases.intake.list_export).
csv_line = _csv_line


def tables_csv(tables: list[Table]) -> Iterator[str]:
    """Each table as a block: its title, its headers, its rows, then an empty line."""
    yield BOM
    for table in tables:
        yield _csv_line([table.title])
        yield _csv_line(table.headers)
        for row in table.rows:
            yield _csv_line(row)
        yield "\r\n"


class _Sheet:
    """Typed cells: numbers stay numbers (with a format), text stays text, dates are dates."""

    def __init__(self, workbook, name: str):
        self.sheet = workbook.add_worksheet(name)
        self.formats = {
            "int": workbook.add_format({"num_format": "#,##0"}),
            "money": workbook.add_format({"num_format": "#,##0.00"}),
            "days": workbook.add_format({"num_format": "0.0"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "bold": workbook.add_format({"bold": True}),
        }
        self.row = 0

    def write(self, values: Iterable, *, bold: bool = False) -> None:
        for column, value in enumerate(values):
            self._cell(column, value, bold)
        self.row += 1

    def _cell(self, column: int, value, bold: bool) -> None:
        sheet, row, formats = self.sheet, self.row, self.formats
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | Decimal | date):
            sheet.write_string(row, column, str(value), formats["bold"] if bold else None)
        elif isinstance(value, int):
            sheet.write_number(row, column, value, formats["int"])
        elif isinstance(value, Decimal):
            kind = "money" if value.as_tuple().exponent <= -2 else "days"
            sheet.write_number(row, column, float(value), formats[kind])
        else:
            sheet.write_datetime(row, column, value, formats["date"])


def _workbook(target, generated_at: datetime):
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    # A fixed creation time: the same figures give the same file, whoever made it.
    local = timezone.localtime(generated_at, CHINA).replace(tzinfo=None)
    workbook.set_properties({"created": local})
    return workbook


def _sheet_name(title: str, taken: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\")[:31]
    while name in taken:
        name = name[:29] + f"{len(taken):02d}"
    taken.add(name)
    return name


def tables_xlsx(tables: list[Table], target, *, generated_at: datetime) -> None:
    """One sheet per table holding the same rows as its CSV block (title, headers, rows)."""
    workbook = _workbook(target, generated_at)
    taken: set[str] = set()
    for table in tables:
        sheet = _Sheet(workbook, _sheet_name(table.title, taken))
        sheet.write([table.title], bold=True)
        sheet.write(table.headers, bold=True)
        for row in table.rows:
            sheet.write(row)
    workbook.close()


# --- the report to authorities --------------------------------------------------------------


def _labels() -> tuple[dict, dict]:
    with translation.override("zh-hans"):
        return (
            {value: str(label) for value, label in Sex.choices},
            {value: str(label) for value, label in Child.IdType.choices},
        )


def authority_rows(period: Period, *, full_ids: bool) -> Iterator[list]:
    """The rows in AUTHORITY_COLUMNS order; ID numbers masked unless `full_ids`."""
    sexes, id_types = _labels()
    for number, child in enumerate(aided_children(period), start=1):
        yield _authority_row(number, child, full_ids, sexes, id_types)


def _authority_row(number: int, child: AidedChild, full_ids: bool, sexes, id_types) -> list:
    return [
        number,
        SEPARATOR.join(child.references),
        child.name,
        sexes.get(child.sex, child.sex),
        child.dob,
        id_types.get(child.id_type, child.id_type),
        child.id_number if full_ids else mask_id_number(child.id_number),
        child.region_code,
        regions.name_of(child.region_code) if child.region_code else "",
        SEPARATOR.join(child.categories),
        SEPARATOR.join(child.icd_codes),
        SEPARATOR.join(child.members),
        SEPARATOR.join(child.projects),
        child.pledged,
        child.paid,
        child.submitted,
        child.first_approved,
    ]


def authority_csv(rows: Iterable[list]) -> Iterator[str]:
    yield BOM
    yield _csv_line(AUTHORITY_HEADERS)
    for row in rows:
        yield _csv_line(row)


def authority_xlsx(
    rows: Iterable[list],
    target,
    *,
    generated_at: datetime,
    on_row: Callable[[int], None] | None = None,
) -> None:
    workbook = _workbook(target, generated_at)
    sheet = _Sheet(workbook, "救助儿童")
    sheet.write(AUTHORITY_HEADERS, bold=True)
    for count, row in enumerate(rows, start=1):
        sheet.write(row)
        if on_row is not None:
            on_row(count)
    workbook.close()
