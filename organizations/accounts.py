"""Staff sign-in hardened (standard.md §5): the lockout on the login forms, the browser's
and the admin's alike, the second factor's code form under the same lockout, and the
idle-session stamp set at login."""

import re

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aid_alliance.clients import client_address
from organizations import ratelimit, second_factor

LAST_SEEN = "last_seen"


class LockoutMixin:
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        attempt = login_attempt(self.request, username)
        cleaned = super().clean()  # a wrong password raises here: the hit stays, a failure
        ratelimit.release(attempt.row)
        if not second_factor.code_expected(self.get_user()):
            # Signed in. With a code still to give, the name's failures stay until the code
            # is right, so that signing in again with the password cannot wipe the wrong
            # codes' count.
            login_succeeded(username)
        return cleaned


def login_attempt(request, username: str) -> ratelimit.Hit:
    """One try of the staff login lockout (§5): LOGIN_MAX_FAILURES per user name and per
    client address in LOGIN_LOCKOUT_SECONDS; a try over it is refused, the right password
    included, until the oldest counted failure ages out."""
    attempt = ratelimit.hit(
        "login",
        username=username.strip().lower(),
        address=client_address(request) if request else "",
    )
    if not attempt.allowed:
        raise locked(attempt.retry_at)
    return attempt


def login_succeeded(username: str) -> None:
    ratelimit.clear("login", username=username.strip().lower())


def locked(retry_at) -> forms.ValidationError:
    return forms.ValidationError(
        _(
            "Too many failed logins. To protect the children's data, logging in is "
            "paused until %(time)s."
        )
        % {"time": timezone.localtime(retry_at).strftime("%H:%M")},
        code="locked",
    )


class StaffLoginForm(LockoutMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutMixin, AdminAuthenticationForm):
    pass


class SecondFactorForm(forms.Form):
    """The 6-digit code of the signed-in user's device: each try counts in the login
    lockout like a password (per user name and per client address), and django-otp adds
    its own growing delay after wrong codes on the device."""

    code = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=20,
        help_text=gettext_lazy("The number your authenticator app shows now for this site."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, request, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.request, self.device = request, device

    def clean_code(self):
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError(
                _("Enter the 6 digits your authenticator app shows, without letters."),
                code="format",
            )
        user = self.request.user
        username = user.get_username()
        attempt = login_attempt(self.request, username)
        wait = second_factor.throttle_seconds(self.device)
        if wait is not None:
            raise forms.ValidationError(
                _(
                    "Several wrong codes in a row: wait %(seconds)s seconds, then enter the "
                    "code your app shows at that moment."
                )
                % {"seconds": wait},
                code="throttled",
            )
        if not second_factor.verify_code(user=user, device=self.device, code=code):
            raise forms.ValidationError(
                _(
                    "This code is not right. Enter the 6 digits your authenticator app shows "
                    "now; a code is used only once."
                ),
                code="wrong",
            )
        ratelimit.release(attempt.row)
        login_succeeded(username)
        return code


def stamp_login(sender, request, user, **kwargs):
    """Start the idle clock at login (aid_alliance.middleware.IdleSessionMiddleware)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(timezone.now().timestamp())
