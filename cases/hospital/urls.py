from django.urls import path

from cases.hospital import views

urlpatterns = [
    path("hospital/", views.hospital_list, name="hospital-list"),
    path(
        "hospital/applications/<str:reference>/",
        views.hospital_application,
        name="hospital-application",
    ),
    path(
        "hospital/applications/<str:reference>/confirm/",
        views.hospital_confirm,
        name="hospital-confirm",
    ),
    path(
        "hospital/applications/<str:reference>/correct/",
        views.hospital_correct,
        name="hospital-correct",
    ),
    path(
        "hospital/applications/<str:reference>/documents/",
        views.hospital_upload,
        name="hospital-upload",
    ),
    path(
        "hospital/applications/<str:reference>/receipts/new/",
        views.hospital_receipt,
        name="hospital-receipt",
    ),
    path("hospital/documents/<int:pk>/", views.hospital_document, name="hospital-document"),
    path("hospitals/match/", views.hospital_match_list, name="hospital-match-list"),
    path("hospitals/match/<str:reference>/", views.hospital_match, name="hospital-match"),
]
