"""Call-back requests: the family's form from the pre-check (no account, rate limited) and
the member's caseworker pages (list, detail, contacted, close, open an application)."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_alliance.clients import client_address
from cases import access
from cases.errors import ApplicationError, NotAllowed
from cases.leads import selectors, services
from cases.leads.forms import LeadCloseForm, LeadForm, LeadNoteForm
from cases.models import Lead
from organizations import ratelimit
from organizations.models import DiseaseCategory, MemberOrganization

PAGE_SIZE = 25


def _summary(form, fields) -> list[dict]:
    """The error summary's links: one per field in error, in the page's order."""
    return [
        {
            "anchor": form[name].auto_id,
            "code": "",
            "label": form.fields[name].label,
            "message": " ".join(form.errors[name]),
        }
        for name in fields
        if name in form.errors
    ]


def _initial(request) -> dict:
    """What the pre-check already knows: the household's province and the illness."""
    initial = {}
    region = request.GET.get("region", "")
    if region[:2].isdigit():
        initial["region"] = region[:2]
    category = request.GET.get("category", "")
    if category and DiseaseCategory.objects.filter(code=category).exists():
        initial["category"] = category
    return initial


@never_cache
@transaction.non_atomic_requests  # the limit's rows must be seen by every app server at once
@require_http_methods(["GET", "POST"])
def callback_request(request, short_name):
    member = get_object_or_404(MemberOrganization, short_name=short_name, is_active=True)
    form = LeadForm(request.POST or None, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        attempt = ratelimit.hit("lead", client=client_address(request), phone=data["phone"])
        if not attempt.allowed:
            seconds = max(1, math.ceil((attempt.retry_at - timezone.now()).total_seconds()))
            response = render(
                request,
                "cases/lead_limited.html",
                {
                    "member": member,
                    "retry_at": attempt.retry_at,
                    "hours": math.ceil(seconds / 3600),
                },
                status=429,
            )
            response["Retry-After"] = str(seconds)
            return response
        if data["website"]:
            # A robot filled the hidden field: it reads the same thanks, nothing is kept.
            return redirect("lead-sent", member.short_name)
        try:
            services.lead_create(
                member=member,
                name=data["name"],
                phone=data["phone"],
                region=data["region"],
                category=data["category"],
                consent=data["consent"],
                note=data["note"],
            )
        except ApplicationError as exc:
            form.add_error(getattr(exc, "field", None), str(exc))
        else:
            return redirect("lead-sent", member.short_name)
    return render(
        request,
        "cases/lead_request.html",
        {"form": form, "member": member, "errors": _summary(form, LeadForm.FIELDS)},
        status=400 if form.errors else 200,
    )


@require_GET
def callback_sent(request, short_name):
    member = get_object_or_404(MemberOrganization, short_name=short_name, is_active=True)
    return render(request, "cases/lead_sent.html", {"member": member})


# --- the member's caseworkers ------------------------------------------------------------------


@login_required
@require_GET
def lead_list(request):
    state = request.GET.get("state", "")
    if state not in Lead.State.values:
        state = ""
    leads = selectors.member_leads(request.user, state=state)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/lead_list.html",
        {
            "page": page,
            "rows": selectors.rows(page.object_list),
            "state": state,
            "counts": selectors.state_counts(request.user),
        },
    )


def _detail_page(request, lead, *, close_form=None, status=200):
    close_form = close_form or LeadCloseForm()
    return render(
        request,
        "cases/lead_detail.html",
        {
            "lead": lead,
            "history": selectors.lead_history(lead),
            "close_form": close_form,
            "errors": _summary(close_form, ("reason", "note")),
            "is_open": lead.state in Lead.OPEN_STATES,
        },
        status=status,
    )


@login_required
@require_GET
def lead_detail(request, pk):
    return _detail_page(request, access.get_lead_for(request.user, pk))


@login_required
@require_POST
def lead_contacted(request, pk):
    lead = access.get_lead_for(request.user, pk)
    form = LeadNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _run(
        request,
        lead,
        lambda: services.lead_mark_contacted(lead=lead, by=request.user, note=note),
        _("Marked as contacted."),
    )


@login_required
@require_POST
def lead_close(request, pk):
    lead = access.get_lead_for(request.user, pk)
    form = LeadCloseForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, lead, close_form=form, status=400)
    data = form.cleaned_data
    return _run(
        request,
        lead,
        lambda: services.lead_close(
            lead=lead, reason=data["reason"], note=data["note"], by=request.user
        ),
        _("The request is closed."),
    )


@login_required
@require_POST
def lead_open_application(request, pk):
    lead = access.get_lead_for(request.user, pk)
    try:
        application = services.lead_open_application(lead=lead, by=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("lead-detail", lead.pk)
    messages.success(
        request,
        _("Draft %(reference)s opened; the family gets the reference by text.")
        % {"reference": application.reference},
    )
    return redirect("application-edit", application.reference)


def _run(request, lead, action, success):
    try:
        action()
    except NotAllowed:
        raise PermissionDenied from None
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("lead-detail", lead.pk)
