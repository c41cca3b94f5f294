from django.urls import path

from organizations import views

urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("directory/<slug:code>/", views.project_detail, name="project-detail"),
    path("eligibility/", views.precheck, name="precheck"),
    path("regions/options/", views.region_options, name="region-options"),
    path("members/<slug:short_name>/", views.member_workspace, name="member-workspace"),
    path(
        "members/<slug:short_name>/accounts/",
        views.member_account_events,
        name="member-account-events",
    ),
]
