"""Staff sign-in hardened (standard.md §5): the lockout on the login forms, the browser's
and the admin's alike, and the idle-session stamp set at login."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_alliance.clients import client_address
from organizations import lockout

LAST_SEEN = "last_seen"


class LockoutMixin:
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        row, retry_at = lockout.attempt_begin(
            username=username, address=client_address(self.request) if self.request else ""
        )
        if retry_at is not None:
            raise forms.ValidationError(
                _(
                    "Too many failed logins. To protect the children's data, logging in is "
                    "paused until %(time)s."
                )
                % {"time": timezone.localtime(retry_at).strftime("%H:%M")},
                code="locked",
            )
        cleaned = super().clean()  # a wrong password raises here: the row stays, a failure
        lockout.attempt_succeeded(row, username=username)
        return cleaned


class StaffLoginForm(LockoutMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutMixin, AdminAuthenticationForm):
    pass


def stamp_login(sender, request, user, **kwargs):
    """Start the idle clock at login (aid_alliance.middleware.IdleSessionMiddleware)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(timezone.now().timestamp())
