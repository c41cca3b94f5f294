"""The intake pages' own forms beside the sections: a document's upload and check, the
staff list's search, a draft's discard."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext_lazy as _

from aid_alliance.text import PlainTextField
from aid_alliance.widgets import QuickSelect
from cases.fields import ACCOUNT_RE, as_querydict  # noqa: F401 - as_querydict: the forms' data
from cases.list_choices import CategoryFilter, ListChoices
from cases.models import Application, Document
from organizations.eligibility import ECONOMIC_FLAGS
from organizations.forms import capitalised


class DocumentUploadForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("Document"), choices=Document.Type.choices)
    flag = forms.ChoiceField(
        label=_("For a hardship certificate: which status it proves"),
        choices=[("", "—"), *capitalised(ECONOMIC_FLAGS.items())],
        required=False,
    )
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG, at most 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("doc_type") == Document.Type.HARDSHIP_CERTIFICATE and not data.get("flag"):
            self.add_error("flag", _("Say which status this certificate proves."))
        return data


class DocumentReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accepted", _("Accept")), ("rejected", _("Reject"))], widget=forms.RadioSelect
    )
    reason = PlainTextField(label=_("Reason for rejecting"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "rejected" and not data.get("reason"):
            self.add_error(
                "reason", _("Say why the document is rejected, so the family can fix it.")
            )
        return data


class ApplicationSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Reference, child's name or ID number"), required=False, max_length=50
    )
    # Its selects are rendered in Python (QuickSelect), as the inbox's (issue 18).
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any")), *Application.Status.choices],
        required=False,
        widget=QuickSelect,
    )
    category = CategoryFilter()
    member = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, choices: Callable[[], ListChoices]):
        super().__init__(data)
        self.fields["category"].offer(choices)


class DiscardDraftForm(forms.Form):
    """Why a draft is discarded (issue 16): kept with it for the record."""

    reason = PlainTextField(
        label=_("Why discard this draft"),
        max_length=300,
        help_text=_("For example: entered twice, or the family did not go on. Kept on record."),
        error_messages={"required": _("Say why the draft is discarded.")},
    )
