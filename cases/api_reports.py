"""GET /api/v1/reports/figures/: the alliance report's figures for a period (standard.md §6),
for the secretariat's systems. The same selector as the dashboard, the PDF and the exports
(reports.selectors.report_figures, here cached for the figures' generation as on the
dashboard: reports.figures_cache), so the API cannot disagree with them; the period is read
by the dashboard's own form.

(It lives in the cases app's API while reports/ is being built; its place is reports/api.py.)
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_alliance import money
from cases.api_base import CasesApi, error_responses, form_invalid
from reports.forms import PeriodForm
from reports.selectors import cached_report_figures
from reports.services import may_export


class PeriodSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="2026-11, 2026-Q4 or 2026")
    kind = serializers.ChoiceField(choices=["month", "quarter", "year"])
    label = serializers.CharField(help_text="In the language of the request.")
    first_day = serializers.DateField()
    end_day = serializers.DateField(help_text="The first day after the period.")


class LineSerializer(serializers.Serializer):
    """One row of a breakdown; a figure that does not apply to the breakdown is null."""

    key = serializers.CharField()
    label = serializers.CharField()
    note = serializers.CharField(help_text="A project's member.")
    received = serializers.IntegerField(allow_null=True)
    routed = serializers.IntegerField(allow_null=True)
    funded = serializers.IntegerField(allow_null=True)
    pledges = serializers.IntegerField(allow_null=True)
    declined = serializers.IntegerField(allow_null=True)
    children = serializers.IntegerField(allow_null=True)
    pledged = serializers.DecimalField(allow_null=True, **money.TOTAL)
    paid = serializers.DecimalField(allow_null=True, **money.TOTAL)


class FiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    generated_at = serializers.DateTimeField()
    received = serializers.IntegerField(help_text="Applications submitted in the period.")
    routed = serializers.IntegerField()
    funded = serializers.IntegerField()
    pledges = serializers.IntegerField()
    declined = serializers.IntegerField()
    children = serializers.IntegerField(help_text="Children aided.")
    pledged = serializers.DecimalField(**money.TOTAL)
    paid = serializers.DecimalField(**money.TOTAL)
    decision_days = serializers.DecimalField(
        allow_null=True, help_text="Median days to the first decision.", **money.TOTAL
    )
    decision_count = serializers.IntegerField()
    payment_days = serializers.DecimalField(
        allow_null=True, help_text="Median days to the first payment.", **money.TOTAL
    )
    payment_count = serializers.IntegerField()
    by_member = LineSerializer(many=True)
    by_project = LineSerializer(many=True)
    by_category = LineSerializer(many=True)
    by_province = LineSerializer(many=True)
    by_decline_reason = LineSerializer(many=True)
    trend = LineSerializer(many=True, help_text="The 12 months that end with the period.")


class ReportFiguresView(CasesApi, APIView):
    """The alliance report's figures (the secretariat's, standard.md §5 and §6)."""

    @extend_schema(
        summary="The alliance report's figures for a month, a quarter or a year",
        tags=["reports"],
        parameters=[
            OpenApiParameter(
                "period",
                str,
                required=True,
                description="A month (2026-11), a quarter (2026-Q4) or a year (2026).",
            )
        ],
        responses={200: FiguresSerializer, **error_responses(400, 403)},
    )
    def get(self, request):
        if not may_export(request.user):
            raise exceptions.PermissionDenied
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise form_invalid(form)
        return Response(FiguresSerializer(cached_report_figures(form.cleaned_data["period"])).data)
