"""The staff list as a CSV download (cases.intake.list_export)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.intake import list_export
from cases.intake.views import _require_staff, list_filtered
from reports.periods import CHINA


@login_required
@require_GET
def application_list_csv(request):
    """Every application the list's filters select (member staff: their member's; the
    secretariat: all), streamed; access recorded for each before the first byte."""
    _require_staff(request.user)
    form, queryset, member = list_filtered(request)
    if form.is_bound and (not form.is_valid() or (form.cleaned_data["member"] and member is None)):
        # A filter mistyped must not turn into "everything": the list page says what is wrong.
        return HttpResponseBadRequest(_("The search is not valid: correct it on the list first."))
    list_export.record_export(queryset, user=request.user)
    lines = list_export.csv_lines(queryset)
    response = StreamingHttpResponse(
        (line.encode() for line in lines), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localtime(timezone.now(), CHINA).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="applications-{day}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
