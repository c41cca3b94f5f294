from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations import regions, selectors
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


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Aid projects with their current rules in plain words (public)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    queryset = AidProject.objects.with_rules().order_by("code")
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    lookup_field = "code"


class EligibilityView(APIView):
    """Which projects could help one applicant, how much, and why not the others."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=EligibilityRequestSerializer, responses=EligibilityResponseSerializer)
    def post(self, request):
        serializer = EligibilityRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = evaluate(
            serializer.applicant(),
            selectors.open_projects_rules(),
            category_labels=selectors.category_labels(),
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
    def get(self, request):
        return Response(HsdsDirectorySerializer(directory_hsds()).data)
