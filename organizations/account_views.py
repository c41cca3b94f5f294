"""Staff account pages beyond Django's own: password reset behind the rate limiter, and
each user's API tokens (organizations.tokens)."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from aid_alliance.clients import client_address
from organizations import ratelimit, second_factor, tokens
from organizations.forms import ApiTokenForm


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


@never_cache
@login_required
@second_factor.verified_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's own API tokens: make one (its secret shown this once), list, revoke."""
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = tokens.api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            by=request.user,
        )
        form = ApiTokenForm()
    return render(
        request,
        "registration/api_tokens.html",
        {
            "form": form,
            "secret": secret,
            "tokens": tokens.tokens_of(request.user),
            "now": timezone.now(),
            "days": settings.API_TOKEN_DAYS,
        },
    )


@never_cache
@login_required
@second_factor.verified_required
@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(tokens.tokens_of(request.user), pk=pk)
    tokens.api_token_revoke(token=token, by=request.user)
    done = _("The token %(prefix)s… no longer works.") % {"prefix": token.prefix}
    messages.success(request, done)
    return redirect("api-tokens")
