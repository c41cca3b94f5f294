from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from aid_alliance import views
from organizations import account_views, second_factor_views
from organizations.accounts import StaffLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    # The login form with the lockout; the rest of Django's account pages as they are.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(form_class=StaffLoginForm),
        name="login",
    ),
    # The second factor after the password (organizations/second_factor.py).
    path("accounts/otp/", second_factor_views.verify, name="otp-verify"),
    path("accounts/otp/enrol/", second_factor_views.enrol, name="otp-enrol"),
    # Password reset behind the rate limiter (organizations.ratelimit).
    path(
        "accounts/password_reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    # Each user's API tokens, behind the second factor (organizations/tokens.py).
    path("accounts/tokens/", account_views.api_tokens, name="api-tokens"),
    path(
        "accounts/tokens/<int:pk>/revoke/",
        account_views.api_token_revoke,
        name="api-token-revoke",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("organizations.urls")),
    path("", include("cases.urls")),
    path("", include("cases.hospital.urls")),
    path("status/", include("cases.family.urls")),
    path("", include("cases.leads.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("organizations.api_urls")),
    path("api/v1/", include("cases.api_urls")),
    path("api/v1/", include("cases.hospital.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.BENCH_BARE_VIEW:  # `make bench` only: the bare view it measures pages against
    # First, so that it is found first: at the end, Django tried every pattern before it on
    # each request (32 µs of URL resolving, more than any staff page's route: the inbox's
    # takes 17), which lowered the ceiling and raised the staff pages' ratios to it (issue 18).
    urlpatterns.insert(0, path("bench/bare/", views.bare, name="bench-bare"))
