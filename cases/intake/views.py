"""Staff pages for applications: thin views over cases.intake.services and
cases.intake.selectors."""

import functools
from contextlib import nullcontext

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_alliance import replayed_pages
from cases import access, audit, documents, reveal
from cases.bills import selectors as bill_selectors
from cases.errors import ApplicationError, IncompleteApplication, InvalidInput, NotAllowed
from cases.intake import downloads, list_export, read_model, selectors, services
from cases.intake.forms import SECTION_FORMS
from cases.intake.page_forms import (
    ApplicationSearchForm,
    DiscardDraftForm,
    DocumentReviewForm,
    DocumentUploadForm,
)
from cases.list_choices import list_choices
from cases.models import Application
from cases.privacy import selectors as privacy_selectors
from cases.review import selectors as review_selectors
from cases.standard import SECTIONS
from cases.templatetags import list_rows
from reports.periods import CHINA

PAGE_SIZE = 25
MAX_PAGE = 10**9  # beyond it an OFFSET could overflow the database's integer: counted first


def list_filtered(request):
    """The staff list's search form, the applications it selects, the member chosen (the
    secretariat may narrow to one; its id) and the form's choices; shared by the list page
    and its CSV download."""
    choices = functools.partial(list_choices, request)
    form = ApplicationSearchForm(request.GET or None, choices=choices)
    filters = form.cleaned_data if form.is_valid() else {}
    member = None
    if filters.get("member") and (request.user.is_secretariat or request.user.is_superuser):
        member = choices().member_ids.get(filters["member"])
    category = filters.get("category")
    queryset = selectors.application_list(
        request.user,
        q=filters.get("q", ""),
        status=filters.get("status", ""),
        category=choices().category_ids[category] if category else None,
        member=member,
    )
    return form, queryset, member, choices


def _page(queryset, number) -> Page:
    """Paginator(queryset, PAGE_SIZE).get_page(number), without its COUNT when the rows tell
    it: a page neither empty nor full is the last one, so the total is the rows before it
    plus its own (a search finding a few children: one query, not two)."""
    paginator = Paginator(queryset, PAGE_SIZE)
    try:
        number = int(number or 1)
    except (TypeError, ValueError):
        number = 1  # as get_page: not a number is the first page
    if not 1 <= number <= MAX_PAGE:
        return paginator.get_page(number)  # the last page, as get_page gives
    rows = list(queryset[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    if len(rows) == PAGE_SIZE:
        return Page(rows, number, paginator)  # a full page: the total needs the COUNT
    if rows or number == 1:
        paginator.count = (number - 1) * PAGE_SIZE + len(rows)  # the cached_property's value
        return Page(rows, number, paginator)
    return paginator.get_page(number)  # past the end: the last page, as get_page gives


@login_required
@require_GET
def application_list(request):
    return replayed_pages.page(request, lambda: _list_page(request), inputs=("list",))


def _list_page(request) -> replayed_pages.Page:
    access.require_staff(request.user)
    form, queryset, member, choices = list_filtered(request)
    # A search's pattern decides its plan: replayed with the pattern in (replayed_pages).
    searching = form.is_valid() and form.cleaned_data.get("q")  # as list_filtered reads it
    with replayed_pages.planned_for_its_values() if searching else nullcontext():
        page = _page(queryset, request.GET.get("page"))
        total = page.paginator.count  # the page shows it: its COUNT read here, as its rows
    members = choices().members if member is not None or request.user.is_secretariat else []
    return replayed_pages.Page(
        "cases/application_list.html",
        {
            "form": form,
            "page": page,
            "total": total,
            "members": members,
            "rows": mark_safe(list_rows.application_rows(page.object_list)),  # noqa: S308 - escaped by its renderer
        },
        # Names and masked ID numbers are personal data too: the list view is recorded.
        after=(audit.on_each_serve(page.object_list, view="list"),),
    )


@login_required
@require_POST
def application_new(request):
    try:
        application = services.application_create(by=request.user)
    except ApplicationError as exc:
        raise PermissionDenied(str(exc)) from None
    return redirect("application-edit", application.reference)


def _sections_context(application, *, checked=False):
    """The sections, each with its one state (cases.intake.selectors.section_status); once
    a submission was refused (`checked`), with every field in error in the error summary."""
    statuses = selectors.application_sections(application, checked=checked)
    return {
        "section_list": statuses,
        "section_states": {status.key: status for status in statuses},
        "forms": {status.key: status.form for status in statuses if status.form is not None},
    }


@login_required
@require_GET
def application_edit(request, reference):
    return replayed_pages.page(
        request, lambda: _edit_page(request, reference), inputs=("edit", reference)
    )


def _edit_page(request, reference):
    application = access.get_application_for(request.user, reference, edit=True)
    if not services.is_editable(application):
        return redirect("application-detail", application.reference)
    # ?check=1: where a refused submission leads (a reload shows the check again).
    checked = request.GET.get("check") == "1"
    sections = _sections_context(application, checked=checked)
    # The same-child check's plan depends on its values (PostgreSQL planned it afresh on
    # every request): replayed with them in (replayed_pages).
    with replayed_pages.planned_for_its_values():
        duplicates = selectors.possible_duplicates(application, request.user)
    return replayed_pages.Page(
        "cases/application_edit.html",
        {
            "application": application,
            "sections": SECTIONS,
            "upload_fields": upload_fields(get_language()),
            "missing": documents.missing(application),
            "duplicates": duplicates,
            "checked": checked,
            "errors": [error for status in sections["section_list"] for error in status.errors],
            **sections,
        },
        after=(audit.on_each_serve([application], view="edit"),),
    )


@login_required
@require_POST
def section_save(request, reference, section):
    application = access.get_application_for(request.user, reference, edit=True)
    if section not in SECTION_FORMS:
        raise Http404
    try:
        result = services.section_save(
            application=application, section=section, data=request.POST, by=request.user
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("application-detail", application.reference)
    application.refresh_from_db()
    # After a refused submission the section goes on showing its empty required fields.
    checked = request.POST.get("check") == "1"
    status = selectors.section_status(application, section, checked=checked)
    form = result.form
    if checked and status.state != selectors.SectionState.COMPLETE:
        form = SECTION_FORMS[section](request.POST, application=application, strict=True)
        form.is_valid()
    context = {
        "application": application,
        "key": section,
        "title": SECTIONS[section],
        "form": form,
        "status": status,
        "checked": checked,
        "saved": True,
        "oob": True,  # the task list's state of this section, swapped out of band
    }
    if request.htmx:
        return render(request, "cases/_section.html", context)
    messages.success(request, _("Section saved."))
    return redirect(
        reverse("application-edit", args=[application.reference])
        + ("?check=1" if checked else "")
        + f"#section-{section}"
    )


@login_required
@require_POST
def application_submit(request, reference):
    application = access.get_application_for(request.user, reference, edit=True)
    try:
        services.application_submit(application=application, by=request.user)
    except IncompleteApplication:
        # The page lists every field in error at the top, each linked to its input.
        return redirect(reverse("application-edit", args=[application.reference]) + "?check=1")
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("application-edit", application.reference)
    messages.success(
        request,
        _("Submitted. The reference number is %(reference)s: print the receipt for the family.")
        % {"reference": application.reference},
    )
    return redirect("application-detail", application.reference)


@login_required
@require_http_methods(["GET", "POST"])
def application_discard(request, reference):
    """Discard a draft in one decision (issue 16): the page names the draft and asks why;
    only the confirmed post discards. A refusal comes back with the reason as typed."""
    application = access.get_draft_to_discard_for(request.user, reference)
    form = DiscardDraftForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.application_discard_draft(
                application=application, by=request.user, reason=form.cleaned_data["reason"]
            )
        except NotAllowed:
            raise PermissionDenied from None
        except InvalidInput as exc:
            form.add_error(exc.field, str(exc))
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Draft %(reference)s is discarded. It is kept on record, no longer listed.")
                % {"reference": application.reference},
            )
            return redirect("home")
    errors = [
        {
            "anchor": form[name].id_for_label if name in form.fields else "id_reason",
            "code": "",
            "label": form.fields[name].label if name in form.fields else _("Discard"),
            "message": " ".join(messages_),
        }
        for name, messages_ in form.errors.items()
    ]
    return render(
        request,
        "cases/application_discard.html",
        {"application": application, "form": form, "errors": errors},
        status=400 if errors else 200,
    )


@login_required
@require_POST
def link_child(request, reference, other_reference):
    application = access.get_application_for(request.user, reference, edit=True)
    other = selectors.linkable_match(application, request.user, other_reference)
    if other is None:
        raise Http404  # only a shared application the matching offered can be linked
    try:
        services.application_link_child(application=application, other=other, by=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("This application is now recorded as the same child as %(reference)s.")
            % {"reference": other.reference},
        )
    return redirect("application-edit", application.reference)


@login_required
@require_GET
def application_detail(request, reference):
    return replayed_pages.page(
        request, lambda: _application_page(request, reference), inputs=("detail", reference)
    )


@login_required
@require_POST
def application_reveal(request, reference):
    """显示完整号码: the same page with the ID and bank numbers the user may see in full,
    in this one response; recorded (cases.reveal). A POST: never kept."""
    return replayed_pages.page(
        request,
        lambda: _application_page(request, reference, reveal_numbers=True),
        inputs=("reveal", reference),
    )


@functools.cache
def upload_fields(language: str) -> str:
    """The unbound upload form's fields as HTML, rendered once per language per process:
    the same for every application and every user (no value, no error, no CSRF token, fixed
    ids), while rendering its selects through the widget templates cost about 4 ms of each
    application page and 1.3 ms of each edit page (issue 18). Keyed by the language, the one
    thing its output reads."""
    return render_to_string("cases/_upload_fields.html", {"upload_form": DocumentUploadForm()})


def _application_page(request, reference, *, reveal_numbers=False) -> replayed_pages.Page:
    application = access.get_application_for(request.user, reference, personal=False)
    if access.shared_data_withheld(request.user, application):
        return _withheld_page(request, application)
    revealed = (
        reveal.reveal(application=application, user=request.user, via="page")
        if reveal_numbers
        else reveal.NOTHING
    )
    can_edit = access.is_own_staff(request.user, application)
    # A draft is not routed yet: no reviews, no receipts, and the page shows neither.
    routed = application.status != Application.Status.DRAFT
    review_part = review_selectors.review_context(application, request.user) if routed else {}
    loaded = review_part.get("reviews")  # every review of the application: the access rules'
    # Read-only: the sections from a read model, not a form per section (issue 18).
    section_views = read_model.application_sections(
        application,
        complete=selectors.sections_complete(application),
        revealed=revealed,
    )
    section_fields = {view.key: view for view in section_views}
    return replayed_pages.Page(
        "cases/application_detail.html",
        {
            "application": application,
            "sections": SECTIONS,
            "missing": documents.missing(application),
            "can_edit": can_edit,
            "upload_fields": upload_fields(get_language()) if can_edit else "",
            "can_withdraw_consent": routed
            and application.consent_withdrawn_at is None
            and application.anonymised_at is None
            and access.may_withdraw_consent(request.user, application),
            "can_export_data": access.may_export_data(request.user, application),
            "can_print": access.may_print_application(request.user, application),
            "revealed": revealed,
            "can_reveal": bool(access.revealable(request.user, application, reviews=loaded)),
            "section_views": section_views,
            "section_states": selectors.read_only_states(
                application,
                complete={view.key: view.complete for view in section_views},
                has_values={
                    view.key: any(shown != "—" for _label, shown in view.rows)
                    for view in section_views
                },
            ),
            "section_fields": section_fields,  # for the hospital's confirmation
            "history": read_model.history(application, section_fields),
            **review_part,
            **(
                bill_selectors.bills_context(application, request.user, reviews=loaded)
                if routed
                else {}
            ),
        },
        after=(audit.on_each_serve([application], view="detail"),),
    )


def _withheld_page(request, application: Application) -> replayed_pages.Page:
    """The application page of another member after the guardian withdrew consent: the
    reference, the entering member and the member's own decision and accounts only."""
    own = next(iter(privacy_selectors.withheld_reviews(request.user, application)), None)
    return replayed_pages.Page(
        "cases/application_withheld.html",
        {
            "application": application,
            "own_review": own,
            "pledging_states": own.PLEDGING_STATES if own else (),
        },
        after=(audit.on_each_serve([application], view="detail", detail="consent withdrawn"),),
    )


@login_required
@require_GET
def application_receipt(request, reference):
    application = access.get_application_for(request.user, reference, edit=True)
    if application.status == Application.Status.DRAFT:
        raise Http404
    audit.access_record(application=application, user=request.user, view="receipt")
    primary = next((g for g in application.guardians.all() if g.is_primary), None)
    return render(
        request,
        "cases/receipt.html",
        {
            "application": application,
            "primary": primary,
            "status_url": request.build_absolute_uri("/status/"),
        },
    )


@login_required
@require_POST
def document_upload(request, reference):
    application = access.get_application_for(request.user, reference, edit=True)
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.document_upload(
                application=application,
                doc_type=form.cleaned_data["doc_type"],
                flag=form.cleaned_data["flag"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Document uploaded."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    target = (
        "application-edit"
        if application.status == Application.Status.DRAFT
        else "application-detail"
    )
    return redirect(reverse(target, args=[application.reference]) + "#section-F")


@login_required
@require_GET
def document_download(request, pk):
    document = access.get_document_for(request.user, pk)
    return downloads.document_response(
        document,
        user=request.user,
        view="document",
        as_attachment=request.GET.get("download") == "1",
    )


@login_required
@require_POST
def document_review(request, pk):
    document = access.get_document_for(request.user, pk, edit=True)
    form = DocumentReviewForm(request.POST)
    if form.is_valid():
        services.document_review(
            document=document,
            accept=form.cleaned_data["decision"] == "accepted",
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        messages.success(request, _("Document review saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    application = document.application
    target = (
        "application-edit"
        if application.status == Application.Status.DRAFT
        else "application-detail"
    )
    return redirect(reverse(target, args=[application.reference]) + "#section-F")


@login_required
@require_GET
def application_list_csv(request):
    """Every application the list's filters select (member staff: their member's; the
    secretariat: all), streamed; access recorded for each before the first byte."""
    access.require_staff(request.user)
    form, queryset, member, _choices = list_filtered(request)
    if form.is_bound and (not form.is_valid() or (form.cleaned_data["member"] and member is None)):
        # A filter mistyped must not turn into "everything": the list page says what is wrong.
        return HttpResponseBadRequest(_("The search is not valid: correct it on the list first."))
    list_export.record_export(queryset, user=request.user)
    lines = list_export.csv_lines(queryset)
    response = StreamingHttpResponse(
        (line.encode() for line in lines), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localtime(timezone.now(), CHINA).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="applications-{day}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
