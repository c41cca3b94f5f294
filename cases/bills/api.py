"""The API of receipts, allocations and payments (standard.md §4): thin views over
cases.bills.services, bodies checked by the browser's forms (cases.bills.forms), objects found
with the access helpers (cases.access), so that who may do what is the browser's rule
everywhere."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_alliance.parsers import BoundedJSONParser
from cases import access
from cases.api_base import (
    CasesApi,
    SmallPages,
    error,
    error_responses,
    form_data,
    form_invalid,
    records_access,
)
from cases.bills import selectors
from cases.bills import services as bills
from cases.bills.filters import AllocationFilter, PaymentFilter, ReceiptFilter
from cases.bills.forms import AllocationForm, PaymentForm, ReceiptForm, ReversalForm
from cases.bills.serializers import (
    AllocationCreateSerializer,
    AllocationSerializer,
    DuplicateReceiptSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    ReceiptCreateSerializer,
    ReceiptDetailSerializer,
    ReceiptSerializer,
    ReceiptUploadSerializer,
    ReversalSerializer,
)
from cases.models import Allocation, Payment, Receipt


def held(receipt: Receipt) -> list[dict]:
    """What each member holds of a receipt, net of reversals."""
    return [
        {"member": member.short_name, "member_name": member.name_zh, "amount": amount}
        for member, amount in selectors.held_by_member(
            receipt.allocations.select_related("review__member")
        )
    ]


def receipt_body(receipt: Receipt) -> dict:
    receipt.held = held(receipt)
    return ReceiptDetailSerializer(receipt).data


# --- receipts ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Receipts of the applications the user may see, newest first",
        responses={200: ReceiptSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One receipt with what each member holds of it",
        responses={200: ReceiptDetailSerializer, **error_responses(403, 404)},
    ),
)
class ReceiptViewSet(CasesApi, viewsets.GenericViewSet):
    """Medical receipts (standard.md §4), recorded once for the whole alliance; seen by whoever
    may see the application they were recorded on."""

    serializer_class = ReceiptSerializer
    filterset_class = ReceiptFilter
    pagination_class = SmallPages
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        receipts = Receipt.objects.select_related("application", "recorded_member", "recorded_by")
        return access.visible_receipts(self.request.user, receipts).order_by("-recorded_at", "-pk")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        records_access([receipt.application for receipt in page], request.user, "api-receipts")
        return self.get_paginated_response(ReceiptSerializer(page, many=True).data)

    def retrieve(self, request, pk):
        receipt = access.get_receipt_for(request.user, pk)
        records_access([receipt.application], request.user, "api-receipt")
        return Response(receipt_body(receipt))


def duplicate_body(exc: bills.DuplicateReceipt) -> dict:
    receipt = exc.receipt
    existing = {
        "same_child": exc.same_child,
        "id": None,
        "recorded_by": receipt.recorded_by.get_username(),
        "recorded_member": receipt.recorded_member.short_name,
        "recorded_member_name": receipt.recorded_member.name_zh,
        "recorded_at": receipt.recorded_at,
        "reimbursable_amount": None,
        "allocated_total": None,
        "room": None,
        "held": [],
    }
    if exc.same_child:
        # An API response has no page: what the page shows in its panel is in `existing`.
        message = _(
            "This receipt is already recorded: who recorded it and what was reimbursed are "
            "in “existing”."
        )
        existing.update(
            id=receipt.pk,
            reimbursable_amount=receipt.reimbursable_amount,
            allocated_total=receipt.allocated_total,
            room=receipt.room,
            held=held(receipt),
        )
    else:
        message = _("This receipt is already recorded for another child.")
    body = {
        "detail": str(exc),
        "errors": [error(message, field="number")],
        "existing": existing,
    }
    return DuplicateReceiptSerializer(body).data


class ReceiptCreateView(CasesApi, APIView):
    """Record a receipt on a submitted application, once for the whole alliance (§4)."""

    parser_classes = [BoundedJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="applications_receipts_create",
        summary="Record a medical receipt (a reviewer of a member the application went to)",
        tags=["receipts"],
        request={
            "application/json": ReceiptCreateSerializer,
            "multipart/form-data": ReceiptUploadSerializer,
        },
        responses={
            201: ReceiptDetailSerializer,
            409: DuplicateReceiptSerializer,
            **error_responses(400, 403, 404),
        },
    )
    def post(self, request, reference):
        application = access.get_application_for_receipts(request.user, reference)
        if request.content_type.startswith("multipart/"):
            form = ReceiptForm(request.POST, request.FILES)
        else:
            form = ReceiptForm(form_data(self.body(request), ReceiptForm))
        if not form.is_valid():
            raise form_invalid(form)
        try:
            receipt = bills.receipt_record(
                application=application, by=request.user, **form.cleaned_data
            )
        except bills.DuplicateReceipt as exc:
            return Response(duplicate_body(exc), status=status.HTTP_409_CONFLICT)
        records_access([application], request.user, "api-receipt")
        return Response(receipt_body(receipt), status=status.HTTP_201_CREATED)


# --- a pledge's allocations and payments ----------------------------------------------------


class PledgeAllocationView(CasesApi, APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="reviews_allocations_create",
        summary="Allocate an amount of one of the child's receipts to the member's pledge",
        description="409 when the receipt or the pledge has less room left than the amount "
        "(standard.md §4), or the pledge is not payable.",
        tags=["allocations"],
        request=AllocationCreateSerializer,
        responses={201: AllocationSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, pk):
        review = access.get_pledge_for(request.user, pk, write=True)
        receipts = selectors.child_receipts(review.application, request.user)
        form = AllocationForm(form_data(self.body(request), AllocationForm), receipts=receipts)
        if not form.is_valid():
            raise form_invalid(form)
        allocation = bills.allocation_create(
            review=review,
            receipt=form.cleaned_data["receipt"],
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
        return Response(AllocationSerializer(allocation).data, status=status.HTTP_201_CREATED)


class PledgePaymentView(CasesApi, APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="reviews_payments_create",
        summary="Record a payment (拨付) against what is allocated to the pledge",
        description="The pledge moves to `paying`, and to `paid` when paid in full.",
        tags=["payments"],
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, pk):
        review = access.get_pledge_for(request.user, pk, write=True)
        form = PaymentForm(form_data(self.body(request), PaymentForm))
        if not form.is_valid():
            raise form_invalid(form)
        payment = bills.payment_record(review=review, by=request.user, **form.cleaned_data)
        records_access([review.application], request.user, "api-payment")
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


def _reversal_note(view, request) -> str:
    form = ReversalForm(form_data(view.body(request), ReversalForm))
    if not form.is_valid():
        raise form_invalid(form)
    return form.cleaned_data["note"]


@extend_schema_view(
    list=extend_schema(
        summary="Allocations of the member's pledges (the secretariat: all), newest first",
        responses={200: AllocationSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One allocation", responses={200: AllocationSerializer, **error_responses(403, 404)}
    ),
)
class AllocationViewSet(CasesApi, viewsets.GenericViewSet):
    """Allocations: amounts of receipts tied to approved pledges (standard.md §4)."""

    serializer_class = AllocationSerializer
    filterset_class = AllocationFilter
    pagination_class = SmallPages
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        rows = Allocation.objects.select_related("review__member", "receipt", "created_by")
        return access.own_member_rows(self.request.user, rows).order_by("-created_at", "-pk")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AllocationSerializer(page, many=True).data)

    def retrieve(self, request, pk):
        return Response(AllocationSerializer(self.get_object()).data)

    @extend_schema(
        summary="Take an allocation back with a new, negative row (a reviewer of the member)",
        request=ReversalSerializer,
        responses={201: AllocationSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def reverse(self, request, pk):
        allocation = self.get_object()
        access.require_pledge_writer(request.user)
        reversal = bills.allocation_reverse(
            allocation=allocation, by=request.user, note=_reversal_note(self, request)
        )
        reversal = self.get_queryset().get(pk=reversal.pk)
        return Response(AllocationSerializer(reversal).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Payments of the member's pledges (the secretariat: all), newest first",
        responses={200: PaymentSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One payment", responses={200: PaymentSerializer, **error_responses(403, 404)}
    ),
)
class PaymentViewSet(CasesApi, viewsets.GenericViewSet):
    """Payments (拨付) against pledges (standard.md §4); account numbers are masked."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    pagination_class = SmallPages
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        rows = Payment.objects.select_related("review__application", "created_by")
        return access.own_member_rows(self.request.user, rows).order_by("-created_at", "-pk")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # Payees and (masked) accounts are personal data: recorded like the browser's pages.
        records_access(
            [payment.review.application for payment in page], request.user, "api-payments"
        )
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    def retrieve(self, request, pk):
        payment = self.get_object()
        records_access([payment.review.application], request.user, "api-payment")
        return Response(PaymentSerializer(payment).data)

    @extend_schema(
        summary="Reverse a payment recorded by mistake (or returned by the bank)",
        request=ReversalSerializer,
        responses={201: PaymentSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def reverse(self, request, pk):
        payment = self.get_object()
        access.require_pledge_writer(request.user)
        reversal = bills.payment_reverse(
            payment=payment, by=request.user, note=_reversal_note(self, request)
        )
        reversal = self.get_queryset().get(pk=reversal.pk)
        return Response(PaymentSerializer(reversal).data, status=status.HTTP_201_CREATED)
