"""The second factor's two pages: the code after the password, and the first enrolment."""

import django_otp
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from organizations import second_factor
from organizations.accounts import SecondFactorForm


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _signed_in_with(request, device, next_url: str):
    django_otp.login(request, device)
    # A new session key for the session that now holds both factors.
    request.session.cycle_key()
    return redirect(next_url)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """After the password: the code of the user's confirmed device."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    device = second_factor.confirmed_device(request.user)
    if device is None:
        if second_factor.required_by_role(request.user):
            return redirect(_with_next("otp-enrol", next_url))
        # A caseworker whose device was reset since the login: nothing to ask any more.
        request.session[second_factor.ENROLLED_AT_LOGIN] = False
        return redirect(next_url)
    form = SecondFactorForm(request.POST or None, request=request, device=device)
    if request.method == "POST" and form.is_valid():
        return _signed_in_with(request, device, next_url)
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """A user without a confirmed device adds one: the QR code and the key in text, then a
    code from the app proves it before it counts. A user who has one is sent to the code
    page: only an administrator's reset (a lost phone) allows enrolling again."""
    next_url = _next_url(request)
    if second_factor.confirmed_device(request.user) is not None:
        return redirect(_with_next("otp-verify", next_url))
    device = second_factor.enrolment_device(request.user)
    form = SecondFactorForm(request.POST or None, request=request, device=device)
    if request.method == "POST" and form.is_valid():
        device = second_factor.enrolment_confirm(device=device, by=request.user)
        return _signed_in_with(request, device, next_url)
    return render(
        request,
        "registration/otp_enrol.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": second_factor.qr_code_data_uri(device),
            "secret": second_factor.secret_text(device),
            "issuer": settings.OTP_TOTP_ISSUER,
            "required": second_factor.required_by_role(request.user),
        },
    )
