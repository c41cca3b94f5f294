"""The treating hospital's pages (issue 17) and the secretariat's hospital match: thin
views over cases.hospital.services and selectors; access in cases.access."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import access, audit
from cases.bills import services as bills
from cases.bills.forms import ReceiptForm
from cases.errors import ApplicationError, NotAllowed, WorkflowError
from cases.hospital import selectors, services
from cases.hospital.forms import HospitalCorrectionForm, HospitalDocumentForm, HospitalMatchForm
from cases.intake import downloads
from cases.models import Application

PAGE_SIZE = 25


def error_summary(form, *, form_id: str) -> list[dict]:
    """templates/_error_summary.html's entries: one per field in error, linked to it."""
    errors = []
    for field in form:
        if field.errors:
            label = str(field.label or "")
            code, _sep, rest = label.partition(" ")
            coded = len(code) == 3 and code[0] in "ABCDEFGH" and code[1:].isdigit()
            errors.append(
                {
                    "anchor": field.id_for_label or field.auto_id,
                    "code": code if coded else "",
                    "label": rest if coded else label,
                    "message": " ".join(field.errors),
                }
            )
    for message in form.non_field_errors():
        errors.append({"anchor": form_id, "code": "", "label": "", "message": message})
    return errors


@login_required
@require_GET
def hospital_list(request):
    """待确认: the applications waiting for this hospital's confirmation (or, with
    ?show=confirmed, those it confirmed); every row shown is in the access record."""
    access.require_hospital_staff(request.user)
    confirmed = request.GET.get("show") == "confirmed"
    page = Paginator(selectors.to_confirm(request.user, confirmed=confirmed), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for application in page:
        application.child_age = selectors.age_in_years(application.child.dob)
    audit.access_record_list(applications=page.object_list, user=request.user, view="hospital-list")
    return render(
        request,
        "cases/hospital/list.html",
        {"page": page, "confirmed": confirmed, "hospital": request.user.hospital},
    )


def _page(request, application, *, form=None, upload_form=None, status=200):
    view = selectors.hospital_view(application, request.user)
    audit.access_record(application=application, user=request.user, view="hospital-detail")
    errors = []
    if form is not None and form.errors:
        errors = error_summary(form, form_id="correct-form")
    if upload_form is not None and upload_form.errors:
        errors = error_summary(upload_form, form_id="upload-form")
    return render(
        request,
        "cases/hospital/detail.html",
        {
            "view": view,
            "application": application,
            "form": form
            or HospitalCorrectionForm(initial=HospitalCorrectionForm.initial_for(application)),
            "upload_form": upload_form or HospitalDocumentForm(),
            "errors": errors,
            "correcting": form is not None,
            # The history's changes by code and label (cases.templatetags change_label).
            "forms": {"D": HospitalCorrectionForm()},
        },
        status=status,
    )


@login_required
@require_GET
def hospital_application(request, reference):
    application = access.get_application_for_hospital(request.user, reference)
    return _page(request, application)


@login_required
@require_POST
def hospital_confirm(request, reference):
    application = access.get_application_for_hospital(request.user, reference)
    try:
        services.hospital_confirm(application=application, by=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    messages.success(request, _("Confirmed: the members see that the hospital confirmed."))
    return redirect("hospital-application", application.reference)


@login_required
@require_POST
def hospital_correct(request, reference):
    application = access.get_application_for_hospital(request.user, reference)
    form = HospitalCorrectionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.hospital_correct(
                application=application,
                by=request.user,
                category=data["category"],
                icd=data["icd"],
                diagnosis_text=data["diagnosis_text"],
                treatment_plan=data["treatment_plan"],
                estimated_cost=data["estimated_cost"],
                reason=data["reason"],
            )
        except NotAllowed:
            raise PermissionDenied from None
        except WorkflowError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Correction saved: the members see what changed."))
            return redirect("hospital-application", application.reference)
    application.refresh_from_db()
    return _page(request, application, form=form, status=400)


@login_required
@require_POST
def hospital_upload(request, reference):
    application = access.get_application_for_hospital(request.user, reference)
    form = HospitalDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.hospital_document_upload(
                application=application,
                doc_type=form.cleaned_data["doc_type"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except NotAllowed:
            raise PermissionDenied from None
        except ApplicationError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("Document uploaded."))
            return redirect("hospital-application", application.reference)
    return _page(request, application, upload_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def hospital_receipt(request, reference):
    """A medical receipt into the alliance-wide register (§4), through the bills' service."""
    application = access.get_application_for_hospital(request.user, reference)
    form = ReceiptForm(
        request.POST or None,
        request.FILES or None,
        initial={"hospital": request.user.hospital.name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            bills.receipt_record(application=application, by=request.user, **form.cleaned_data)
        except bills.DuplicateReceipt:
            form.add_error("number", _("This receipt is already recorded."))
        except NotAllowed:
            raise PermissionDenied from None
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Receipt recorded."))
            return redirect("hospital-application", application.reference)
    audit.access_record(application=application, user=request.user, view="hospital-receipt")
    return render(
        request,
        "cases/hospital/receipt_form.html",
        {
            "application": application,
            "form": form,
            "errors": error_summary(form, form_id="receipt-form") if form.errors else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def hospital_document(request, pk):
    document = access.get_document_for_hospital(request.user, pk)
    return downloads.document_response(
        document,
        user=request.user,
        view="hospital-document",
        as_attachment=request.GET.get("download") == "1",
    )


# --- the secretariat: typed hospital names matched to the directory ---------------------------


@login_required
@require_GET
def hospital_match_list(request):
    if not access.may_match_hospital(request.user):
        raise PermissionDenied
    applications = list(selectors.typed_hospital_names()[:200])
    return render(
        request,
        "cases/hospital/match_list.html",
        {"applications": applications, "form": HospitalMatchForm()},
    )


@login_required
@require_POST
def hospital_match(request, reference):
    if not access.may_match_hospital(request.user):
        raise PermissionDenied
    application = get_object_or_404(Application, reference=reference)
    form = HospitalMatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect("hospital-match-list")
    try:
        services.treating_hospital_match(
            application=application, hospital=form.cleaned_data["hospital"], by=request.user
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(reference)s: matched to %(hospital)s.")
            % {"reference": application.reference, "hospital": form.cleaned_data["hospital"]},
        )
    return redirect("hospital-match-list")
