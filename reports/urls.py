from django.urls import path

from reports import views

urlpatterns = [
    path("", views.dashboard, name="reports-dashboard"),
    path("download/", views.alliance_download, name="reports-download"),
    path("authorities/", views.authorities_download, name="reports-authorities"),
    path("runs/", views.run_create, name="reports-run-create"),
    path("runs/<int:pk>/", views.run_detail, name="reports-run"),
    path("runs/<int:pk>/status/", views.run_status, name="reports-run-status"),
    path("runs/<int:pk>/file/", views.run_file, name="reports-run-file"),
    path(
        "applications/<str:reference>/pdf/", views.application_pdf, name="reports-application-pdf"
    ),
]
