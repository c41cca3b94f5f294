"""Staff account pages beyond Django's own: password reset behind the rate limiter, and
each user's API tokens (organizations.tokens)."""

import math

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator

from aid_alliance.clients import client_address
from organizations import ratelimit


def too_many(request, template: str, retry_at, status: int = 429):
    """The page that says when to try again, with Retry-After."""
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        template,
        {"retry_at": retry_at, "minutes": math.ceil(seconds / 60)},
        status=status,
    )
    response["Retry-After"] = str(seconds)
    return response


# Each request must be seen by the other app servers at once (organizations.ratelimit).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, limited per client address and per e-mail address typed
    (PASSWORD_RESET_MAX_REQUESTS in PASSWORD_RESET_WINDOW_SECONDS): otherwise anyone could
    flood a colleague's mailbox, or probe the mail server, from the login page."""

    def post(self, request, *args, **kwargs):
        email = (request.POST.get("email") or "").strip().lower()[:254]
        attempt = ratelimit.hit("password_reset", address=client_address(request), email=email)
        if not attempt.allowed:
            return too_many(request, "registration/password_reset_limited.html", attempt.retry_at)
        return super().post(request, *args, **kwargs)
