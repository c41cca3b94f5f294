"""Pages of the shared review workflow: the member inbox and every transition (§3)."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aid_alliance.text import PlainTextField
from cases.bills.forms import YuanField
from cases.intake import services
from cases.intake.views import get_application_for
from cases.models import Application, MemberReview, OtherAid, ReviewCount
from cases.review import services as workflow
from organizations import regions
from organizations.models import AidProject, DiseaseCategory

PAGE_SIZE = 25
MONEY = DecimalField(max_digits=14, decimal_places=2)


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[("", gettext_lazy("Any")), *MemberReview.State.choices],
        required=False,
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Disease category"),
        queryset=DiseaseCategory.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("Any"),
    )
    province = forms.ChoiceField(label=gettext_lazy("Province"), required=False)
    eligible = forms.ChoiceField(
        label=gettext_lazy("Eligible for one of our projects"),
        choices=[
            ("", gettext_lazy("Any")),
            ("yes", gettext_lazy("Yes")),
            ("no", gettext_lazy("No")),
        ],
        required=False,
    )
    waiting = forms.IntegerField(
        label=gettext_lazy("Waiting at least (days)"), min_value=0, max_value=3650, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = [("", _("Any"))] + [
            (r.code[:2], r.name) for r in regions.provinces()
        ]


def _text(label, max_length: int) -> PlainTextField:
    return PlainTextField(label=label, max_length=max_length, required=False)


class ReviewNoteForm(forms.Form):
    """The free texts of a review action. Too long, or holding a character the database
    cannot store (NUL), is refused with the field's name, never cut or left to the
    database (a 500 on PostgreSQL)."""

    note = _text(gettext_lazy("Internal note (only your member sees it)"), 500)


class RequestInfoForm(ReviewNoteForm):
    items = _text(gettext_lazy("Documents or answers needed"), 500)


class ApproveForm(ReviewNoteForm):
    project = _text(gettext_lazy("Project"), 20)
    amount = YuanField(label=gettext_lazy("Amount (yuan)"), required=False)
    description = _text(gettext_lazy("What is given, for in-kind or service help"), 300)
    override_reason = _text(gettext_lazy("Why approve although not eligible (only then)"), 300)


class DeclineForm(ReviewNoteForm):
    # The reason is checked against its choices by the workflow, with its own message.
    reason = _text(gettext_lazy("Reason"), 20)


class AnswerForm(forms.Form):
    note = _text(gettext_lazy("Note to the member"), 500)


class ApplicationNoteForm(forms.Form):
    note = _text(gettext_lazy("Note"), 300)


class CloseForm(ApplicationNoteForm):
    reason = _text(gettext_lazy("Closing reason"), 20)


class ReviseEstimateForm(ApplicationNoteForm):
    estimated_cost = YuanField(label=gettext_lazy("New estimated total cost (yuan)"))


REVIEW_ACTION_FORMS = {
    "take": ReviewNoteForm,
    "request-info": RequestInfoForm,
    "approve": ApproveForm,
    "decline": DeclineForm,
}
APPLICATION_ACTION_FORMS = {
    "withdraw": ApplicationNoteForm,
    "close": CloseForm,
    "revise-estimate": ReviseEstimateForm,
}


def _checked(request, form_class):
    """The action's form data, cleaned; None (each error told by a message) when invalid."""
    form = form_class(request.POST)
    if form.is_valid():
        return form.cleaned_data
    for name, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{form.fields[name].label}: {error}")
    return None


def inbox_queryset(member, filters: dict):
    """A member's reviews, filtered, oldest first: only this table and its indexes."""
    queryset = MemberReview.objects.filter(member=member).order_by("routed_at", "pk")
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("category"):
        queryset = queryset.filter(category=filters["category"])
    if filters.get("province"):
        queryset = queryset.filter(province=filters["province"])
    if filters.get("eligible"):
        queryset = queryset.filter(any_eligible=filters["eligible"] == "yes")
    if filters.get("waiting") is not None:
        queryset = queryset.filter(
            routed_at__lte=timezone.now() - timedelta(days=filters["waiting"])
        )
    return queryset


def with_gap(queryset):
    """The reviews with their application, child and the sums the funding gap needs."""
    pledged = (
        MemberReview.objects.filter(application=OuterRef("application"))
        .pledging()
        .values("application")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    other_aid = (
        OtherAid.objects.filter(application=OuterRef("application"))
        .values("application")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return queryset.select_related("application__child", "category").annotate(
        pledged_total=Coalesce(Subquery(pledged, output_field=MONEY), Value(Decimal(0))),
        other_aid_total=Coalesce(Subquery(other_aid, output_field=MONEY), Value(Decimal(0))),
    )


def gap_of(review) -> Decimal:
    application = review.application
    need = (application.estimated_cost or 0) - application.coverage_total - review.other_aid_total
    return max(need - review.pledged_total, Decimal(0))


@login_required
@require_GET
def inbox(request):
    user = request.user
    if not user.is_member_staff:
        raise PermissionDenied
    form = InboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    reviews = inbox_queryset(user.organization, filters)
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
    loaded = {review.pk: review for review in with_gap(reviews.filter(pk__in=list(page)))}
    page.object_list = [loaded[pk] for pk in page.object_list if pk in loaded]
    for review in page:
        review.gap = gap_of(review)
    services.access_record_list(
        applications=[review.application for review in page], user=user, view="inbox"
    )
    return render(
        request,
        "cases/inbox.html",
        {
            "form": form,
            "page": page,
            "counts": [
                (value, label, counts[value]) for value, label in MemberReview.State.choices
            ],
        },
    )


def get_review_for(user, pk) -> MemberReview:
    """A review of the user's own member; another member's staff get a 404."""
    review = get_object_or_404(MemberReview.objects.select_related("application", "member"), pk=pk)
    if not (user.is_member_staff and user.organization_id == review.member_id):
        raise Http404
    return review


def _done(request, application, message=None):
    if message:
        messages.success(request, message)
    return redirect("application-detail", application.reference)


def _run(request, application, action, success):
    try:
        action()
    except workflow.NotAllowed:
        raise PermissionDenied from None
    except services.ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("application-detail", application.reference)
    return _done(request, application, success)


@login_required
@require_POST
def review_action(request, pk, action):
    review = get_review_for(request.user, pk)
    application = review.application
    if action not in REVIEW_ACTION_FORMS:
        raise Http404
    post = _checked(request, REVIEW_ACTION_FORMS[action])
    if post is None:
        return redirect("application-detail", application.reference)
    note = post["note"]
    by = request.user
    if action == "take":
        return _run(
            request,
            application,
            lambda: workflow.review_take(review=review, by=by, note=note),
            _("Taken for review."),
        )
    if action == "request-info":
        return _run(
            request,
            application,
            lambda: workflow.review_request_info(
                review=review, items=post["items"], by=by, note=note
            ),
            _("Information requested; the caseworker is told."),
        )
    if action == "approve":
        project = AidProject.objects.filter(code=post["project"], member=review.member).first()
        if project is None:
            messages.error(request, _("Choose one of your own member's projects."))
            return redirect("application-detail", application.reference)
        amount = post["amount"]
        if project.kind == AidProject.Kind.GRANT and amount is None:
            messages.error(
                request, _("Give the amount of the grant in yuan, e.g. 20000 or 20000.50.")
            )
            return redirect("application-detail", application.reference)
        return _run(
            request,
            application,
            lambda: workflow.review_approve(
                review=review,
                project=project,
                amount=amount,
                description=post["description"],
                override_reason=post["override_reason"],
                note=note,
                by=by,
            ),
            _("Approved."),
        )
    if action == "decline":
        return _run(
            request,
            application,
            lambda: workflow.review_decline(review=review, reason=post["reason"], note=note, by=by),
            _("Declined."),
        )
    raise Http404


@login_required
@require_POST
def answer_info_request(request, reference, pk):
    application = get_application_for(request.user, reference, edit=True)
    review = get_object_or_404(MemberReview, pk=pk, application=application)
    post = _checked(request, AnswerForm)
    if post is None:
        return redirect("application-detail", application.reference)
    return _run(
        request,
        application,
        lambda: workflow.review_answer_info(review=review, by=request.user, note=post["note"]),
        _("The member is told that the information is there."),
    )


@login_required
@require_POST
def application_action(request, reference, action):
    application = get_application_for(request.user, reference, edit=True)
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
            lambda: workflow.application_withdraw(application=application, by=by, note=note),
            _("The application is withdrawn."),
        )
    if action == "close":
        return _run(
            request,
            application,
            lambda: workflow.application_close(
                application=application, reason=post["reason"], by=by, note=note
            ),
            _("The application is closed."),
        )
    if action == "revise-estimate":
        amount = post["estimated_cost"]
        return _run(
            request,
            application,
            lambda: workflow.application_revise_estimate(
                application=application, estimated_cost=amount, by=by, note=note
            ),
            _("The estimate is revised."),
        )
    raise Http404


def review_context(application: Application, user) -> dict:
    """The member matrix, the gap, the timeline and the user's own review, for the page."""
    reviews = list(
        application.reviews.select_related("member", "project").prefetch_related("events__actor")
    )
    reviews.sort(key=lambda r: r.member.number)
    own = next(
        (r for r in reviews if user.is_member_staff and r.member_id == user.organization_id), None
    )
    timeline = sorted(
        ((event, review) for review in reviews for event in review.events.all()),
        key=lambda pair: (pair[0].at, pair[0].pk),
    )
    pledged = sum(
        (r.amount or 0 for r in reviews if r.state in MemberReview.PLEDGING_STATES), Decimal(0)
    )
    own_projects = []
    if own is not None:
        own_projects = [(code, item) for code, item in sorted(own.eligibility.items())]
    return {
        "reviews": reviews,
        "own_review": own,
        "own_projects": own_projects,
        "timeline": timeline,
        "need": application.need,
        "pledged": pledged,
        "gap": max(application.need - pledged, Decimal(0)),
        "decline_reasons": MemberReview.DeclineReason.choices,
        "closing_reasons": Application.ClosingReason.choices,
        "is_reviewer": user.role == user.Role.REVIEWER,
        "pledging_states": MemberReview.PLEDGING_STATES,
    }
