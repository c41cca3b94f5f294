"""/api/v1/hospital/ for hospital systems (issue 17): the to-confirm list, one application
as hospital staff see it, confirm or correct, upload a medical document, record a receipt.

The same rules as the hospital's pages (cases.access.get_application_for_hospital: another
hospital, a draft, or a consent that does not cover the hospital is a 404), the same
services, and the case API's error body (cases.api_base). A member's staff, the secretariat
and everyone else get a 403: these endpoints are the hospital's."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_alliance.parsers import BoundedJSONParser
from cases import access
from cases.api_base import (
    CasesApi,
    Conflict,
    SmallPages,
    error_responses,
    form_data,
    form_invalid,
    form_serializer,
    records_access,
)
from cases.bills import services as bills
from cases.bills.forms import ReceiptForm
from cases.hospital import selectors, services
from cases.hospital.forms import HospitalCorrectionForm, HospitalDocumentForm


class IsHospitalStaff(BasePermission):
    """§5 hospital staff: their hospital's applications only."""

    def has_permission(self, request, view):
        return access.is_hospital_staff(request.user)


class HospitalApi(CasesApi):
    permission_classes = [IsAuthenticated, IsHospitalStaff]


def _money(value):
    return None if value is None else f"{value:.2f}"


def item_body(application) -> dict:
    confirmation = application.hospital_confirmation
    return {
        "reference": application.reference,
        "child_name": application.child.name,
        "child_age": selectors.age_in_years(application.child.dob),
        "child_sex": application.child.sex,
        "category": application.category.code if application.category_id else None,
        "estimated_cost": _money(application.estimated_cost),
        "submitted_at": application.submitted_at,
        "hospital_confirmed_at": confirmation.at if confirmation else None,
    }


def detail_body(view: selectors.HospitalView) -> dict:
    """Everything hospital staff see of one application (selectors.hospital_view), nothing
    more: no guardian, economics, coverage, payment details or members' notes."""
    application = view.application
    return {
        "reference": application.reference,
        "child": {"name": view.child_name, "age": view.child_age, "sex": application.child.sex},
        "medical": {
            "D01": application.category.code if application.category_id else None,
            "D02": application.icd,
            "D03": application.diagnosis_text,
            "D04": application.diagnosis_date,
            "D05": application.diagnosing_hospital,
            "D06": application.treating_hospital,
            "D06_department": application.department,
            "D07": {line.treatment: line.stage for line in view.plan},
            "D08": _money(application.estimated_cost),
            "D09": _money(application.costs_incurred),
        },
        "documents": [
            {
                "id": document.pk,
                "doc_type": document.doc_type,
                "status": document.status,
                "file_name": document.original_name,
                "uploaded_at": document.uploaded_at,
            }
            for document in view.documents
        ],
        "documents_needed": list(view.needed),
        "pledged_total": _money(view.pledged),
        "paid_total": _money(view.paid),
        "confirmations": [
            {
                "hospital": confirmation.hospital.name,
                "by": confirmation.by.get_username(),
                "at": confirmation.at,
                "kind": confirmation.kind,
                "changes": confirmation.changes,
                "reason": confirmation.reason,
            }
            for confirmation in view.confirmations
        ],
    }


ItemSerializer = inline_serializer(  # a list of these
    "HospitalItem",
    {
        "reference": serializers.CharField(),
        "child_name": serializers.CharField(),
        "child_age": serializers.IntegerField(allow_null=True),
        "child_sex": serializers.CharField(),
        "category": serializers.CharField(allow_null=True),
        "estimated_cost": serializers.DecimalField(max_digits=12, decimal_places=2),
        "submitted_at": serializers.DateTimeField(),
        "hospital_confirmed_at": serializers.DateTimeField(allow_null=True),
    },
    many=True,
)
ItemListSerializer = ItemSerializer
DetailSerializer = inline_serializer(
    "HospitalApplication",
    {"reference": serializers.CharField(), "medical": serializers.DictField()},
)


class HospitalListView(HospitalApi, APIView):
    pagination_class = SmallPages

    @extend_schema(
        operation_id="hospital_applications_list",
        summary="待确认: applications naming the user's hospital, waiting for confirmation",
        description="?confirmed=true lists those already confirmed or corrected instead.",
        tags=["hospital"],
        responses={200: ItemListSerializer, **error_responses(403)},
    )
    def get(self, request):
        confirmed = request.query_params.get("confirmed") in ("true", "1", "yes")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.to_confirm(request.user, confirmed=confirmed), request, view=self
        )
        records_access(page, request.user, "api-hospital-list")
        return paginator.get_paginated_response([item_body(a) for a in page])


class HospitalApplicationView(HospitalApi, APIView):
    @extend_schema(
        operation_id="hospital_applications_retrieve",
        summary="One application as the treating hospital sees it",
        tags=["hospital"],
        responses={200: DetailSerializer, **error_responses(403, 404)},
    )
    def get(self, request, reference):
        application = access.get_application_for_hospital(request.user, reference)
        records_access([application], request.user, "api-hospital-detail")
        return Response(detail_body(selectors.hospital_view(application, request.user)))


def _detail(request, application, *, created=False):
    application = access.get_application_for_hospital(request.user, application.reference)
    records_access([application], request.user, "api-hospital-detail")
    return Response(
        detail_body(selectors.hospital_view(application, request.user)),
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


class HospitalConfirmView(HospitalApi, APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="hospital_applications_confirm",
        summary="Confirm D01-D03, D07 and D08 as entered",
        tags=["hospital"],
        request=None,
        responses={200: DetailSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, reference):
        application = access.get_application_for_hospital(request.user, reference)
        services.hospital_confirm(application=application, by=request.user)
        return _detail(request, application)


class HospitalCorrectView(HospitalApi, APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="hospital_applications_correct",
        summary="Correct D01-D03, D07 (plan_<treatment>: stage) or D08, with a reason",
        description="A new D08 is refused (409) when the members' pledges exceed the new need.",
        tags=["hospital"],
        request=form_serializer(HospitalCorrectionForm, "HospitalCorrection"),
        responses={200: DetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, reference):
        application = access.get_application_for_hospital(request.user, reference)
        form = HospitalCorrectionForm(form_data(self.body(request), HospitalCorrectionForm))
        if not form.is_valid():
            raise form_invalid(form)
        data = form.cleaned_data
        services.hospital_correct(
            application=application,
            by=request.user,
            category=data["category"],
            icd=data["icd"],
            diagnosis_text=data["diagnosis_text"],
            treatment_plan=data["treatment_plan"],
            estimated_cost=data["estimated_cost"],
            reason=data["reason"],
        )
        return _detail(request, application)


class HospitalDocumentView(HospitalApi, APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="hospital_applications_documents_create",
        summary="Upload a medical document (diagnosis certificate, cost estimate, discharge "
        "summary)",
        tags=["hospital"],
        request={"multipart/form-data": form_serializer(HospitalDocumentForm, "HospitalDocument")},
        responses={201: DetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, reference):
        application = access.get_application_for_hospital(request.user, reference)
        form = HospitalDocumentForm(request.POST, request.FILES)
        if not form.is_valid():
            raise form_invalid(form)
        services.hospital_document_upload(
            application=application,
            doc_type=form.cleaned_data["doc_type"],
            upload=form.cleaned_data["file"],
            by=request.user,
        )
        return _detail(request, application, created=True)


class HospitalReceiptView(HospitalApi, APIView):
    parser_classes = [BoundedJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="hospital_applications_receipts_create",
        summary="Record a medical receipt in the alliance-wide register",
        tags=["hospital"],
        request={
            "application/json": form_serializer(ReceiptForm, "HospitalReceipt", exclude=["scan"]),
            "multipart/form-data": form_serializer(ReceiptForm, "HospitalReceiptUpload"),
        },
        responses={201: DetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, reference):
        application = access.get_application_for_hospital(request.user, reference)
        if request.content_type.startswith("multipart/"):
            form = ReceiptForm(request.POST, request.FILES)
        else:
            form = ReceiptForm(form_data(self.body(request), ReceiptForm))
        if not form.is_valid():
            raise form_invalid(form)
        try:
            bills.receipt_record(application=application, by=request.user, **form.cleaned_data)
        except bills.DuplicateReceipt as exc:
            raise Conflict(str(exc)) from None
        return _detail(request, application, created=True)
