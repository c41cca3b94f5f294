from django.urls import path

from cases.family import views as family_views

urlpatterns = [
    path("", family_views.status_lookup, name="family-status"),
    path("result/", family_views.status_result, name="family-status-result"),
    path("code/", family_views.status_code, name="family-status-code"),
    path("upload/", family_views.status_upload, name="family-status-upload"),
    path("leave/", family_views.status_leave, name="family-status-leave"),
]
