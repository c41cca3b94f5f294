"""The family status page, /status/ (standard.md §3, §5): no account, no phone calls.

The family types the reference number and a guardian's mobile number on file (POST, CSRF
on); on a match the application's id and an expiry go into the session and the browser is
sent to a GET page that carries neither in its URL. Every response says `no-store`: a
shared phone's back button or a proxy must not show the page to the next person.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import time
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from aid_alliance import kept, replayed_pages
from aid_alliance.kept import Kept
from cases.errors import ApplicationError
from cases.family import selectors as family_status
from cases.family import services as family_services
from cases.notify import family_notifier, family_text
from organizations import ratelimit

logger = logging.getLogger("aid_alliance.family")
# The file fields of the papers' upload form: "paper-<RequestedDocument id>".
PAPER_FIELD = re.compile(r"paper-([0-9]{1,18})")

RESULT_TEMPLATE = "cases/family_status_result.html"
VIEW_KEY = "family_status"
CODE_KEY = "family_status_code"
CODE_SECONDS = 5 * 60
CODE_TRIES = 3
# Whatever did not match — the reference, the phone, both, or a draft's reference — the
# family reads the same words, so the answer never tells which half of a guess was right.
NO_MATCH = _(
    "The reference number and the phone number do not match our records. "
    "Please check both and try again."
)

WRONG_CODE = _("The code is not right. Please check the text message and try again.")


class StatusLookupForm(forms.Form):
    # No max_length validator: an overlong entry is just another mismatch (and the HTML
    # maxlength keeps honest typing short).
    reference = forms.CharField(
        label=_("Reference number"),
        help_text=_("It is on the receipt, like DB-2026-7K3M9Q."),
        widget=forms.TextInput(
            attrs={
                "maxlength": 30,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "DB-2026-XXXXXX",
            }
        ),
    )
    phone = forms.CharField(
        label=_("Guardian's mobile number"),
        help_text=_("The number the caseworker wrote on the application."),
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "maxlength": 30, "autocomplete": "tel"}
        ),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the text message"),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "maxlength": 6,
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
            }
        ),
    )


def _limited(request, retry_at):
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        "cases/family_status_limited.html",
        {"retry_at": retry_at, "minutes": math.ceil(seconds / 60)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def _lookup_attempt(request, reference: str) -> ratelimit.Hit:
    """FAMILY_STATUS_MAX_FAILURES per client address and per reference in the window. The
    hit stays when the lookup fails; a match takes it back (ratelimit.release)."""
    return ratelimit.hit(
        "family_status", client=family_status.client_address(request), reference=reference
    )


def _open_view(request, application_id: int) -> None:
    # A new session key at the moment the page opens: a session id planted beforehand
    # (session fixation) does not get to see it.
    request.session.cycle_key()
    request.session[VIEW_KEY] = {
        "application": application_id,
        "until": int(time.time()) + settings.FAMILY_STATUS_VIEW_SECONDS,
    }
    logger.info("family status opened for application %s", application_id)


@never_cache
@transaction.non_atomic_requests  # each attempt must be seen by the other app servers at once
@require_http_methods(["GET", "POST"])
def status_lookup(request):
    form = StatusLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reference = family_status.canonical_reference(form.cleaned_data["reference"][:60])
        phone = family_status.normalize_phone(form.cleaned_data["phone"][:60])
        attempt = _lookup_attempt(request, reference)
        if not attempt.allowed:
            return _limited(request, attempt.retry_at)
        found = family_status.find_application(reference=reference, phone=phone)
        if found is None:
            form.add_error(None, NO_MATCH)  # the attempt's row stays: a failure
        elif settings.FAMILY_STATUS_ONE_TIME_CODE:
            # The attempt's row stays until the code is entered: sending codes counts
            # against the same limit, so nobody can flood a family with texts.
            if _send_code(request, found, phone=phone, reference=reference, attempt=attempt):
                return redirect("family-status-code")
            ratelimit.release(attempt.row)
            form.add_error(None, _("The text message could not be sent. Please try later."))
        else:
            ratelimit.release(attempt.row)
            _open_view(request, found)
            return redirect("family-status-result")
    return render(request, "cases/family_status_form.html", {"form": form})


def _opened(request) -> dict | None:
    """The session's open view ({"application", "until"}), or None when it has closed."""
    opened = request.session.get(VIEW_KEY) or {}
    if opened.get("until", 0) <= time.time():
        if opened:
            del request.session[VIEW_KEY]
            messages.info(
                request,
                _("To protect your information the page closed. Please enter the details again."),
            )
        return None
    return opened


# The page's words above and below the papers, rendered once per content: keyed by a
# digest of everything family_view read (pickled: every field of every object, so no field
# can be left out of the key), the language and the time zone. Nothing of the session, the
# CSRF token or the errors is in them; a change gives another view, so another key.
FRAGMENTS = Kept(2048)  # per process; the least recently used go first


def _view_digest(view: family_status.FamilyView) -> bytes:
    return kept.pickled_digest(view)


def _fragments(view: family_status.FamilyView, view_digest: bytes) -> dict[str, str]:
    return FRAGMENTS.get_or_build(
        (view_digest, kept.surroundings()),
        lambda: {
            part: render_to_string(f"cases/_family_status_{part}.html", {"view": view})
            for part in ("head", "tail")
        },
    )


def _result_context(request, opened: dict) -> dict | None:
    view = family_status.family_view(opened["application"])
    if view is None:
        return None
    return {
        "view": view,
        "fragments": _fragments(view, _view_digest(view)),
        "open_until": datetime.fromtimestamp(opened["until"], tz=UTC),
        "max_mb": settings.DOCUMENT_MAX_BYTES // 1048576,
    }


def _gone(request):
    del request.session[VIEW_KEY]
    return redirect("family-status")


def _result_page(request, opened: dict, *, errors=None, status=200):
    """The status page of the session's application. Served again while family_view's
    reads answer the same (aid_alliance.replayed_pages), for this application and this
    opening's closing time (which the page shows); the key adds the language, the reader
    and the rest. With a refused upload's errors (a POST) it is built live, never kept:
    replayed_pages keeps the pages of GET requests only."""

    def build():
        context = _result_context(request, opened)
        if context is None:
            return _gone(request)
        context["paper_errors"] = errors or {}
        if errors:
            labels = {paper.pk: paper.text for paper in context["view"].papers}
            context["errors"] = [
                {"anchor": f"paper-{pk}", "code": "", "label": labels.get(pk, ""), "message": m}
                for pk, m in errors.items()
            ]
        return replayed_pages.Page(RESULT_TEMPLATE, context, status=status)

    inputs = ("family-status", opened["application"], opened["until"], settings.DOCUMENT_MAX_BYTES)
    return replayed_pages.page(request, build, inputs=inputs)


@never_cache
@require_http_methods(["GET"])
def status_result(request):
    opened = _opened(request)
    if opened is None:
        return redirect("family-status")
    return _result_page(request, opened)


@never_cache
@transaction.non_atomic_requests  # each upload is its own transaction; the limit's rows too
@require_POST
def status_upload(request):
    """The papers a member asked for, from the family's phone: one file per paper, each
    stored on its own (a refused file never costs the family the others it chose). Only the
    papers of the application this session opened are found."""
    opened = _opened(request)
    if opened is None:
        return redirect("family-status")
    application_id = opened["application"]
    chosen = {
        int(found.group(1)): upload
        for name, upload in request.FILES.items()
        # ASCII digits only: "paper-²" passes str.isdigit but not int() (a 500 before)
        if (found := PAPER_FIELD.fullmatch(name))
    }
    if not chosen:
        messages.error(request, _("Choose a photo or a PDF file first."))
        return redirect("family-status-result")
    errors: dict[int, str] = {}
    sent = 0
    for pk, upload in sorted(chosen.items()):
        attempt = ratelimit.hit(
            "family_upload",
            application=str(application_id),
            client=family_status.client_address(request),
        )
        if not attempt.allowed:
            response = _limited_uploads(request, attempt.retry_at)
            if sent:
                messages.success(request, _("Sent: the caseworker will check it."))
            return response
        try:
            family_services.family_document_send(
                application_id=application_id, item_id=pk, upload=upload
            )
        except ApplicationError as exc:
            errors[pk] = str(exc)
        else:
            sent += 1
    if errors:
        if sent:
            messages.success(request, _("Sent: the caseworker will check it."))
        return _result_page(request, opened, errors=errors, status=400)
    messages.success(request, _("Sent: the caseworker will check it."))
    return redirect("family-status-result")


def _limited_uploads(request, retry_at):
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        "cases/family_upload_limited.html",
        {"retry_at": retry_at, "minutes": math.ceil(seconds / 60)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


@never_cache
@require_POST
def status_leave(request):
    """ "Done": the page closes now, not in ten minutes (a phone is often shared)."""
    request.session.pop(VIEW_KEY, None)
    request.session.pop(CODE_KEY, None)
    return redirect("family-status")


# --- the optional second factor: a one-time code texted to the guardian's phone --------------


def _code_hash(application_id: int, code: str) -> str:
    return salted_hmac(
        "cases.family_status.code", f"{application_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _send_code(request, application_id: int, *, phone: str, reference: str, attempt) -> bool:
    code = f"{secrets.randbelow(10**6):06d}"
    with translation.override("zh-hans"):
        text = gettext(
            "Your code to see application %(reference)s is %(code)s. It works for 5 minutes. "
            "Do not tell anyone."
        ) % {"reference": reference, "code": code}
        text = family_text(text, reference=reference)
    try:
        family_notifier().send(phone=phone, text=text)
    except Exception:  # an SMS gateway down must not show the family an error page
        logger.exception("one-time code for application %s not sent", application_id)
        return False
    request.session[CODE_KEY] = {
        "application": application_id,
        "hash": _code_hash(application_id, code),
        "until": int(time.time()) + CODE_SECONDS,
        "tries": 0,
        "attempt": attempt.row,
        "reference": reference,
    }
    return True


@never_cache
@transaction.non_atomic_requests  # each attempt must be seen by the other app servers at once
@require_http_methods(["GET", "POST"])
def status_code(request):
    pending = request.session.get(CODE_KEY)
    if not settings.FAMILY_STATUS_ONE_TIME_CODE or not pending:
        return redirect("family-status")
    if pending["until"] <= time.time():
        del request.session[CODE_KEY]
        messages.info(request, _("The code is no longer valid. Please start again."))
        return redirect("family-status")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = _lookup_attempt(request, pending.get("reference", ""))
        if not attempt.allowed:
            return _limited(request, attempt.retry_at)
        typed = _code_hash(pending["application"], form.cleaned_data["code"].strip()[:12])
        if secrets.compare_digest(typed, pending["hash"]):
            ratelimit.release(attempt.row)
            ratelimit.release(pending["attempt"])
            del request.session[CODE_KEY]
            _open_view(request, pending["application"])
            return redirect("family-status-result")
        pending["tries"] += 1
        if pending["tries"] >= CODE_TRIES:
            del request.session[CODE_KEY]
            messages.error(request, _("The code was wrong too many times. Please start again."))
            return redirect("family-status")
        request.session[CODE_KEY] = pending
        form.add_error(None, WRONG_CODE)
    return render(request, "cases/family_status_code.html", {"form": form})
