"""The call-back request a family sends from the pre-check, and the caseworker's actions."""

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from aid_alliance.text import PlainTextField
from cases.fields import optional_text
from cases.models import Lead
from organizations import regions
from organizations.models import DiseaseCategory

_PHONE_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212().]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")  # ASCII digits: \d takes every script's


class LeadForm(forms.Form):
    # In the order of the page, with the ids the error summary links to.
    name = PlainTextField(
        label=_("Your name"),
        max_length=50,
        name=True,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Mobile number to call"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    region = forms.ChoiceField(label=_("Province where the child's household is registered"))
    category = forms.ModelChoiceField(
        label=_("Illness"),
        queryset=DiseaseCategory.objects.all(),
        to_field_name="code",
        empty_label=_("Choose the illness"),
    )
    note = optional_text(_("Anything the charity should know (optional)"), 300)
    consent = forms.BooleanField(
        label=_("I agree that this charity contacts me by phone about aid for my child."),
        error_messages={
            "required": _("Tick the box to agree to be contacted: without it we cannot call.")
        },
    )
    # A field people never see (hidden by the stylesheet and from screen readers): a robot
    # that fills every field gives itself away (organizations.ratelimit counts it too).
    website = forms.CharField(required=False, label=_("Leave this empty"))

    FIELDS = ("name", "phone", "region", "category", "note", "consent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("Choose the province"))] + [
            (r.code[:2], r.name) for r in regions.provinces()
        ]

    def clean_phone(self):
        # As the family status page reads a typed number: full-width digits, spaces, dashes
        # and a +86 country code are all fine.
        phone = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", self.cleaned_data["phone"]))
        phone = phone.removeprefix("+86").removeprefix("0086")
        if not _MOBILE.fullmatch(phone):
            raise forms.ValidationError(
                _("Enter an 11-digit mainland mobile number starting with 1."), code="phone"
            )
        return phone

    def clean_region(self):
        return self.cleaned_data["region"][:2] + "0000"


class LeadCloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why is it closed?"), choices=Lead.ClosingReason.choices)
    note = optional_text(_("Note"), 300)


class LeadNoteForm(forms.Form):
    note = optional_text(_("Note"), 300)
