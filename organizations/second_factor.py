"""The staff second factor (§5: children's data behind more than a password).

After the password, reviewers, the secretariat and administrators (settings
OTP_REQUIRED_ROLES, plus every superuser and everyone with admin access) enter a 6-digit
TOTP code from an authenticator app; the first time, they enrol one at /accounts/otp/enrol/.
Caseworkers may enrol and are then asked for the code as well. The codes, the devices and
the "verified" mark of a session are django-otp's (django_otp.login, OTPMiddleware);
this module decides who needs them, counts wrong codes in the login lockout and refuses
every request of a session that has not given one yet (SecondFactorMiddleware).
"""

from __future__ import annotations

import getpass
from base64 import b32encode
from functools import cached_property, wraps

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authentication import get_authorization_header

from organizations import services
from organizations.models import AccountEvent, User

# Set at login: this session's user had a confirmed device then (a caseworker who enrolled),
# so the code is asked even though the role does not require it.
ENROLLED_AT_LOGIN = "second_factor_enrolled"
DEVICE_NAME = "authenticator app"


def required_by_role(user) -> bool:
    """The role, or the admin access, asks for a second factor (no query). Hospital staff
    always (issue 17): they read children's medical data from outside the alliance's
    members, so no setting leaves them out."""
    return bool(
        user.is_superuser
        or user.is_staff
        or getattr(user, "role", "") in settings.OTP_REQUIRED_ROLES
        or getattr(user, "role", "") == User.Role.HOSPITAL_STAFF
    )


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def code_expected(user) -> bool:
    """This user signs in with a code: their role needs one, or they enrolled anyway."""
    return required_by_role(user) or confirmed_device(user) is not None


def mark_login(sender, request, user, **kwargs):
    """user_logged_in: remember whether a user not required to had enrolled (one query at
    login instead of one on every request)."""
    if request is not None and hasattr(request, "session") and not required_by_role(user):
        request.session[ENROLLED_AT_LOGIN] = confirmed_device(user) is not None


def session_needs_code(request) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if not (required_by_role(user) or request.session.get(ENROLLED_AT_LOGIN)):
        return False
    return not user.is_verified()


def verified_required(view):
    """A page that gives out credentials (API tokens) needs this session's code, whatever
    the role: a caseworker with a device gives the code, one without enrols first."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_verified():
            return view(request, *args, **kwargs)
        name = "otp-verify" if confirmed_device(request.user) is not None else "otp-enrol"
        path = request.get_full_path() if request.method == "GET" else request.path
        return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': path})}")

    return wrapped


def secret_text(device: TOTPDevice) -> str:
    """The key as authenticator apps take it by hand: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI as an SVG QR code, inline (CSP allows data: images, not scripts)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def enrolment_device(user) -> TOTPDevice:
    """The device being enrolled: the same key on every visit until it is confirmed."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def verify_code(*, user, device: TOTPDevice, code: str) -> bool:
    """Check a code against one of the user's devices, under its row lock (django-otp).

    django-otp refuses a device of another user, a code used before (last_t) and, after
    failures, further tries for a growing delay (ThrottlingMixin)."""
    return django_otp.verify_token(user, device.persistent_id, code) is not None


def throttle_seconds(device: TOTPDevice) -> int | None:
    """Seconds before django-otp accepts another try on this device, if it refuses now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    until = (data or {}).get("locked_until")
    return max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1


def enrolment_confirm(*, device: TOTPDevice, by: User) -> TOTPDevice:
    """The user proved the new key with a code: it becomes their only device, recorded."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        services.account_event_record(
            user=device.user, kind=AccountEvent.Kind.SECOND_FACTOR_ENROLLED, by=by
        )
    return device


def reset(*, user: User, by: User | None, note: str = "") -> int:
    """Remove every device of the user (a lost phone): they enrol again at the next login.

    Their signed-in sessions lose the verified mark at once (OTPMiddleware finds no device).
    Returns how many devices were removed; the reset is recorded even when there were none.
    """
    services.require_administrator(by)
    if by is None and not note:
        note = f"manage.py otp_reset, as {os_account()}"  # a record, not a UI text
    with transaction.atomic():
        removed, _per_model = TOTPDevice.objects.filter(user=user).delete()
        services.account_event_record(
            user=user, kind=AccountEvent.Kind.SECOND_FACTOR_RESET, by=by, note=note
        )
    return removed


def os_account() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def known_device(user, persistent_id: str) -> TOTPDevice | None:
    """The session's device, when it is the confirmed device read with the user
    (auth_backends.load_user): a TOTPDevice of its id, user and confirmation, its other
    fields read only if used. None when it is not, so that django-otp looks it up."""
    pk = getattr(user, "confirmed_device_pk", None)
    if pk is None:
        return None
    device = TOTPDevice.from_db(user._state.db, ["id", "user_id", "confirmed"], [pk, user.pk, True])
    return device if device.persistent_id == persistent_id else None


def unwrapped(user):
    """The user itself from behind Django's lazy object (evaluated if it was not yet).

    Every attribute read through a SimpleLazyObject runs two Python calls
    (`__getattribute__` and the proxy); with django-otp's lazy user around
    AuthenticationMiddleware's there were four, and a served-again staff page reads
    request.user some 240 times (issue 18)."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return unwrapped(user._wrapped)
    return user


class VerifiedDeviceMiddleware(OTPMiddleware):
    """django-otp's OTPMiddleware (request.user.otp_device, is_verified()) without its own
    query when the session's device is the one read with the user."""

    def _verify_user_sync(self, request, user):
        user = unwrapped(user)  # AuthenticationMiddleware's lazy user: one lazy layer, not two
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = None
            if persistent_id:
                device = known_device(user, persistent_id) or self._device_from_persistent_id(
                    persistent_id
                )
            user.otp_device = self._finalize_device(request, user, device)
        return user


class _Exempt:
    """Paths a session without its code may still use: the code pages, log out, log in as
    someone else, the language switch, static files."""

    @cached_property
    def prefixes(self) -> tuple[str, ...]:
        return (
            reverse("otp-verify"),
            reverse("otp-enrol"),
            reverse("login"),
            reverse("logout"),
            reverse("set_language"),
            settings.STATIC_URL,
        )

    def __contains__(self, path: str) -> bool:
        return path.startswith(self.prefixes)


def _uses_token(request) -> bool:
    """The request authenticates with an API token: DRF's TokenAuthentication decides (it
    comes first and never falls back to the session)."""
    words = get_authorization_header(request).split()
    return bool(words) and words[0].lower() == b"token"


class SecondFactorMiddleware:
    """Refuse every request of a session that still owes its code: pages and downloads are
    sent to the code page, the API gets 403 in its JSON shape. After OTPMiddleware (the
    verified mark) and IdleSessionMiddleware (an idle session is signed out first)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = _Exempt()

    def __call__(self, request):
        path = request.path_info
        if path in self.exempt:
            return self.get_response(request)
        if not session_needs_code(request):
            # Read by session_needs_code: from here on the user itself, not a lazy object.
            request.user = unwrapped(request.user)
            return self.get_response(request)
        if path.startswith("/api/"):
            if _uses_token(request):
                return self.get_response(request)
            return JsonResponse(
                {
                    "detail": _(
                        "Enter the code from your authenticator app first: this session "
                        "has only given a password."
                    ),
                    "errors": [],
                },
                status=403,
            )
        url = f"{reverse('otp-verify')}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request") == "true":  # htmx would put the page in a part
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
