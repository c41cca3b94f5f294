import hashlib
import json

from django.http import HttpResponse
from django.utils.cache import get_conditional_response, quote_etag
from django.utils.decorators import method_decorator
from django.views.decorators.http import condition
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations import directory_cache, regions
from organizations.eligibility import evaluate
from organizations.filters import MemberFilter, ProjectFilter
from organizations.hsds import HsdsDirectorySerializer, directory_hsds
from organizations.models import AidProject, MemberOrganization
from organizations.serializers import (
    EligibilityRequestSerializer,
    EligibilityResponseSerializer,
    MemberSerializer,
    ProjectResultSerializer,
    ProjectSerializer,
)


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    """The alliance's member organisations (public)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    queryset = MemberOrganization.objects.filter(is_active=True).order_by("number")
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    lookup_field = "short_name"

    # Eight rows in one query: an ETag of the body answers a repeat with 304, without the
    # directory's version (a query more than this list makes).
    def list(self, request, *args, **kwargs):
        return _etag_of_body(request, super().list(request, *args, **kwargs))

    def retrieve(self, request, *args, **kwargs):
        return _etag_of_body(request, super().retrieve(request, *args, **kwargs))


def _etag_of_body(request, response: Response):
    if response.status_code != status.HTTP_200_OK:
        return response
    body = json.dumps(response.data, sort_keys=True, default=str, ensure_ascii=False)
    etag = quote_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response)


def _rendered_once(view: APIView, state, key: tuple, build, *, by_url: bool = True) -> HttpResponse:
    """The body as DRF renders `build()`'s data, rendered once per version of the directory,
    language, absolute URL (pagination links carry the host; `by_url` False for a body that
    reads neither the query nor the host, so that made-up query strings do not each keep a
    copy) and negotiated media type (JSON's indent=): the same for every caller, none of
    these views knowing who asks."""
    request = view.request
    renderer, media_type = request.accepted_renderer, request.accepted_media_type

    def render() -> tuple[bytes, str]:
        response = Response(build())
        response.accepted_renderer, response.accepted_media_type = renderer, media_type
        response.renderer_context = view.get_renderer_context()
        response.render()
        return response.content, response["Content-Type"]

    key = (*key, request.build_absolute_uri() if by_url else "", media_type)
    content, content_type = directory_cache.cached(state, key, render)
    return HttpResponse(content, content_type=content_type)


# Built once per version of the directory and language; a repeat of a request whose answer
# the client has gets 304 after the one query of the version (organizations.directory_cache).
by_directory_version = method_decorator(condition(etag_func=directory_cache.etag))


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Aid projects with their current rules in plain words (public)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    queryset = AidProject.objects.with_rules().order_by("code")
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    lookup_field = "code"

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "labels": self._state.labels}

    @property
    def _state(self):
        return directory_cache.state_of(self.request)

    def _cached(self, build):
        """A refused request (unknown code, bad filter) raises inside `build`: not kept."""
        return _rendered_once(self, self._state, ("projects",), lambda: build().data)

    @by_directory_version
    def list(self, request, *args, **kwargs):
        return self._cached(lambda: super(ProjectViewSet, self).list(request, *args, **kwargs))

    @by_directory_version
    def retrieve(self, request, *args, **kwargs):
        return self._cached(lambda: super(ProjectViewSet, self).retrieve(request, *args, **kwargs))


class EligibilityView(APIView):
    """Which projects could help one applicant, how much, and why not the others."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=EligibilityRequestSerializer, responses=EligibilityResponseSerializer)
    def post(self, request):
        serializer = EligibilityRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = directory_cache.directory_state()
        results = evaluate(
            serializer.applicant(),
            directory_cache.open_projects_rules(state),
            category_labels=state.labels,
            region_label=regions.name_of,
        )
        body = {
            "results": {
                code: ProjectResultSerializer(result).data for code, result in results.items()
            }
        }
        return Response(body, status=status.HTTP_200_OK)


class HsdsView(APIView):
    """The directory as Open Referral HSDS 3.0 data (public): the members as organizations,
    the projects as services with their eligibility in Chinese and their service areas."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=HsdsDirectorySerializer, tags=["directory"])
    @by_directory_version
    def get(self, request):
        state = directory_cache.state_of(request)
        return _rendered_once(
            self,
            state,
            ("hsds",),
            lambda: HsdsDirectorySerializer(directory_hsds(labels=state.labels)).data,
            by_url=False,
        )
