"""Spreadsheet formulas in every export (issue 10): text that a spreadsheet would run (=, +,
-, @, a tab or a carriage return at the start, after spaces too) gets a leading apostrophe
in CSV and is a string cell in XLSX; numbers, negative ones too, stay numbers."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from cases.review import services as workflow
from reports import exports
from reports.periods import CHINA
from reports.tables import Table
from tests.test_reports import get_bytes
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    " =1+1",
    "\u3000=1",  # an ideographic space, as a Chinese input method types it
]


def is_neutral_csv(cell: str, text: str) -> bool:
    return cell == "'" + text


def xlsx_cells(content: bytes):
    """Every non-empty cell of every sheet, read back by openpyxl (not the writer)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value]


def assert_xlsx_text(content: bytes, text: str):
    # OOXML writes a carriage return as _x000D_, which openpyxl reads back as written.
    stored = text.replace("\r", "_x000D_")
    found = [cell for cell in xlsx_cells(content) if cell.value == stored]
    assert found, text
    for cell in found:
        assert cell.data_type == "s", (cell.coordinate, cell.data_type)
    assert not [cell for cell in xlsx_cells(content) if cell.data_type == "f"]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.fixture
def aided(people):
    """A child with a pledge this year, for the exports to show."""
    application = submitted(people["alice"])
    workflow.review_approve(
        review=review_of(application, 1),
        project=project("P01"),
        amount=Decimal(1000),
        by=people["bob"],
    )
    return application


def period_now() -> str:
    return str(timezone.localtime(timezone.now(), CHINA).year)


@pytest.mark.parametrize("text", PAYLOADS, ids=repr)
def test_the_report_to_authorities_neutralises_formulas(client, people, aided, text):
    child = aided.child
    child.name = text  # e.g. typed in another system and imported: the form trims spaces
    child.save(update_fields=["name"])
    client.force_login(people["sam"])
    url = f"/reports/authorities/?period={period_now()}&format="
    rows = csv_rows(get_bytes(client.get(url + "csv")))
    name_column = exports.AUTHORITY_HEADERS.index("姓名")
    row = next(row for row in rows[1:] if aided.reference in row[1])
    assert is_neutral_csv(row[name_column], text), row[name_column]
    assert_xlsx_text(get_bytes(client.get(url + "xlsx")), text)


@pytest.mark.parametrize("text", PAYLOADS[:5], ids=repr)
def test_the_alliance_report_neutralises_formulas_in_directory_names(client, people, aided, text):
    funded = project("P01")
    funded.name_zh = text
    funded.save(update_fields=["name_zh"])
    member = funded.member
    member.name_zh = "@SUM(A1)"
    member.save(update_fields=["name_zh"])
    client.force_login(people["sam"])
    url = f"/reports/download/?period={period_now()}&format="
    cells = [cell for row in csv_rows(get_bytes(client.get(url + "csv"))) for cell in row]
    assert "'" + text in cells and "'@SUM(A1)" in cells
    assert text not in cells and "@SUM(A1)" not in cells
    content = get_bytes(client.get(url + "xlsx"))
    assert_xlsx_text(content, text)
    assert_xlsx_text(content, "@SUM(A1)")


def test_the_application_list_csv_neutralises_formulas(client, people, aided):
    child = aided.child
    child.name = '=HYPERLINK("http://x","y")'
    child.save(update_fields=["name"])
    client.force_login(people["alice"])
    response = client.get("/applications.csv")
    assert response.status_code == 200
    rows = csv_rows(get_bytes(response))
    assert ["'" + child.name] == [cell for row in rows for cell in row if "HYPERLINK" in cell]


def test_a_negative_amount_stays_a_number_and_text_stays_text():
    assert exports._csv_cell(Decimal("-100.00")) == "-100.00"
    assert exports._csv_cell(-5) == "-5"
    assert exports._csv_cell("-5") == "'-5"  # text that looks like a number is still text
    assert exports._csv_cell("王-1") == "王-1" and exports._csv_cell("") == ""
    target = io.BytesIO()
    table = Table("t", "=title", ["=header"], [["-1+2", Decimal("-100.00"), -5, "+1"]])
    exports.tables_xlsx([table], target, generated_at=timezone.now())
    sheet = openpyxl.load_workbook(io.BytesIO(target.getvalue())).active
    title, header, row = list(sheet.iter_rows())
    assert (title[0].value, title[0].data_type) == ("=title", "s")
    assert (header[0].value, header[0].data_type) == ("=header", "s")
    assert [(cell.value, cell.data_type) for cell in row] == [
        ("-1+2", "s"),
        (-100, "n"),
        (-5, "n"),
        ("+1", "s"),
    ]
