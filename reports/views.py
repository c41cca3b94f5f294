"""The secretariat's report pages and downloads (standard.md §6), and one application as PDF.

Thin views: a form reads the period, reports.services makes the file, reports.selectors the
figures. Reports are the secretariat's (and administrators'): member staff get 403,
anonymous users are sent to log in. The application PDF follows the application's own rule
(cases.access.get_application_for): whoever may read the application may print it.
"""

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from aid_alliance import replayed_pages
from cases import audit, reveal
from cases.access import get_application_for
from reports import figures_cache, pdf, services, tasks
from reports.charts import report_charts
from reports.forms import DownloadForm, PeriodPickerForm, RunForm
from reports.models import ReportRun, file_name
from reports.periods import CHINA, current_quarter
from reports.selectors import cached_report_figures, recent_runs
from reports.tables import definitions, report_tables

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DASHBOARD = "reports/dashboard.html"


def _require_secretariat(user) -> None:
    if not services.may_export(user):
        raise PermissionDenied


def _private(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _figures_part(period) -> dict:
    """The figures' part of the dashboard (summary, charts, tables, definitions) as HTML,
    with the number of aided children that the downloads panel names: the same for every
    secretariat user, so cached per generation of the figures, period and language
    (reports.figures_cache). The page around it (the form, the user's recent files, the
    access record's head) is built again when those reads change (dashboard, below)."""

    def build() -> dict:
        figures = cached_report_figures(period)
        context = {
            "figures": figures,
            "tables": report_tables(figures),
            "charts": report_charts(figures),
            "definitions": definitions(),
        }
        html = render_to_string("reports/_figures.html", context)
        return {"html": str(html), "children": figures.children}

    return figures_cache.cached("dashboard", (period.code,), build)


def _dashboard_context(request, form) -> dict:
    context = {
        "form": form,
        "recent_runs": recent_runs(request.user),
        # The access record's latest head, for the secretariat to compare with the checkpoint
        # file (or note down): a head that moved back is a cut-off record.
        "head_html": audit.chain_head_html(),
    }
    if form.is_valid():
        period = form.cleaned_data["period"]
        part = _figures_part(period)
        context |= {
            "period": period,
            "figures_html": mark_safe(part["html"]),  # noqa: S308 - rendered by our template
            "children": part["children"],
            "pdf_in_background": services.runs_in_background("alliance", "pdf", period),
            "xlsx_in_background": services.runs_in_background("authorities", "xlsx", period),
        }
    return context


def _refused(request, form):
    """The dashboard for a refused download or file request (400): rendered live, with the
    period's message."""
    return render(request, DASHBOARD, _dashboard_context(request, form), status=400)


@login_required
@require_GET
def dashboard(request):
    # Served again while its reads answer the same (aid_alliance.replayed_pages): the user's
    # recent files and the access record's head are read again, the figures' generation is
    # compared; the figures themselves are kept by that generation (reports.figures_cache).
    return replayed_pages.page(request, lambda: _dashboard_page(request), inputs=("dashboard",))


def _dashboard_page(request) -> replayed_pages.Page:
    _require_secretariat(request.user)
    if "year" in request.GET or "period" in request.GET:
        form = PeriodPickerForm(request.GET)
    else:
        today = timezone.localtime(timezone.now(), CHINA).date()
        form = PeriodPickerForm({"period": current_quarter(today).code})
    return replayed_pages.Page(DASHBOARD, _dashboard_context(request, form))


def _file_response(*, kind, period, fmt, full_ids, by):
    name = file_name(kind, period.code, fmt, full_ids=full_ids)
    if fmt == "csv":
        lines = services.report_csv_lines(kind=kind, period=period, full_ids=full_ids, by=by)
        response = StreamingHttpResponse(
            (line.encode() for line in lines), content_type=CONTENT_TYPES[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return _private(response)
    spool = tempfile.TemporaryFile()  # closed by FileResponse when sent
    services.report_write(kind=kind, period=period, fmt=fmt, target=spool, by=by, full_ids=full_ids)
    spool.seek(0)
    response = FileResponse(
        spool, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt]
    )
    return _private(response)


def _download(request, kind):
    _require_secretariat(request.user)
    form = DownloadForm(request.GET)
    if not form.is_valid() or (kind == "authorities" and form.cleaned_data["format"] == "pdf"):
        return _refused(request, PeriodPickerForm(request.GET))
    return _file_response(
        kind=kind,
        period=form.cleaned_data["period"],
        fmt=form.cleaned_data["format"],
        full_ids=kind == "authorities" and form.cleaned_data["full"],
        by=request.user,
    )


@login_required
@require_GET
def alliance_download(request):
    return _download(request, "alliance")


@login_required
@require_GET
def authorities_download(request):
    """?full=1 gives full ID numbers, recorded as "export-full" for every application."""
    return _download(request, "authorities")


@login_required
@require_POST
def run_create(request):
    _require_secretariat(request.user)
    form = RunForm(request.POST)
    if not form.is_valid() or (
        form.cleaned_data["kind"] == "authorities" and form.cleaned_data["format"] == "pdf"
    ):
        return _refused(request, PeriodPickerForm(request.POST))
    data = form.cleaned_data
    run = tasks.run_request(
        kind=data["kind"],
        period=data["period"],
        fmt=data["format"],
        full_ids=data["kind"] == "authorities" and data["full"],
        by=request.user,
    )
    return redirect("reports-run", run.pk)


def _get_run_for(user, pk) -> ReportRun:
    """A run is seen by whoever asked for it (it may hold full ID numbers), and by
    administrators; anyone else gets 404."""
    _require_secretariat(user)
    runs = (
        ReportRun.objects.all()
        if user.is_superuser
        else ReportRun.objects.filter(requested_by=user)
    )
    return get_object_or_404(runs, pk=pk)


@login_required
@require_GET
def run_detail(request, pk):
    return render(request, "reports/run.html", {"run": _get_run_for(request.user, pk)})


@login_required
@require_GET
def run_status(request, pk):
    """The progress fragment the run page polls (htmx) until the file is ready."""
    return render(request, "reports/_run_status.html", {"run": _get_run_for(request.user, pk)})


@login_required
@require_GET
def run_file(request, pk):
    run = _get_run_for(request.user, pk)
    if run.status != ReportRun.Status.DONE or not run.file:
        raise Http404
    response = FileResponse(
        run.file.open("rb"),
        as_attachment=True,
        filename=run.filename,
        content_type=CONTENT_TYPES[run.format],
    )
    return _private(response)


@login_required
@require_GET
def application_pdf(request, reference):
    application = get_application_for(request.user, reference)
    audit.access_record(application=application, user=request.user, view="pdf")
    # ?full=1: the numbers the user may see in full, recorded as a reveal (cases.reveal).
    revealed = (
        reveal.reveal(application=application, user=request.user, via="pdf")
        if request.GET.get("full") == "1"
        else reveal.NOTHING
    )
    response = HttpResponse(
        pdf.application_pdf(application, revealed=revealed), content_type=CONTENT_TYPES["pdf"]
    )
    disposition = "attachment" if request.GET.get("download") == "1" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{application.reference}.pdf"'
    return _private(response)
