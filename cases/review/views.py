"""Pages of the shared review workflow: the member inbox and every transition (§3)."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aid_alliance import replayed_pages
from cases import access, audit
from cases.errors import ApplicationError, NotAllowed
from cases.list_choices import list_choices
from cases.models import Document, MemberReview, ReviewCount
from cases.review import selectors, services
from cases.review.forms import (
    APPLICATION_ACTION_FORMS,
    REVIEW_ACTION_FORMS,
    AnswerForm,
    ApproveForm,
    InboxFilterForm,
)
from cases.templatetags import list_rows

PAGE_SIZE = selectors.INBOX_PAGE


def _checked(request, form_class):
    """The action's form data, cleaned; None (each error told by a message) when invalid."""
    form = form_class(request.POST)
    if form.is_valid():
        return form.cleaned_data
    for name, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{form.fields[name].label}: {error}")
    return None


@login_required
@require_GET
def inbox(request):
    return replayed_pages.page(request, lambda: _inbox_page(request), inputs=("inbox",))


def _inbox_page(request) -> replayed_pages.Page:
    user = request.user
    if not user.is_member_staff:
        raise PermissionDenied
    choices = functools.partial(list_choices, request)
    form = InboxFilterForm(request.GET or None, choices=choices)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    if filters.get("category"):
        filters["category"] = choices().category_ids[filters["category"]]
    reviews = selectors.inbox_queryset(user.organization, filters)
    # Page through ids first, then load only that page with its joins and gap sums: with
    # an OFFSET the sums would otherwise run for every skipped row (bench: 727 -> 2.4 ms).
    # The counts per state are one small read of ReviewCount (kept by triggers), not a
    # GROUP BY over every review the member ever had; filtered by state only (or not at
    # all), the list's length is among them, so the paginator need not count either.
    found = dict(ReviewCount.objects.filter(member=user.organization).values_list("state", "n"))
    counts = {state: found.get(state, 0) for state in MemberReview.State.values}
    paginator = Paginator(reviews.values_list("pk", flat=True), PAGE_SIZE)
    if not any(value not in (None, "") for key, value in filters.items() if key != "state"):
        paginator.count = counts.get(filters.get("state"), sum(counts.values()))
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.inbox_rows(user.organization, list(page))
    return replayed_pages.Page(
        "cases/inbox.html",
        {
            "form": form,
            "page": page,
            "counts": [
                (value, label, counts[value]) for value, label in MemberReview.State.choices
            ],
            "rows": mark_safe(list_rows.inbox_rows(page.object_list)),  # noqa: S308 - escaped by its renderer
        },
        after=(audit.on_each_serve([row["application_id"] for row in page], view="inbox"),),
    )


def _done(request, application, message=None):
    if message:
        messages.success(request, message)
    return redirect("application-detail", application.reference)


def _run(request, application, action, success):
    try:
        action()
    except NotAllowed:
        raise PermissionDenied from None
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("application-detail", application.reference)
    return _done(request, application, success)


@login_required
@require_POST
def review_action(request, pk, action):
    review = access.get_review_for(request.user, pk)
    application = review.application
    if action == "approve-change":
        # Back from the confirmation to the form, with what was entered.
        return render(
            request,
            "cases/review_approve.html",
            _approve_context(review, request.user, data=request.POST),
        )
    if action not in REVIEW_ACTION_FORMS:
        raise Http404
    if action == "approve":
        return _approve(request, review)
    if action in DECISION_FIELDS:
        return _decide(request, review, action)
    post = _checked(request, REVIEW_ACTION_FORMS[action])
    if post is None:
        return redirect("application-detail", application.reference)
    if action == "take":
        return _run(
            request,
            application,
            lambda: services.review_take(review=review, by=request.user, note=post["note"]),
            _("Taken for review."),
        )
    raise Http404


# The fields of asking for information and of declining, in the order of their forms.
DECISION_FIELDS = {
    "request-info": ("documents", "items", "note"),
    "decline": ("reason", "note"),
}
DECISION_ANCHORS = {
    "request-info": {"documents": "info-documents-0", "items": "info-items", "note": "info-note"},
    "decline": {"reason": "decline-reason", "note": "decline-note"},
}


def _decide(request, review, action):
    """Ask for information or decline (§3). A refusal comes back on a page of its own with
    everything as sent, the error summary on top and each message at its field, as the
    approval does; nothing is lost to a banner."""
    if not access.may_decide(request.user, review):
        raise PermissionDenied  # the member's caseworkers see the review; they do not decide
    form_class = REVIEW_ACTION_FORMS[action]
    form = form_class(request.POST)
    errors = {}
    if form.is_valid():
        post, by = form.cleaned_data, request.user
        try:
            if action == "request-info":
                services.review_request_info(
                    review=review,
                    items=post["items"],
                    documents=post["documents"],
                    by=by,
                    note=post["note"],
                )
                done = _("Information requested; the caseworker is told.")
            else:
                services.review_decline(
                    review=review, reason=post["reason"], note=post["note"], by=by
                )
                done = _("Declined.")
        except NotAllowed:
            raise PermissionDenied from None
        except ApplicationError as exc:
            errors[getattr(exc, "field", None) or DECISION_FIELDS[action][0]] = str(exc)
        else:
            return _done(request, review.application, done)
    else:
        errors = {name: " ".join(messages) for name, messages in form.errors.items()}
    names = DECISION_FIELDS[action]
    return render(
        request,
        "cases/review_decision.html",
        {
            "action": action,
            "heading": _("Request information") if action == "request-info" else _("Decline"),
            "application": review.application,
            "review": review,
            "member": review.member,
            "decline_reasons": MemberReview.DeclineReason.choices,
            "values": {
                name: (request.POST.getlist if name == "documents" else request.POST.get)(name)
                or ""
                for name in names
            },
            "requestable_documents": Document.Type.choices,
            "field_errors": {name: errors.get(name, "") for name in names},
            "errors": [
                {
                    "anchor": DECISION_ANCHORS[action][name],
                    "code": "",
                    "label": form_class.base_fields[name].label,
                    "message": errors[name],
                }
                for name in names
                if name in errors
            ],
        },
    )


# The approval's fields in the order of the form, with their codes in the error summary.
APPROVE_FIELDS = ("project", "amount", "description", "override_reason", "note")


def _approve_context(review, user, *, data=None, errors=None) -> dict:
    """The approval page: the member's projects with their suggestions, the gap beside the
    amount, and what was sent (or, first, the suggested project and amount)."""
    context = selectors.approve_context(review, user, data=data)
    errors = errors or {}
    labels = {name: ApproveForm.base_fields[name].label for name in APPROVE_FIELDS}
    context["errors"] = [
        {"anchor": f"approve-{name}", "code": "", "label": labels[name], "message": errors[name]}
        for name in APPROVE_FIELDS
        if name in errors
    ]
    context["field_errors"] = errors
    return context


def _approve(request, review):
    """Approve in two steps (§3): the form is checked by the same service that pledges, then
    a confirmation names project, amount and member; only the confirmed post pledges. A
    refusal at either step brings the form back with exactly what was sent."""
    application = review.application
    form = ApproveForm(request.POST)
    errors = {}
    if form.is_valid():
        post = form.cleaned_data
        confirmed = request.POST.get("confirm") == "yes"
        try:
            services.review_approve(
                review=review,
                project=post["project"],
                amount=post["amount"],
                description=post["description"],
                override_reason=post["override_reason"],
                note=post["note"],
                by=request.user,
                check_only=not confirmed,
            )
        except NotAllowed:
            raise PermissionDenied from None
        except ApplicationError as exc:
            errors[getattr(exc, "field", None) or "project"] = str(exc)
        else:
            if confirmed:
                return _done(request, application, _("Approved."))
            return render(
                request,
                "cases/review_approve.html",
                {**_approve_context(review, request.user, data=request.POST), "confirming": True},
            )
    else:
        errors = {name: " ".join(messages) for name, messages in form.errors.items()}
    return render(
        request,
        "cases/review_approve.html",
        _approve_context(review, request.user, data=request.POST, errors=errors),
    )


@login_required
@require_POST
def answer_info_request(request, reference, pk):
    application = access.get_application_for(request.user, reference, edit=True)
    review = get_object_or_404(MemberReview, pk=pk, application=application)
    post = _checked(request, AnswerForm)
    if post is None:
        return redirect("application-detail", application.reference)
    return _run(
        request,
        application,
        lambda: services.review_answer_info(review=review, by=request.user, note=post["note"]),
        _("The member is told that the information is there."),
    )


@login_required
@require_POST
def application_action(request, reference, action):
    application = access.get_application_for(request.user, reference, edit=True)
    if action not in APPLICATION_ACTION_FORMS:
        raise Http404
    post, by = _checked(request, APPLICATION_ACTION_FORMS[action]), request.user
    if post is None:
        return redirect("application-detail", application.reference)
    note = post["note"]
    if action == "withdraw":
        return _run(
            request,
            application,
            lambda: services.application_withdraw(application=application, by=by, note=note),
            _("The application is withdrawn."),
        )
    if action == "close":
        return _run(
            request,
            application,
            lambda: services.application_close(
                application=application, reason=post["reason"], by=by, note=note
            ),
            _("The application is closed."),
        )
    if action == "revise-estimate":
        amount = post["estimated_cost"]
        return _run(
            request,
            application,
            lambda: services.application_revise_estimate(
                application=application, estimated_cost=amount, by=by, note=note
            ),
            _("The estimate is revised."),
        )
    raise Http404
