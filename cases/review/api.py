"""The API of the shared review workflow (standard.md §3): the member inbox and each
transition as an action. Transitions are cases.review.services's functions; a review is found
with cases.access, so another member's review is a 404. Each action's body is checked by the
browser's form (cases.review.forms); its schema is generated from that form."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from cases import access, funding
from cases.api_base import CasesApi, error_responses, form_serializer, records_access
from cases.models import MemberReview, ReviewEvent
from cases.review import selectors, services
from cases.review.filters import ReviewFilter
from cases.review.forms import ApproveForm, DeclineForm, RequestInfoForm, ReviewNoteForm
from cases.serializers import InboxItemSerializer, ReviewDetailSerializer

ReviewNoteSerializer = form_serializer(ReviewNoteForm, "ReviewNoteSerializer")
RequestInfoSerializer = form_serializer(RequestInfoForm, "RequestInfoSerializer")
ApproveSerializer = form_serializer(ApproveForm, "ApproveSerializer")
DeclineSerializer = form_serializer(DeclineForm, "DeclineSerializer")


class InboxPages(CursorPagination):
    # The inbox's order, oldest first, from the index cases_review_member_routed (or
    # cases_review_inbox with a state); a cursor needs no count and no OFFSET.
    ordering = ("routed_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def review_detail(review: MemberReview, user) -> Response:
    """The member's own review with its eligibility snapshot and its history."""
    review = (
        funding.with_gap(MemberReview.objects.filter(pk=review.pk))
        .select_related("project")
        .prefetch_related(Prefetch("events", queryset=ReviewEvent.objects.select_related("actor")))
        .get()
    )
    review.gap = funding.gap_of(review)
    records_access([review.application], user, "api-review")
    return Response(ReviewDetailSerializer(review).data)


ACTION_ERRORS = error_responses(400, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary="The member's inbox: its reviews, oldest first",
        responses={200: InboxItemSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One of the member's reviews, its eligibility snapshot and history",
        responses={200: ReviewDetailSerializer, **error_responses(403, 404)},
    ),
)
class ReviewViewSet(CasesApi, viewsets.GenericViewSet):
    """The member's own reviews (standard.md §3). Only the member's reviewers move them; its
    caseworkers read them; another member's review is not found."""

    serializer_class = ReviewDetailSerializer
    filterset_class = ReviewFilter
    pagination_class = InboxPages
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's mock request
            return MemberReview.objects.none()
        user = self.request.user
        if not user.is_member_staff:
            raise exceptions.PermissionDenied  # the inbox is a member's, as in the browser
        return selectors.inbox_queryset(user.organization_id, {})

    def get_object(self):
        return access.get_review_for(self.request.user, self.kwargs["pk"])

    def list(self, request):
        reviews = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(
            funding.with_gap(reviews).select_related(
                "project", "application__hospital_confirmation__hospital"
            )
        )
        for review in page:
            review.gap = funding.gap_of(review)
        records_access([review.application for review in page], request.user, "api-inbox")
        return self.get_paginated_response(InboxItemSerializer(page, many=True).data)

    def retrieve(self, request, pk):
        return review_detail(self.get_object(), request.user)

    @extend_schema(
        summary="Take the review (pending → in review)",
        request=ReviewNoteSerializer,
        responses={200: ReviewDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def take(self, request, pk):
        review = self.get_object()
        data = self.cleaned(ReviewNoteForm, request)
        services.review_take(review=review, by=request.user, note=data["note"])
        return review_detail(review, request.user)

    @extend_schema(
        summary="Ask for documents or answers; the decision clock pauses",
        request=RequestInfoSerializer,
        responses={200: ReviewDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request, pk):
        review = self.get_object()
        data = self.cleaned(RequestInfoForm, request)
        services.review_request_info(
            review=review,
            items=data["items"],
            documents=data["documents"],
            by=request.user,
            note=data["note"],
        )
        return review_detail(review, request.user)

    @extend_schema(
        summary="Pledge a grant (amount) or in-kind or service help (description)",
        description="Refused with 409 when the pledge would go beyond the funding gap "
        "(standard.md §3) or the review is no longer open.",
        request=ApproveSerializer,
        responses={200: ReviewDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk):
        review = self.get_object()
        data = self.cleaned(ApproveForm, request)
        services.review_approve(review=review, by=request.user, **data)
        return review_detail(review, request.user)

    @extend_schema(
        summary="Decline with a reason",
        request=DeclineSerializer,
        responses={200: ReviewDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk):
        review = self.get_object()
        data = self.cleaned(DeclineForm, request)
        services.review_decline(review=review, by=request.user, **data)
        return review_detail(review, request.user)
