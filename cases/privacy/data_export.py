"""A guardian's data-access request answered with one download (PIPL art. 45).

One ZIP per application: `数据.json` (everything held about the child and the guardians,
with Chinese labels), the documents' files as uploaded, and `说明.txt` explaining it all
in plain Chinese. Labels are translated under zh-hans whatever the staff member's language:
the download is for the family.

What is in it: every section's fields as stored (A–H, guardians and other aid included,
ID and bank numbers unmasked: they are the family's own), the documents and their review,
every member's review (state, decision, pledge, eligibility as judged at routing, the
history of states with the notes all members see), receipts, allocations and payments, the
application's history, and the access record (who saw the child's data, when, how).

What is not: the members' internal notes (ReviewEvent.internal_note). They are the
members' own assessments of the case, not data the family gave or data about the family
that a decision rests on (the decision and its reason are in); PIPL art. 45 gives the
family a copy of its personal information, and art. 18 / 44 allow withholding internal
working notes. Receipts of the child's other applications are in those applications' own
exports.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import PurePath

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import audit, reveal
from cases.intake import services
from cases.intake.forms import SECTION_FORMS
from cases.models import Application, ApplicationEvent, Receipt
from cases.standard import SECTIONS
from cases.templatetags.case_extras import event_label, review_note, shown_value, state_label

DATA_FILE = "数据.json"
README_FILE = "说明.txt"
DOCUMENT_FOLDER = "材料"
_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def _when(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def _money(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _who(user) -> str:
    if user is None:
        return _("the system")
    member = getattr(user, "organization", None)
    role = user.get_role_display() if getattr(user, "role", "") else _("administrator")
    return f"{user.get_username()}（{member.name_zh if member else role}）"


def document_path(document) -> str:
    name = _UNSAFE.sub("_", PurePath(document.original_name or "file").name) or "file"
    return f"{DOCUMENT_FOLDER}/{document.pk}-{name}"


def _sections(application: Application) -> dict:
    found = {}
    for key in SECTION_FORMS:
        form = services.section_form(application, key)
        # ID and bank numbers in full: they are the family's own (cases.reveal masks them
        # everywhere else).
        shown = {str(field.label): shown_value(field, reveal.MASKED_FIELDS) for field in form}
        found[f"{key}. {SECTIONS[key]}"] = {label: value for label, value in shown.items() if value}
    return found


def _documents(application: Application) -> list[dict]:
    return [
        {
            _("Document"): str(document.get_doc_type_display()),
            _("File in this download"): document_path(document),
            _("File name as uploaded"): document.original_name,
            _("Uploaded at"): _when(document.uploaded_at),
            _("Review"): str(document.get_status_display()),
            _("Reason for rejecting"): document.reject_reason,
            _("Reviewed at"): _when(document.reviewed_at),
        }
        for document in application.documents.all()
    ]


def _reviews(application: Application) -> list[dict]:
    reviews = application.reviews.select_related("member", "project", "decided_by").order_by(
        "member__number"
    )
    found = []
    for review in reviews.prefetch_related("events__actor__organization", "payments"):
        found.append(
            {
                _("Member"): review.member.name_zh,
                _("State"): state_label(review.state),
                _("Routed at"): _when(review.routed_at),
                _("Decision due"): _when(review.due_at),
                _("What is needed"): review.requested_items,
                _("Project"): f"{review.project.code} {review.project.name_zh}"
                if review.project
                else "",
                _("Pledged amount (yuan)"): _money(review.amount),
                _("In-kind or service help"): review.description,
                _("Why approved although not eligible"): review.override_reason,
                _("Reason for declining"): str(review.get_decline_reason_display())
                if review.decline_reason
                else "",
                _("Decided at"): _when(review.decided_at),
                _("Allocated to receipts (yuan)"): _money(review.allocated_total),
                _("Paid (yuan)"): _money(review.paid_total),
                _("Eligibility as judged at routing"): [
                    {
                        _("Project"): f"{code} {item.get('name_zh', '')}",
                        _("Eligible"): _("Yes") if item.get("eligible") else _("No"),
                        _("Reasons"): [reason.get("zh", "") for reason in item.get("reasons", [])],
                    }
                    for code, item in sorted(review.eligibility.items())
                ],
                # Internal notes are left out: see the module's docstring.
                _("History of the review"): [
                    {
                        _("When"): _when(event.at),
                        _("Who"): _who(event.actor),
                        _("From"): state_label(event.from_state),
                        _("To"): state_label(event.to_state),
                        _("Note"): str(review_note(event.note)),
                    }
                    for event in review.events.all()
                ],
                _("Payments"): [
                    {
                        _("Payment date"): _when(payment.paid_on),
                        _("Payee"): str(payment.get_payee_kind_display()),
                        _("Payee name"): payment.payee_name,
                        _("Bank"): payment.bank_name,
                        _("Account number"): payment.account_number,
                        _("Amount (yuan)"): _money(payment.amount),
                        _("Method"): str(payment.get_method_display()),
                        _("Bank reference"): payment.bank_reference,
                        _("Corrects an earlier payment"): _("Yes") if payment.reverses_id else "",
                    }
                    for payment in review.payments.all()
                ],
            }
        )
    return found


def _receipts(application: Application) -> list[dict]:
    receipts = (
        Receipt.objects.filter(application=application)
        .select_related("recorded_member")
        .prefetch_related("allocations__review__member")
    )
    return [
        {
            _("Receipt code"): receipt.code,
            _("Receipt number"): receipt.number,
            _("Check code"): receipt.check_code,
            _("Hospital"): receipt.hospital,
            _("Receipt date"): _when(receipt.issued_on),
            _("Inpatient or outpatient"): str(receipt.get_kind_display()),
            _("Inpatient/outpatient number"): receipt.patient_number,
            _("Total (yuan)"): _money(receipt.total),
            _("Paid by the insurance fund (yuan)"): _money(receipt.insurance_fund),
            _("Co-payment (yuan)"): _money(receipt.co_payment),
            _("Fully self-paid (yuan)"): _money(receipt.self_paid),
            _("Recorded by"): receipt.recorded_member.name_zh,
            _("Allocations to members' pledges"): [
                {
                    _("Member"): allocation.review.member.name_zh,
                    _("Amount (yuan)"): _money(allocation.amount),
                    _("At"): _when(allocation.created_at),
                }
                for allocation in receipt.allocations.all()
            ],
        }
        for receipt in receipts
    ]


def _history(application: Application) -> list[dict]:
    events = ApplicationEvent.objects.filter(application=application).select_related(
        "actor__organization"
    )
    return [
        {
            _("When"): _when(event.at),
            _("Who"): _who(event.actor),
            _("What"): str(event_label(event.action)),
            _("Section"): event.section,
            _("Changes"): {name: change for name, change in (event.changes or {}).items()},
            _("Note"): event.note,
        }
        for event in events
    ]


def _access_record(application: Application) -> list[dict]:
    records = audit.records_matching(
        application=application, related=("user__organization",)
    ).oldest_first()
    return [
        {
            _("When"): _when(record.at),
            _("Who"): _who(record.user),
            _("Through"): record.view,
            _("Detail"): record.detail,
        }
        for record in records
    ]


def application_data(application: Application) -> dict:
    """Everything held about the child and the guardians on this application, labelled."""
    return {
        _("Application"): {
            _("Reference number"): application.reference,
            _("Member that entered it"): application.member.name_zh,
            _("Status"): str(application.get_status_display()),
            _("Created at"): _when(application.created_at),
            _("Submitted at"): _when(application.submitted_at),
            _("Closing reason"): str(application.get_closing_reason_display())
            if application.closing_reason
            else "",
            _("Closed at"): _when(application.closed_at),
            _("Consent to sharing withdrawn at"): _when(application.consent_withdrawn_at),
            _("How consent was withdrawn"): application.consent_withdrawal_note,
            _("Anonymised at"): _when(application.anonymised_at),
        },
        _("Sections of the application"): _sections(application),
        _("Documents"): _documents(application),
        _("Members' reviews and decisions"): _reviews(application),
        _("Medical receipts and allocations"): _receipts(application),
        _("History of the application"): _history(application),
        _("Access record: who saw the child's data"): _access_record(application),
    }


def readme(application: Application, now) -> str:
    return _(
        "Data held about the child and the guardians: application %(reference)s\n"
        "\n"
        "Made on %(date)s at the guardian's request (Personal Information Protection Law, "
        "art. 45) by the children's serious-illness aid alliance.\n"
        "\n"
        "What is in this download:\n"
        "- %(data)s: every field of the application as stored (the child, the guardians, "
        "household economics, medical information, coverage and other aid, payment details, "
        "consent), the documents and their review, each member's review and decision with its "
        "history, the medical receipts, allocations and payments, the history of the "
        "application and the access record (who saw the child's data, when and through which "
        "page).\n"
        "- %(folder)s: the documents' files as they were uploaded.\n"
        "\n"
        "What is not in it: the members' internal notes on their reviews. They are the "
        "members' own working notes; each decision and its reason are in the file.\n"
        "\n"
        "ID and bank account numbers are shown in full: keep this download safe and give it "
        "only to the guardian. The file %(data)s is a text file: open it with any text editor "
        "or a browser.\n"
        "\n"
        "Questions, corrections or a wish to have the data deleted: contact the member that "
        "entered the application (%(member)s) or the alliance's secretariat.\n"
    ) % {
        "reference": application.reference,
        "date": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "data": DATA_FILE,
        "folder": DOCUMENT_FOLDER,
        "member": application.member.name_zh,
    }


def application_data_zip(application: Application) -> bytes:
    """The download: the JSON, the README and every document's file."""
    application = (
        Application.objects.select_related("child", "member", "category")
        .prefetch_related("guardians", "other_aid", "documents")
        .get(pk=application.pk)
    )
    now = timezone.now()
    with translation.override("zh-hans"):
        data = application_data(application)
        text = readme(application, now)
        missing_file = _("The file is no longer stored.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            DATA_FILE,
            json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
        )
        archive.writestr(README_FILE, text)
        for document in application.documents.all():
            try:
                with document.file.open("rb") as handle:
                    archive.writestr(document_path(document), handle.read())
            except (FileNotFoundError, ValueError):
                archive.writestr(document_path(document) + ".txt", missing_file)
    return buffer.getvalue()


def export_response(application: Application, user) -> HttpResponse:
    """The ZIP of everything held about the child and the guardians, recorded in the
    access record (the browser's and the API's download)."""
    content = application_data_zip(application)
    audit.access_record(
        application=application, user=user, view="data-export", detail="guardian's request"
    )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{application.reference}-data-export.zip"'
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
