"""The secretariat's reports (standard.md §6) on generated data: the figures against an
independent count, and the dashboard, CSV, XLSX and PDF showing the same numbers."""

import csv
import io
import statistics
import subprocess
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone, translation

from cases.models import Application, MemberReview, Payment
from organizations.models import MemberOrganization
from reports.periods import CHINA, PeriodError, parse_period
from reports.selectors import report_figures
from reports.tables import display, plain

pytestmark = pytest.mark.django_db

UNTIL = "2026-11-20"
PLEDGING = set(MemberReview.PLEDGING_STATES)


def generate(count=160, seed=7, until=UNTIL):
    call_command(
        "generate_demo_cases",
        f"--count={count}",
        f"--seed={seed}",
        f"--until={until}",
        "--i-know-this-is-demo",
        stdout=io.StringIO(),
    )


@pytest.fixture
def generated(people):
    generate()


def as_secretariat(client, people):
    client.force_login(people["sam"])
    return client


def get_bytes(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return b"".join(response) if hasattr(response, "file_to_stream") else response.content


def csv_blocks(content: bytes) -> list[list[list[str]]]:
    """The report CSV's tables: each a list of rows (title, headers, rows)."""
    assert content.startswith("\ufeff".encode()), "UTF-8 with a byte-order mark, for Excel"
    blocks, block = [], []
    for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
        if row:
            block.append(row)
        elif block:
            blocks.append(block)
            block = []
    return blocks


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def xlsx_cell_matches(cell, text: str) -> bool:
    if cell is None:
        return text == ""
    if isinstance(cell, int | float):
        return Decimal(text) == Decimal(str(cell)) or float(text) == cell
    if hasattr(cell, "date"):
        return cell.date().isoformat() == text
    return str(cell) == text


# --- periods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "first", "end"),
    [
        ("2026-11", "2026-11", date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-1", "2026-01", date(2026, 1, 1), date(2026, 2, 1)),
        ("2026-Q4", "2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        (" 2026q1 ", "2026-Q1", date(2026, 1, 1), date(2026, 4, 1)),
        ("2026", "2026", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_a_period_is_a_month_a_quarter_or_a_year(text, code, first, end):
    period = parse_period(text)
    assert (period.code, period.first_day, period.end_day) == (code, first, end)
    start, stop = period.bounds()
    assert start.utcoffset().total_seconds() == 8 * 3600  # midnight in Beijing
    assert (start.date(), stop.date()) == (first, end)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-Q5", "26", "2026/11", "1999", "x" * 50])
def test_a_bad_period_is_refused_with_a_message(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_an_application_submitted_late_on_30_september_in_beijing_is_in_q3(people):
    from tests.test_workflow import submitted

    application = submitted(people["alice"])
    # 23:30 in Beijing is 15:30 UTC: still 30 September where the alliance works.
    moment = timezone.datetime(2026, 9, 30, 23, 30, tzinfo=CHINA)
    Application.objects.filter(pk=application.pk).update(submitted_at=moment)
    assert report_figures(parse_period("2026-Q3")).received == 1
    assert report_figures(parse_period("2026-Q4")).received == 0


# --- the figures against an independent count -----------------------------------------------


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def expected_figures(code: str) -> dict:
    """The report's definitions (reports/selectors.py), counted here in plain Python."""
    period = parse_period(code)
    applications = [
        a
        for a in Application.objects.select_related("child", "member").prefetch_related(
            "reviews__payments__reversal"
        )
        if a.submitted_at
        and period.first_day <= timezone.localtime(a.submitted_at, CHINA).date() < period.end_day
    ]
    reviews = [r for a in applications for r in a.reviews.all()]
    pledges = [r for r in reviews if r.state in PLEDGING]
    decision, payment = [], []
    for a in applications:
        decided = [r.decided_at for r in a.reviews.all() if r.decided_at]
        if decided:
            seconds = Decimal((min(decided) - a.submitted_at).total_seconds())
            decision.append(seconds / 86400)
        paid_on = [
            p.paid_on
            for r in a.reviews.all()
            for p in r.payments.all()
            if p.reverses_id is None and not hasattr(p, "reversal")
        ]
        if paid_on:
            submitted_on = timezone.localtime(a.submitted_at, CHINA).date()
            payment.append((min(paid_on) - submitted_on).days)
    by_member = {}
    for member in MemberOrganization.objects.all():
        mine = [r for r in reviews if r.member_id == member.pk]
        mine_pledges = [r for r in mine if r.state in PLEDGING]
        by_member[member.name_zh] = [
            sum(1 for a in applications if a.member_id == member.pk),
            len(mine),
            len(mine_pledges),
            sum(1 for r in mine if r.state == "declined"),
            len({r.application.child_id for r in mine_pledges}),
            sum((r.amount or 0 for r in mine_pledges), Decimal("0.00")),
            sum((r.paid_total for r in mine_pledges), Decimal("0.00")),
        ]
    return {
        "received": len(applications),
        "routed": sum(1 for a in applications if a.reviews.all()),
        "funded": sum(1 for a in applications if {r.state for r in a.reviews.all()} & PLEDGING),
        "pledges": len(pledges),
        "declined": sum(1 for r in reviews if r.state == "declined"),
        "children": len({r.application.child_id for r in pledges}),
        "pledged": sum((r.amount or 0 for r in pledges), Decimal("0.00")),
        "paid": sum((r.paid_total for r in pledges), Decimal("0.00")),
        "decision_days": _half_up(statistics.median(decision)) if decision else None,
        "payment_days": _half_up(Decimal(statistics.median(payment))) if payment else None,
        "reasons": Counter(r.decline_reason for r in reviews if r.state == "declined"),
        "by_member": by_member,
    }


@pytest.mark.parametrize("code", ["2026", "2025-Q3", "2026-03"])
def test_the_figures_match_an_independent_count_of_generated_applications(generated, code):
    expected = expected_figures(code)
    with translation.override("zh-hans"):
        figures = report_figures(parse_period(code))
    assert expected["received"] > 0
    for name in ("received", "routed", "funded", "pledges", "declined", "children"):
        assert getattr(figures, name) == expected[name], name
    assert (figures.pledged, figures.paid) == (expected["pledged"], expected["paid"])
    assert figures.decision_days == expected["decision_days"]
    assert figures.payment_days == expected["payment_days"]
    assert {line.key: line.declined for line in figures.by_decline_reason if line.declined} == {
        reason: n for reason, n in expected["reasons"].items()
    }
    assert {
        m.label: [m.received, m.routed, m.pledges, m.declined, m.children, m.pledged, m.paid]
        for m in figures.by_member
    } == expected["by_member"]
    # Every breakdown adds up to the totals it splits.
    assert sum(c.received for c in figures.by_category) == figures.received
    assert sum(p.received for p in figures.by_province) == figures.received
    assert sum(p.pledged for p in figures.by_project) == figures.pledged
    assert sum(c.paid for c in figures.by_category) == figures.paid
    assert sum(t.received for t in figures.trend if t.key.startswith(code[:4])) >= 0


def test_generated_data_has_every_kind_of_outcome(generated):
    states = Counter(MemberReview.objects.values_list("state", flat=True))
    for state in ("pending", "in_review", "approved", "declined", "expired", "paying", "paid"):
        assert states[state] > 0, state
    assert Payment.objects.exists()
    # The money side holds together: paid = the payments, within what is allocated.
    for review in MemberReview.objects.filter(state__in=["paying", "paid"]):
        total = sum(p.amount for p in review.payments.all())
        assert total == review.paid_total <= review.allocated_total <= review.amount
        assert (review.state == "paid") == (review.paid_total == review.amount)


def test_a_future_period_is_empty_but_fine(client, people):
    figures = report_figures(parse_period("2099-Q4"))
    assert (figures.received, figures.pledged, figures.decision_days) == (0, Decimal("0.00"), None)
    response = as_secretariat(client, people).get("/reports/?period=2099-Q4")
    assert response.status_code == 200


# --- one result, four renderings --------------------------------------------------------------


def test_csv_xlsx_dashboard_and_pdf_show_the_same_figures(client, generated, people, tmp_path):
    as_secretariat(client, people)
    dashboard = client.get("/reports/?period=2026")
    assert dashboard.status_code == 200
    csv_response = client.get("/reports/download/?period=2026&format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    blocks = csv_blocks(get_bytes(csv_response))

    tables = dashboard.context["tables"]
    assert len(blocks) == len(tables) == 7
    for block, table in zip(blocks, tables, strict=True):
        assert block[0] == [table.title]
        assert block[1] == table.headers
        assert block[2:] == [[plain(cell) for cell in row] for row in table.rows]
    summary = dict(blocks[0][2:])
    figures = dashboard.context["figures"]
    assert summary[tables[0].rows[0][0]] == str(figures.received)

    workbook = openpyxl.load_workbook(
        io.BytesIO(get_bytes(client.get("/reports/download/?period=2026&format=xlsx")))
    )
    assert len(workbook.worksheets) == len(blocks)
    for sheet, block in zip(workbook.worksheets, blocks, strict=True):
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert len(rows) == len(block)
        for row, csv_row in zip(rows, block, strict=True):
            cells = row + [None] * (len(csv_row) - len(row))
            assert all(map(xlsx_cell_matches, cells, csv_row)), (row, csv_row)

    pdf = client.get("/reports/download/?period=2026&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(get_bytes(pdf), tmp_path).split())
    # The Chinese headings, the period, and every figure of the summary and of the members.
    for heading in ("联盟报告", "总览", "按成员机构", "按救助病种", "按户籍省份", "月度趋势"):
        assert heading in text, heading
    assert "2026" in text and "第 1 页" in text
    for row in tables[0].rows + tables[1].rows:
        for cell in row:
            assert display(cell) in text, cell


def test_the_pdf_embeds_a_cjk_font(client, generated, people, tmp_path):
    content = get_bytes(
        as_secretariat(client, people).get("/reports/download/?period=2026-Q2&format=pdf")
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, timeout=60)
    cjk = [line for line in fonts.stdout.splitlines() if "CJK" in line]
    assert cjk, fonts.stdout
    # Columns: name type encoding emb sub uni object ID — embedded (and subset).
    assert all(" yes " in line for line in cjk), fonts.stdout


def test_the_dashboard_makes_a_constant_number_of_queries(
    client, generated, people, django_assert_num_queries
):
    as_secretariat(client, people)
    # No generation yet, whatever earlier tests committed to the database cache (the first
    # request makes it: the pins below count that).
    cache.clear()
    # Session, user with its second-factor device, recent runs, the access record's chain
    # head: 4. The figures' part from the cache (reports.figures_cache; the tests' cache is
    # the database's: a get is a query, an add or a set five): the generation's get, the
    # part's. Cold, also the figures' get, the figures (4 queries and 3 of the directory)
    # and two sets; the first request also makes the generation (an add).
    with django_assert_num_queries(4 + 1 + 5 + 2 + 7 + 10):
        client.get("/reports/?period=2026")
    with django_assert_num_queries(4 + 2):
        client.get("/reports/?period=2026")
    generate(count=40, seed=8)
    with django_assert_num_queries(4 + 3 + 7 + 10):
        client.get("/reports/?period=2025")
    with django_assert_num_queries(4 + 2):
        client.get("/reports/?period=2025")


def test_the_dashboard_shows_charts_drawn_as_svg(client, generated, people):
    response = as_secretariat(client, people).get("/reports/?period=2026")
    html = response.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == 3
    assert " style=" not in html.split("<main", 1)[1]  # CSP: no inline style attributes
    assert "<script>" not in html
