"""Who may see reports and exports (standard.md §5, §6), the report to authorities with its
access record, and one application as PDF."""

import csv
import io
import re

import openpyxl
import pytest
from django.utils import timezone

from cases.identity import mask_id_number
from cases.intake import services
from cases.models import AccessRecord, Application, MemberReview
from reports.exports import AUTHORITY_HEADERS
from reports.periods import CHINA, current_quarter, parse_period
from reports.selectors import aided_children_count, report_figures
from tests.test_reports import as_secretariat, generate, get_bytes, pdf_text
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db

PERIOD = "2026"
SECRETARIAT_ONLY = [
    "/reports/",
    "/reports/?period=2026-Q1",
    f"/reports/download/?period={PERIOD}&format=pdf",
    f"/reports/download/?period={PERIOD}&format=csv",
    f"/reports/download/?period={PERIOD}&format=xlsx",
    f"/reports/authorities/?period={PERIOD}&format=csv",
    f"/reports/authorities/?period={PERIOD}&format=xlsx",
    f"/reports/authorities/?period={PERIOD}&format=csv&full=1",
]


@pytest.fixture
def generated(people):
    generate(count=120, seed=11)


def authority_csv(client, query="") -> list[list[str]]:
    response = client.get(f"/reports/authorities/?period={PERIOD}&format=csv{query}")
    assert response.status_code == 200
    content = get_bytes(response)
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# --- only the secretariat ----------------------------------------------------------------------


@pytest.mark.parametrize("url", SECRETARIAT_ONLY)
def test_anonymous_users_are_sent_to_log_in(client, people, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
@pytest.mark.parametrize("url", SECRETARIAT_ONLY)
def test_member_staff_may_not_see_reports_or_export(client, people, username, url):
    client.force_login(people[username])
    assert client.get(url).status_code == 403
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize("username", ["alice", "dave"])
def test_member_staff_may_not_start_a_report_in_the_background(client, people, username):
    client.force_login(people[username])
    data = {"kind": "alliance", "period": PERIOD, "format": "pdf"}
    assert client.post("/reports/runs/", data).status_code == 403


@pytest.mark.parametrize("username", ["sam", "root"])
def test_the_secretariat_and_administrators_see_the_dashboard(client, people, username):
    client.force_login(people[username])
    response = client.get("/reports/")
    assert response.status_code == 200
    # The current quarter by default (the page's parts are kept: read what it shows).
    quarter = current_quarter(timezone.localtime(timezone.now(), CHINA).date())
    assert f": {quarter.label()}</h1>" in response.content.decode()


def test_the_reports_link_is_shown_to_the_secretariat_only(client, people):
    client.force_login(people["alice"])
    assert 'href="/reports/"' not in client.get("/").content.decode()
    client.force_login(people["sam"])
    assert 'href="/reports/"' in client.get("/").content.decode()


@pytest.mark.parametrize("bad", ["2026-13", "Q4", "二〇二六", "2026-Q9", "<script>"])
def test_a_bad_period_gets_a_chinese_message_at_the_field(client, people, bad):
    as_secretariat(client, people)
    response = client.get("/reports/", {"period": bad})
    assert response.status_code == 200
    errors = response.context["form"].errors["period"]
    assert errors and re.search(r"[\u4e00-\u9fff]", errors[0]), errors
    html = response.content.decode()
    assert errors[0] in html and "<script>" not in html.split("<main", 1)[1]
    download = client.get("/reports/download/", {"period": bad, "format": "pdf"})
    assert download.status_code == 400
    assert client.get("/reports/download/?period=2026&format=doc").status_code == 400
    assert client.get("/reports/authorities/?period=2026&format=pdf").status_code == 400


# --- the report to authorities ---------------------------------------------------------------


def test_one_row_per_aided_child_in_a_fixed_order_with_masked_ids(client, generated, people):
    rows = authority_csv(as_secretariat(client, people))
    assert rows[0] == AUTHORITY_HEADERS
    assert rows[0][:4] == ["序号", "申请编号", "姓名", "性别"]
    body = rows[1:]
    period = parse_period(PERIOD)
    assert len(body) == report_figures(period).children == aided_children_count(period) > 0
    assert [row[0] for row in body] == [str(n) for n in range(1, len(body) + 1)]
    id_column = AUTHORITY_HEADERS.index("证件号码")
    children = {
        a.reference: a.child.id_number
        for a in Application.objects.select_related("child").filter(
            reviews__state__in=MemberReview.PLEDGING_STATES
        )
    }
    for row in body:
        full = children[row[1].split("、")[0]]
        assert row[id_column] == mask_id_number(full) != full
    # Each application of the file is recorded once for sam, as a masked export.
    records = AccessRecord.objects.filter(user=people["sam"])
    assert set(records.values_list("view", flat=True)) == {"export"}
    assert records.count() == len({ref for row in body for ref in row[1].split("、")})


def test_full_id_numbers_only_when_asked_and_then_recorded_as_such(client, generated, people):
    as_secretariat(client, people)
    rows = authority_csv(client, "&full=1")
    id_column = AUTHORITY_HEADERS.index("证件号码")
    assert all(re.fullmatch(r"\d{17}[\dX]", row[id_column]) for row in rows[1:])
    records = AccessRecord.objects.filter(view="export-full", user=people["sam"])
    applications = {ref for row in rows[1:] for ref in row[1].split("、")}
    assert set(records.values_list("application__reference", flat=True)) == applications
    assert records.count() == len(applications)


def test_the_authorities_xlsx_matches_the_csv(client, generated, people):
    as_secretariat(client, people)
    rows = authority_csv(client)
    response = client.get(f"/reports/authorities/?period={PERIOD}&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(get_bytes(response))).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == rows[0]
    from tests.test_reports import xlsx_cell_matches

    for row, csv_row in zip(cells[1:], rows[1:], strict=True):
        assert all(map(xlsx_cell_matches, row, csv_row)), (row, csv_row)


# --- one application as PDF ---------------------------------------------------------------------


def test_a_member_prints_its_application_as_the_filled_unified_form(client, people, tmp_path):
    application = submitted(people["alice"])
    client.force_login(people["alice"])
    response = client.get(f"/reports/applications/{application.reference}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(get_bytes(response), tmp_path).split())
    assert application.reference in text
    for code in ("A01", "A03", "B01", "C01", "D01", "D08", "E01", "G01", "H01"):
        assert code in text, code
    assert "王小明" in text and "白血病" in text  # the child and the disease category
    assert AccessRecord.objects.filter(
        application=application, user=people["alice"], view="pdf"
    ).exists()


@pytest.mark.parametrize("username", ["dave", "sam"])
def test_a_routed_application_prints_for_other_members_and_the_secretariat(
    client, people, username
):
    application = submitted(people["alice"])
    client.force_login(people[username])
    assert client.get(f"/reports/applications/{application.reference}/pdf/").status_code == 200


def test_another_members_draft_is_404(client, people):
    draft = services.application_create(by=people["alice"])
    client.force_login(people["carol"])
    assert client.get(f"/reports/applications/{draft.reference}/pdf/").status_code == 404
    assert client.get("/reports/applications/DB-2026-XXXXXX/pdf/").status_code == 404
    assert not AccessRecord.objects.filter(view="pdf").exists()


def test_anonymous_users_are_sent_to_log_in_for_an_application_pdf(client, people):
    application = submitted(people["alice"])
    response = client.get(f"/reports/applications/{application.reference}/pdf/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("username", ["alice", "bob", "dave", "sam"])
def test_the_application_page_links_to_its_pdf_for_whoever_may_print_it(client, people, username):
    """Issue 16, finding 7: the PDF is reached from the application page, not typed."""
    application = submitted(people["alice"])
    client.force_login(people[username])
    html = client.get(f"/applications/{application.reference}/").content.decode()
    link = re.search(r'<a [^>]*id="application-pdf"[^>]*href="([^"]+)"', html)
    assert link, "no PDF link"
    assert link.group(1) == f"/reports/applications/{application.reference}/pdf/"
    assert client.get(link.group(1)).status_code == 200


def test_no_pdf_link_for_another_member_once_consent_is_withdrawn(client, people):
    from cases.review import services as workflow

    application = submitted(people["alice"])
    workflow.consent_withdraw(application=application, by=people["alice"], note="监护人撤回")
    client.force_login(people["dave"])
    page = client.get(f"/applications/{application.reference}/").content.decode()
    assert 'id="application-pdf"' not in page
    assert client.get(f"/reports/applications/{application.reference}/pdf/").status_code == 403
    client.force_login(people["alice"])
    page = client.get(f"/applications/{application.reference}/").content.decode()
    assert 'id="application-pdf"' in page
