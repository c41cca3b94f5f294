"""REST API v1 for member systems (issue 8): applications and their documents.

The API is the browser's twin. Every write calls the service the browser's view calls
(cases.intake.services, cases.review.services, cases.bills.services); bodies are checked by
the browser's own forms; objects are found with the access helpers (cases.access), so
another member's application is a 404 here as there. Every read of personal data writes an
access record (standard.md §5), with a view name starting "api-". The common ground is in
cases.api_base, the sections in cases.intake.sections_api, reviews in cases.review.api,
receipts, allocations and payments in cases.bills.api.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases import access, audit, documents, funding, reveal
from cases.api_base import (
    CasesApi,
    Conflict,
    Invalid,
    IsStaff,
    SmallPages,
    error,
    error_responses,
    form_data,
    form_invalid,
    form_serializer,
    records_access,
)
from cases.intake import downloads, selectors, services
from cases.intake import section_bodies as api_sections
from cases.intake.filters import ApplicationFilter, DocumentFilter
from cases.intake.forms import SECTION_FORMS
from cases.intake.page_forms import DocumentReviewForm, DocumentUploadForm
from cases.models import Application, Document, MemberReview
from cases.privacy import data_export
from cases.privacy import selectors as privacy_selectors
from cases.privacy.forms import ConsentWithdrawalNoteForm
from cases.review import services as review_services
from cases.review.forms import AnswerForm, ApplicationNoteForm, CloseForm, ReviseEstimateForm
from cases.serializers import (
    ApplicationDetailSerializer,
    ApplicationListSerializer,
    DocumentReviewSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    LinkChildSerializer,
    PossibleMatchSerializer,
    RevealedNumbersSerializer,
    ReviewSummarySerializer,
)
from cases.standard import SECTIONS

# The transitions' bodies are checked by the browser's forms; their schema is generated.
ApplicationNoteSerializer = form_serializer(ApplicationNoteForm, "ApplicationNoteSerializer")
CloseSerializer = form_serializer(CloseForm, "CloseSerializer")
ReviseEstimateSerializer = form_serializer(ReviseEstimateForm, "ReviseEstimateSerializer")
AnswerSerializer = form_serializer(AnswerForm, "AnswerSerializer")
ConsentWithdrawalSerializer = form_serializer(
    ConsentWithdrawalNoteForm, "ConsentWithdrawalSerializer"
)


class ApplicationPages(CursorPagination):
    # The staff list's order, served by the indexes cases_app_created and
    # cases_app_member_created; a cursor never counts or skips rows at 100,000 applications.
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- applications ----------------------------------------------------------------------------


def withheld_body(application: Application, user) -> dict:
    """What another member's staff see once the guardian withdrew consent: the reference,
    the entering member, the withdrawal and their own member's review (PIPL art. 15)."""
    zero = 0
    return {
        "reference": application.reference,
        "status": application.status,
        "member": application.member.short_name,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "closing_reason": application.closing_reason,
        "closed_at": application.closed_at,
        "consent_withdrawn_at": application.consent_withdrawn_at,
        "discarded_at": application.discarded_at,
        "personal_data_withheld": True,
        "editable": False,
        "sections": {key: {} for key in SECTION_FORMS},
        "complete": dict.fromkeys(SECTIONS, False),
        "section_errors": [],
        "missing_documents": [],
        "documents": [],
        "per_capita_income": None,
        "need": zero,
        "pledged": zero,
        "funding_gap": zero,
        "reviews": privacy_selectors.withheld_reviews(user, application),
    }


def application_body(application: Application) -> dict:
    """The application as ApplicationDetailSerializer renders it."""
    reviews = sorted(
        application.reviews.select_related("member", "project"), key=lambda r: r.member.number
    )
    gap = funding.gap_summary(application, reviews)
    forms = {key: services.section_form(application, key) for key in SECTION_FORMS}
    return {
        "reference": application.reference,
        "status": application.status,
        "member": application.member.short_name,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "closing_reason": application.closing_reason,
        "closed_at": application.closed_at,
        "consent_withdrawn_at": application.consent_withdrawn_at,
        "discarded_at": application.discarded_at,
        "personal_data_withheld": False,
        "editable": services.is_editable(application),
        "sections": {key: api_sections.section_values(application, key) for key in SECTION_FORMS},
        "complete": {key: services.section_complete(application, key) for key in SECTIONS},
        "section_errors": [
            error for key, form in forms.items() for error in api_sections.form_errors(key, form)
        ],
        "missing_documents": [
            {"doc_type": doc_type, "flag": flag}
            for doc_type, flag in documents.missing(application)
        ],
        "documents": application.documents.all(),
        "per_capita_income": application.per_capita_income,
        "need": gap.need,
        "pledged": gap.pledged,
        "funding_gap": gap.gap,
        "reviews": reviews,
    }


def _detail(application: Application, user, *, view="api-detail", code=status.HTTP_200_OK):
    # Fresh, with its prefetches; another member after a withdrawal of consent gets the
    # reference, the member and its own review only.
    application = access.get_application_for(user, application.reference, personal=False)
    audit.access_record(application=application, user=user, view=view)
    if access.shared_data_withheld(user, application):
        body = ApplicationDetailSerializer(withheld_body(application, user)).data
        return Response(body, status=code)
    body = ApplicationDetailSerializer(application_body(application)).data
    return Response(body, status=code)


def submit_problems(application: Application) -> list[dict]:
    """Why a draft cannot be submitted yet: its sections' errors, required fields included
    (what services.application_submit checks): every field, as the page's error summary
    lists them (cases.intake.selectors.section_status)."""
    return [
        problem
        for status in selectors.application_sections(application, checked=True)
        if status.form is not None and status.state != selectors.SectionState.COMPLETE
        for problem in api_sections.form_errors(status.key, status.form)
    ]


@extend_schema_view(
    list=extend_schema(
        summary="The member's applications (the secretariat: all), newest first",
        responses={200: ApplicationListSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    create=extend_schema(
        summary="A new draft with its reference number",
        request=None,
        responses={201: ApplicationDetailSerializer, **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="One application: sections A–H, documents, every member's review",
        responses={200: ApplicationDetailSerializer, **error_responses(403, 404)},
    ),
)
class ApplicationViewSet(CasesApi, viewsets.GenericViewSet):
    """Applications under the unified standard (standard.md §2). A member's staff enter and
    change their own member's applications and read those routed to their member; the
    secretariat reads all."""

    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"
    filterset_class = ApplicationFilter
    pagination_class = ApplicationPages
    serializer_class = ApplicationDetailSerializer
    # Only what a list row shows (the selector's own .only() is for the page's columns).
    LIST_FIELDS = (
        "reference",
        "status",
        "created_at",
        "submitted_at",
        "consent_withdrawn_at",
        "discarded_at",
        "child__name",
        "child__id_number",
        "category__code",
        "member__short_name",
    )

    def get_queryset(self):
        return Application.objects.visible_to(self.request.user)

    def get_object(self, *, edit=False, personal=True):
        return access.get_application_for(
            self.request.user, self.kwargs["reference"], edit=edit, personal=personal
        )

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset()).only(*self.LIST_FIELDS)
        page = self.paginate_queryset(queryset)
        records_access(page, request.user, "api-list")
        return self.get_paginated_response(
            ApplicationListSerializer(page, many=True, context={"user": request.user}).data
        )

    def create(self, request):
        try:
            application = services.application_create(by=request.user)
        except services.ApplicationError as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        response = _detail(application, request.user, code=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(application.reference + "/")
        return response

    def retrieve(self, request, reference):
        return _detail(self.get_object(personal=False), request.user)

    @extend_schema(
        summary="The ID and bank numbers in full (显示完整号码); the request is recorded",
        description="Elsewhere these numbers are masked. The entering member's staff and the "
        "secretariat get every number; a member that pledged gets the bank account (G04) "
        "only, to pay; anyone else 403. Each call is an access record (view api-reveal).",
        responses={200: RevealedNumbersSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="reveal")
    def reveal_numbers(self, request, reference):
        application = self.get_object()
        fields = reveal.reveal(application=application, user=request.user, via="api")
        stored = {
            **SECTION_FORMS["A"].initial_for(application),
            **SECTION_FORMS["B"].initial_for(application),
            **SECTION_FORMS["G"].initial_for(application),
        }
        body = {"reference": application.reference}
        for name in sorted(reveal.MASKED_FIELDS):
            body[name] = (stored.get(name) or "") if name in fields else None
        return Response(RevealedNumbersSerializer(body).data)

    def perform_content_negotiation(self, request, force=False):
        # The data export is sent as a ZIP; its refusals are JSON whatever the client accepts.
        return super().perform_content_negotiation(
            request, force=force or getattr(self, "action", None) == "data_export"
        )

    @extend_schema(
        summary="Record that the guardian withdrew consent to sharing (PIPL art. 15)",
        description="For the staff of the member that entered the application and the "
        "secretariat. The other members' open reviews end, routing is refused from then on, "
        "and the other members see only the reference, the member and the withdrawal; "
        "decisions, pledges, allocations and payments made before stay.",
        request=ConsentWithdrawalSerializer,
        responses={200: ApplicationDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="withdraw-consent",
        permission_classes=[IsAuthenticated, IsStaff],
    )
    def withdraw_consent(self, request, reference):
        application = self.get_object()
        data = self.cleaned(ConsentWithdrawalNoteForm, request)
        review_services.consent_withdraw(
            application=application, by=request.user, note=data["note"]
        )
        return _detail(application, request.user)

    @extend_schema(
        summary="Everything held about the child and the guardians, as one ZIP (PIPL art. 45)",
        description="A guardian's data-access request: 数据.json with Chinese labels, the "
        "documents' files and 说明.txt. For the staff of the member that entered the "
        "application and the secretariat; recorded in the access record.",
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="data-export")
    def data_export(self, request, reference):
        application = self.get_object()
        if not access.may_export_data(request.user, application):
            raise exceptions.PermissionDenied(
                _(
                    "Only the staff of the member that entered the application, or the "
                    "secretariat, answer a data-access request."
                )
            )
        return data_export.export_response(application, request.user)

    @extend_schema(
        summary="Submit a complete, valid draft: it is routed to every member",
        request=None,
        responses={200: ApplicationDetailSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, reference):
        application = self.get_object(edit=True)
        try:
            services.application_submit(application=application, by=request.user)
        except services.DuplicateApplication:
            raise  # 409 with code duplicate_application and the shareable match
        except services.ApplicationError as exc:
            raise Conflict(str(exc), errors=submit_problems(application)) from None
        return _detail(application, request.user)

    @extend_schema(
        summary="Possible records of the same child (one child, one record, §2)",
        description="Other applications with the same ID number, name and birth date, or "
        "name and guardian's phone. An application shared with your member comes with its "
        "reference (link it with link-child); for any other only the member and its "
        "contact are given, never its details.",
        responses={200: PossibleMatchSerializer(many=True), **error_responses(403, 404)},
    )
    # A short list about one draft: no pages, no list filters (the schema says so too).
    @action(
        detail=True,
        methods=["get"],
        url_path="possible-duplicates",
        pagination_class=None,
        filter_backends=[],
    )
    def possible_duplicates(self, request, reference):
        application = self.get_object(edit=True)
        audit.access_record(application=application, user=request.user, view="api-edit")
        matches = selectors.possible_duplicates(application, request.user)
        return Response(PossibleMatchSerializer(matches, many=True).data)

    @extend_schema(
        summary="Record a draft as the same child as a shared application",
        description="Only the identity is joined: each application keeps its own section A. "
        "The reference must be one that possible-duplicates lists with a reference.",
        request=LinkChildSerializer,
        responses={200: ApplicationDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="link-child", filter_backends=[])
    def link_child(self, request, reference):
        application = self.get_object(edit=True)
        body = LinkChildSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        other = selectors.linkable_match(
            application, request.user, body.validated_data["reference"]
        )
        if other is None:
            raise exceptions.NotFound()
        services.application_link_child(application=application, other=other, by=request.user)
        return _detail(application, request.user)

    @extend_schema(
        summary="Withdraw a submitted application; open reviews end",
        request=ApplicationNoteSerializer,
        responses={200: ApplicationDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, reference):
        application = self.get_object(edit=True)
        data = self.cleaned(ApplicationNoteForm, request)
        review_services.application_withdraw(
            application=application, by=request.user, note=data["note"]
        )
        return _detail(application, request.user)

    @extend_schema(
        summary="Close a submitted application with a closing reason (§3)",
        request=CloseSerializer,
        responses={200: ApplicationDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, reference):
        application = self.get_object(edit=True)
        data = self.cleaned(CloseForm, request)
        review_services.application_close(application=application, by=request.user, **data)
        return _detail(application, request.user)

    @extend_schema(
        summary="A new hospital estimate (D08): the only way to widen the funding gap",
        request=ReviseEstimateSerializer,
        responses={200: ApplicationDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="revise-estimate")
    def revise_estimate(self, request, reference):
        application = self.get_object(edit=True)
        data = self.cleaned(ReviseEstimateForm, request)
        review_services.application_revise_estimate(
            application=application, by=request.user, **data
        )
        return _detail(application, request.user)

    @extend_schema(
        summary="Tell a member that the information it asked for is there",
        parameters=[OpenApiParameter("review_id", int, OpenApiParameter.PATH)],
        request=AnswerSerializer,
        responses={200: ReviewSummarySerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path=r"reviews/(?P<review_id>[0-9]+)/answer")
    def answer(self, request, reference, review_id):
        application = self.get_object(edit=True)
        review = get_object_or_404(MemberReview, pk=review_id, application=application)
        data = self.cleaned(AnswerForm, request)
        review_services.review_answer_info(review=review, by=request.user, note=data["note"])
        review = MemberReview.objects.select_related("member", "project").get(pk=review.pk)
        return Response(ReviewSummarySerializer(review).data)

    @extend_schema(
        summary="Upload a document (F): PDF, JPEG or PNG, checked by its bytes",
        description="The application's documents are listed at /api/v1/documents/?application=.",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, reference):
        application = self.get_object(edit=True)
        form = DocumentUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            raise form_invalid(form, section="F")
        try:
            # The service checks the file again; checked here too, a bad file is a 400.
            documents.check_upload(form.cleaned_data["file"], max_bytes=settings.DOCUMENT_MAX_BYTES)
        except ValidationError as exc:
            raise Invalid([error(m, section="F", field="file") for m in exc.messages]) from None
        document = services.document_upload(
            application=application,
            doc_type=form.cleaned_data["doc_type"],
            flag=form.cleaned_data["flag"],
            upload=form.cleaned_data["file"],
            by=request.user,
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


# --- documents ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Documents of the applications the user may see, filtered",
        responses={200: DocumentSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One document's details",
        responses={200: DocumentSerializer, **error_responses(403, 404)},
    ),
)
class DocumentViewSet(CasesApi, viewsets.GenericViewSet):
    """Documents of applications (standard.md §2 F), for whoever may see the application;
    every download is in the access record."""

    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    pagination_class = SmallPages
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        documents = Document.objects.select_related("application")
        return access.visible_documents(self.request.user, documents).order_by(
            "application_id", "uploaded_at", "pk"
        )

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        records_access([d.application for d in page], request.user, "api-documents")
        return self.get_paginated_response(DocumentSerializer(page, many=True).data)

    def retrieve(self, request, pk):
        document = access.get_document_for(request.user, pk)
        audit.access_record(
            application=document.application, user=request.user, view="api-document"
        )
        return Response(DocumentSerializer(document).data)

    @extend_schema(
        summary="The document's file",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            **error_responses(403, 404),
        },
    )
    @action(detail=True, methods=["get"])
    def file(self, request, pk):
        document = access.get_document_for(request.user, pk)
        return downloads.document_response(
            document, user=request.user, view="api-document", as_attachment=True
        )

    def perform_content_negotiation(self, request, force=False):
        # The file is sent as what it is; refusals are JSON whatever the client accepts.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Accept or reject a document (the entering member's staff)",
        request=DocumentReviewSerializer,
        responses={200: DocumentSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk):
        document = access.get_document_for(request.user, pk, edit=True)
        form = DocumentReviewForm(form_data(self.body(request), DocumentReviewForm))
        if not form.is_valid():
            raise form_invalid(form, section="F")
        document = services.document_review(
            document=document,
            accept=form.cleaned_data["decision"] == "accepted",
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        return Response(DocumentSerializer(document).data)
