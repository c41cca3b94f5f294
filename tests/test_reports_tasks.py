"""Reports in the background (django.tasks: the immediate backend and django-tasks-db's
database queue with its worker), the export_report command, the CJK font check, and the
demo data generator behind the report tests."""

import io
import signal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import AccessRecord, Application, MemberReview, Payment
from reports import checks
from reports.models import ReportRun
from tests.test_reports import as_secretariat, csv_blocks, generate, get_bytes, pdf_text

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _files_in_tmp(tmp_path, monkeypatch):
    """Report files of these tests go to a temporary folder, not private-media/."""
    from django.core.files.storage import FileSystemStorage

    monkeypatch.setattr(
        ReportRun._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path)
    )


@pytest.fixture
def generated(people):
    generate(count=80, seed=5)


def run_worker_once():
    """db_worker in this process for one task, leaving pytest's signal handlers as they were."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker",
            "--batch",
            "--max-tasks=1",
            "--no-startup-delay",
            "--interval=0",
            "--no-reload",
            verbosity=0,
            stdout=io.StringIO(),
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


# --- in the background --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_year_pdf_is_made_by_a_task_and_offered_when_ready(client, generated, people, tmp_path):
    as_secretariat(client, people)
    dashboard = client.get("/reports/?period=2026")
    assert dashboard.context["pdf_in_background"]
    response = client.post(
        "/reports/runs/", {"kind": "alliance", "period": "2026", "format": "pdf"}
    )
    run = ReportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/runs/{run.pk}/"
    # The immediate backend ran it inside the request.
    assert (run.status, run.progress, run.requested_by) == ("done", 100, people["sam"])
    page = client.get(f"/reports/runs/{run.pk}/").content.decode()
    assert f"/reports/runs/{run.pk}/file/" in page and "hx-get" not in page
    download = client.get(f"/reports/runs/{run.pk}/file/")
    assert download["Content-Type"] == "application/pdf"
    assert "联盟报告" in pdf_text(get_bytes(download), tmp_path)


@pytest.mark.django_db
def test_only_who_asked_sees_a_run(client, generated, people):
    as_secretariat(client, people)
    client.post("/reports/runs/", {"kind": "authorities", "period": "2026", "format": "xlsx"})
    run = ReportRun.objects.get()
    from organizations.services import user_create

    other = user_create(by=None, username="sue", password="pw", role="secretariat")
    client.force_login(other)
    for url in (f"/reports/runs/{run.pk}/", f"/reports/runs/{run.pk}/file/"):
        assert client.get(url).status_code == 404
    client.force_login(people["bob"])
    assert client.get(f"/reports/runs/{run.pk}/file/").status_code == 403
    client.force_login(people["root"])
    assert client.get(f"/reports/runs/{run.pk}/file/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_database_queue_waits_for_a_worker_that_makes_the_file(client, settings, people):
    generate(count=60, seed=3)
    settings.TASKS = DATABASE_TASKS
    as_secretariat(client, people)
    data = {"kind": "authorities", "period": "2026", "format": "xlsx", "full": "1"}
    run_page = client.post("/reports/runs/", data, follow=True).content.decode()
    run = ReportRun.objects.get()
    assert run.status == "queued" and run.task_id
    # The browser polls the progress fragment until the file is ready.
    assert f'hx-get="/reports/runs/{run.pk}/status/"' in run_page
    assert not AccessRecord.objects.filter(view="export-full").exists()

    run_worker_once()

    run.refresh_from_db()
    assert (run.status, run.progress, run.error) == ("done", 100, "")
    fragment = client.get(f"/reports/runs/{run.pk}/status/").content.decode()
    assert "hx-get" not in fragment and f"/reports/runs/{run.pk}/file/" in fragment
    sheet = openpyxl.load_workbook(
        io.BytesIO(get_bytes(client.get(f"/reports/runs/{run.pk}/file/")))
    ).active
    assert sheet.cell(1, 1).value == "序号"
    # The full ID numbers were recorded when the worker wrote them, for who asked.
    assert AccessRecord.objects.filter(view="export-full", user=people["sam"]).exists()

    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.get(id=run.task_id).status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_marks_the_run_failed(client, settings, people, monkeypatch):
    settings.TASKS = DATABASE_TASKS
    as_secretariat(client, people)
    client.post("/reports/runs/", {"kind": "alliance", "period": "2026", "format": "pdf"})

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("reports.services.report_write", broken)
    run_worker_once()
    run = ReportRun.objects.get()
    assert (run.status, run.error) == ("failed", "the disk is full")
    assert "the disk is full" in client.get(f"/reports/runs/{run.pk}/").content.decode()


# --- the command ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_writes_the_same_files_as_the_web(client, generated, people, tmp_path):
    as_secretariat(client, people)
    csv_path, xlsx_path, pdf_path = (tmp_path / f"r.{ext}" for ext in ("csv", "xlsx", "pdf"))
    for path, fmt in ((csv_path, "csv"), (xlsx_path, "xlsx"), (pdf_path, "pdf")):
        call_command(
            "export_report",
            "--period=2026-Q2",
            f"--format={fmt}",
            f"--output={path}",
            stdout=io.StringIO(),
        )
    web = get_bytes(client.get("/reports/download/?period=2026-Q2&format=csv"))
    assert csv_path.read_bytes() == web and csv_blocks(web)
    web_xlsx = openpyxl.load_workbook(
        io.BytesIO(get_bytes(client.get("/reports/download/?period=2026-Q2&format=xlsx")))
    )
    mine = openpyxl.load_workbook(xlsx_path)
    assert [list(s.values) for s in mine.worksheets] == [
        list(s.values) for s in web_xlsx.worksheets
    ]
    web_pdf = pdf_text(
        get_bytes(client.get("/reports/download/?period=2026-Q2&format=pdf")), tmp_path
    )

    # The same text but for the minute of generation in the footer.
    def without_time(text):
        return [line for line in text.splitlines() if "生成于" not in line and ":" not in line]

    assert without_time(pdf_text(pdf_path.read_bytes(), tmp_path)) == without_time(web_pdf)


@pytest.mark.django_db
def test_the_command_needs_a_secretariat_user_for_the_authorities(generated, people, tmp_path):
    out = tmp_path / "a.csv"
    with pytest.raises(CommandError, match="--user"):
        call_command(
            "export_report",
            "--period=2026",
            "--format=csv",
            f"--output={out}",
            "--kind=authorities",
        )
    with pytest.raises(CommandError, match="secretariat"):
        call_command(
            "export_report",
            "--period=2026",
            "--format=csv",
            f"--output={out}",
            "--kind=authorities",
            "--user=alice",
        )
    with pytest.raises(CommandError):
        call_command("export_report", "--period=2026-13", "--format=csv", f"--output={out}")
    call_command(
        "export_report",
        "--period=2026",
        "--format=csv",
        f"--output={out}",
        "--kind=authorities",
        "--user=sam",
        "--full-ids",
        stdout=io.StringIO(),
    )
    assert out.read_bytes().startswith("\ufeff序号".encode())
    assert AccessRecord.objects.filter(view="export-full", user=people["sam"]).exists()


# --- the font check ----------------------------------------------------------------------------


def test_the_check_warns_when_no_cjk_font_is_installed(monkeypatch):
    monkeypatch.setattr(checks, "cjk_fonts", lambda: [])
    warnings = checks.cjk_font_installed()
    assert [w.id for w in warnings] == ["reports.W001"]
    assert "fonts-noto-cjk" in warnings[0].hint


def test_the_check_is_quiet_with_a_cjk_font(monkeypatch):
    monkeypatch.setattr(checks, "cjk_fonts", lambda: ["Noto Sans CJK SC"])
    assert checks.cjk_font_installed() == []


def test_this_machine_has_a_cjk_font_for_the_pdfs():
    assert any("CJK" in family for family in checks.cjk_fonts())


# --- the demo data behind the report tests ---------------------------------------------------


def fingerprint():
    return [
        (
            a.reference,
            a.child.name,
            a.child.id_number,
            a.status,
            a.submitted_at,
            [(r.member_id, r.state, r.amount, r.paid_total) for r in a.reviews.order_by("member")],
        )
        for a in Application.objects.select_related("child").order_by("reference")
    ]


def delete_cases():
    from cases.models import Allocation, Child, Receipt, ReviewEvent

    for model in (Payment, Allocation, Receipt, ReviewEvent, MemberReview, Application, Child):
        model.objects.all().delete()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_applications(people):
    generate(count=40, seed=21)
    first = fingerprint()
    delete_cases()
    generate(count=40, seed=21)
    assert fingerprint() == first
    delete_cases()
    generate(count=40, seed=22)
    assert fingerprint() != first


@pytest.mark.django_db
def test_generated_reviews_hold_the_snapshot_that_routing_stores(people):
    """The generator renders the reasons in bulk: the data must stay workflow.route's."""
    from cases.review import services as workflow
    from organizations import regions, selectors
    from organizations.eligibility import evaluate
    from organizations.models import AidProject

    generate(count=12, seed=4)
    projects = list(AidProject.objects.open().with_rules().filter(current_rules__isnull=False))
    rules = [selectors.project_rules(p) for p in projects]
    checked = 0
    for application in Application.objects.filter(status__in=["submitted", "closed"])[:5]:
        results = evaluate(
            workflow.applicant_for(application),
            rules,
            category_labels=selectors.category_labels(),
            region_label=regions.name_of,
        )
        for review in application.reviews.all():
            expected = {
                p.code: {
                    "name_zh": p.name_zh,
                    "name_en": p.name_en,
                    "kind": p.kind,
                    **results[p.code].as_data(),
                }
                for p in projects
                if p.member_id == review.member_id
            }
            assert review.eligibility == expected
            checked += 1
    assert checked
