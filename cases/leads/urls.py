from django.urls import path

from cases.leads import views

urlpatterns = [
    path("contact-me/<slug:short_name>/", views.callback_request, name="lead-request"),
    path("contact-me/<slug:short_name>/sent/", views.callback_sent, name="lead-sent"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/contacted/", views.lead_contacted, name="lead-contacted"),
    path("leads/<int:pk>/close/", views.lead_close, name="lead-close"),
    path(
        "leads/<int:pk>/open-application/",
        views.lead_open_application,
        name="lead-open-application",
    ),
]
