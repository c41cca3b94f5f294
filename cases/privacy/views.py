"""The guardian's rights under PIPL on the staff side: withdrawing consent to sharing
(art. 15), and answering a data-access request with one download (art. 45).

Thin views over cases.review.services.consent_withdraw and cases.privacy.data_export; the
application is found with cases.access.get_application_for, so another member's staff get
a 404 or a 403 here as everywhere.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases import access
from cases.errors import ApplicationError, NotAllowed
from cases.privacy import data_export
from cases.privacy.forms import ConsentWithdrawalForm
from cases.review import services as review_services


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, reference):
    """Confirm and record a withdrawal of consent (a POST with the note and a tick)."""
    application = access.get_application_for(request.user, reference)
    if not access.may_withdraw_consent(request.user, application):
        raise PermissionDenied
    form = ConsentWithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_services.consent_withdraw(
                application=application, by=request.user, note=form.cleaned_data["note"]
            )
        except NotAllowed:
            raise PermissionDenied from None
        except ApplicationError as exc:
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


@login_required
@require_GET
def data_export_download(request, reference):
    application = access.get_application_for(request.user, reference)
    if not access.may_export_data(request.user, application):
        raise PermissionDenied
    return data_export.export_response(application, request.user)
