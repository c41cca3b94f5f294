from django.urls import path

from cases.bills import views as bill_views
from cases.intake import views
from cases.privacy import audit_views
from cases.privacy import views as privacy_views
from cases.review import views as review_views

urlpatterns = [
    path("applications/", views.application_list, name="application-list"),
    path("applications.csv", views.application_list_csv, name="application-list-csv"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/<str:reference>/", views.application_detail, name="application-detail"),
    path("applications/<str:reference>/edit/", views.application_edit, name="application-edit"),
    path(
        "applications/<str:reference>/reveal/", views.application_reveal, name="application-reveal"
    ),
    path(
        "applications/<str:reference>/sections/<str:section>/",
        views.section_save,
        name="application-section",
    ),
    path(
        "applications/<str:reference>/discard/",
        views.application_discard,
        name="application-discard",
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
        "applications/<str:reference>/link-child/<str:other_reference>/",
        views.link_child,
        name="application-link-child",
    ),
    path(
        "applications/<str:reference>/documents/",
        views.document_upload,
        name="document-upload",
    ),
    path(
        "applications/<str:reference>/withdraw-consent/",
        privacy_views.consent_withdraw,
        name="application-consent-withdraw",
    ),
    path(
        "applications/<str:reference>/data-export/",
        privacy_views.data_export_download,
        name="application-data-export",
    ),
    path("inbox/", review_views.inbox, name="inbox"),
    path("access-records/", audit_views.access_records, name="access-records"),
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
    path(
        "applications/<str:reference>/receipts/new/",
        bill_views.receipt_new,
        name="receipt-new",
    ),
    path("receipts/<int:pk>/", bill_views.receipt_detail, name="receipt-detail"),
    path("payments/", bill_views.payments, name="payments"),
    path("pledges/<int:pk>/", bill_views.pledge_detail, name="pledge-detail"),
    path("pledges/<int:pk>/reveal/", bill_views.pledge_reveal, name="pledge-reveal"),
    path("pledges/<int:pk>/allocate/", bill_views.pledge_allocate, name="pledge-allocate"),
    path("pledges/<int:pk>/pay/", bill_views.pledge_pay, name="pledge-pay"),
    path(
        "pledges/<int:pk>/allocations/<int:allocation_pk>/reverse/",
        bill_views.allocation_reverse,
        name="allocation-reverse",
    ),
    path(
        "pledges/<int:pk>/payments/<int:payment_pk>/reverse/",
        bill_views.payment_reverse,
        name="payment-reverse",
    ),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
    path("documents/<int:pk>/review/", views.document_review, name="document-review"),
]
