"""The guardian's rights under PIPL on the staff side: withdrawing consent to sharing
(art. 15), and answering a data-access request with one download (art. 45).

Thin views over cases.review.services.consent_withdraw and cases.data_export; the application is
found with the browser's access helper (cases.intake.views.get_application_for), so another
member's staff get a 404 or a 403 here as everywhere.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from aid_alliance.text import PlainTextField
from cases.intake import services
from cases.intake.views import get_application_for
from cases.models import Application
from cases.privacy import data_export
from cases.review import services as workflow


class ConsentWithdrawalForm(forms.Form):
    note = PlainTextField(
        label=gettext_lazy("How did the guardian withdraw consent?"),
        help_text=gettext_lazy("E.g. a signed letter of 2 December, in person, by phone."),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy(
                "Say how the guardian withdrew consent (e.g. a signed letter, in person, by phone)."
            ),
            "max_length": gettext_lazy("At most 300 characters."),
        },
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I confirm that the guardian withdrew consent: the other members will no longer "
            "see the child's data."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )


def withheld_detail(request, application: Application):
    """The application page of another member after the guardian withdrew consent: the
    reference, the entering member and the member's own decision and accounts only."""
    own = (
        application.reviews.select_related("member", "project")
        .filter(member_id=request.user.organization_id)
        .first()
    )
    services.access_record(
        application=application, user=request.user, view="detail", detail="consent withdrawn"
    )
    return render(
        request,
        "cases/application_withheld.html",
        {
            "application": application,
            "own_review": own,
            "pledging_states": own.PLEDGING_STATES if own else (),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, reference):
    """Confirm and record a withdrawal of consent (a POST with the note and a tick)."""
    application = get_application_for(request.user, reference)
    if not workflow.may_withdraw_consent(application, request.user):
        raise PermissionDenied
    form = ConsentWithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.consent_withdraw(
                application=application, by=request.user, note=form.cleaned_data["note"]
            )
        except workflow.NotAllowed:
            raise PermissionDenied from None
        except services.ApplicationError as exc:
            form.add_error("note", str(exc))
        else:
            messages.success(
                request,
                _(
                    "The withdrawal of consent is recorded: the other members no longer see "
                    "the child's data."
                ),
            )
            return redirect("application-detail", application.reference)
    return render(
        request,
        "cases/consent_withdraw.html",
        {"application": application, "form": form},
        status=400 if form.errors else 200,
    )


def may_export(application: Application, user) -> bool:
    """Who answers a guardian's data-access request: the secretariat and the staff of the
    member that entered the application."""
    if user.is_superuser or getattr(user, "is_secretariat", False):
        return True
    return bool(
        getattr(user, "is_member_staff", False) and user.organization_id == application.member_id
    )


def export_response(application: Application, user) -> HttpResponse:
    """The ZIP of everything held about the child and the guardians, recorded in the
    access record (the browser's and the API's download)."""
    content = data_export.application_data_zip(application)
    services.access_record(
        application=application, user=user, view="data-export", detail="guardian's request"
    )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{application.reference}-data-export.zip"'
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def data_export_download(request, reference):
    application = get_application_for(request.user, reference)
    if not may_export(application, request.user):
        raise PermissionDenied
    return export_response(application, request.user)
