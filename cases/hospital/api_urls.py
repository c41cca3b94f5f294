from django.urls import path

from cases.hospital import api

urlpatterns = [
    path("hospital/applications/", api.HospitalListView.as_view(), name="api-hospital-list"),
    path(
        "hospital/applications/<str:reference>/",
        api.HospitalApplicationView.as_view(),
        name="api-hospital-application",
    ),
    path(
        "hospital/applications/<str:reference>/confirm/",
        api.HospitalConfirmView.as_view(),
        name="api-hospital-confirm",
    ),
    path(
        "hospital/applications/<str:reference>/correct/",
        api.HospitalCorrectView.as_view(),
        name="api-hospital-correct",
    ),
    path(
        "hospital/applications/<str:reference>/documents/",
        api.HospitalDocumentView.as_view(),
        name="api-hospital-documents",
    ),
    path(
        "hospital/applications/<str:reference>/receipts/",
        api.HospitalReceiptView.as_view(),
        name="api-hospital-receipts",
    ),
]
