from django.urls import path
from rest_framework.routers import DefaultRouter

from organizations import api

router = DefaultRouter()
router.register("organizations", api.OrganizationViewSet, basename="api-organization")
router.register("projects", api.ProjectViewSet, basename="api-project")

urlpatterns = [
    path("eligibility/", api.EligibilityView.as_view(), name="api-eligibility"),
    path("hsds/", api.HsdsView.as_view(), name="api-hsds"),
    *router.urls,
]
