"""/api/v1/ for the cases app (issue 8), next to the directory's organizations.api_urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cases import api_reports
from cases.bills import api as api_bills
from cases.intake import api
from cases.intake import sections_api as api_sections
from cases.review import api as api_reviews
from cases.serializers import SECTION_SERIALIZERS

router = SimpleRouter()
router.register("applications", api.ApplicationViewSet, basename="api-application")
router.register("documents", api.DocumentViewSet, basename="api-document")
router.register("reviews", api_reviews.ReviewViewSet, basename="api-review")
router.register("receipts", api_bills.ReceiptViewSet, basename="api-receipt")
router.register("allocations", api_bills.AllocationViewSet, basename="api-allocation")
router.register("payments", api_bills.PaymentViewSet, basename="api-payment")

urlpatterns = [
    # One URL per section, so that the schema describes each section's own body.
    *(
        path(
            f"applications/<str:reference>/sections/{key}/",
            api_sections.SectionView.as_view(section=key),
            name=f"api-application-section-{key}",
        )
        for key in SECTION_SERIALIZERS
    ),
    path(
        "applications/<str:reference>/receipts/",
        api_bills.ReceiptCreateView.as_view(),
        name="api-application-receipts",
    ),
    path(
        "reviews/<int:pk>/allocations/",
        api_bills.PledgeAllocationView.as_view(),
        name="api-review-allocations",
    ),
    path(
        "reviews/<int:pk>/payments/",
        api_bills.PledgePaymentView.as_view(),
        name="api-review-payments",
    ),
    path("reports/figures/", api_reports.ReportFiguresView.as_view(), name="api-report-figures"),
    *router.urls,
]
