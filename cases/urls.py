from django.urls import path

from cases import review_views, views

urlpatterns = [
    path("applications/", views.application_list, name="application-list"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/<str:reference>/", views.application_detail, name="application-detail"),
    path("applications/<str:reference>/edit/", views.application_edit, name="application-edit"),
    path(
        "applications/<str:reference>/sections/<str:section>/",
        views.section_save,
        name="application-section",
    ),
    path(
        "applications/<str:reference>/submit/", views.application_submit, name="application-submit"
    ),
    path(
        "applications/<str:reference>/receipt/",
        views.application_receipt,
        name="application-receipt",
    ),
    path(
        "applications/<str:reference>/link-child/<int:child_id>/",
        views.link_child,
        name="application-link-child",
    ),
    path(
        "applications/<str:reference>/documents/",
        views.document_upload,
        name="document-upload",
    ),
    path("inbox/", review_views.inbox, name="inbox"),
    path(
        "reviews/<int:pk>/<slug:action>/",
        review_views.review_action,
        name="review-action",
    ),
    path(
        "applications/<str:reference>/reviews/<int:pk>/answer/",
        review_views.answer_info_request,
        name="review-answer",
    ),
    path(
        "applications/<str:reference>/do/<slug:action>/",
        review_views.application_action,
        name="application-action",
    ),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
    path("documents/<int:pk>/review/", views.document_review, name="document-review"),
]
