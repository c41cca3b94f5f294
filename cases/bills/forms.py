"""Forms for receipts, allocations and payments (standard.md §4): every error at its field."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aid_alliance.money import yuan
from aid_alliance.text import PlainTextField
from cases.bills.services import normalize_key
from cases.fields import ACCOUNT_RE, YuanField
from cases.identity import mask_id_number
from cases.models import Application, Payment, Receipt

EARLIEST = date(2000, 1, 1)


class DateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"})

    def clean(self, value):
        day = super().clean(value)
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."), code="future")
        if day and day < EARLIEST:
            raise forms.ValidationError(_("Check the year: this date is too early."), code="early")
        return day


class KeyField(forms.CharField):
    """A receipt code or number; stored normalised (cases.bills.services.normalize_key)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=40, **kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        key = normalize_key(value)
        if not key:
            raise forms.ValidationError(
                _("Use the letters and digits printed on the receipt (at most 20)."), code="key"
            )
        return key


class ReceiptForm(forms.Form):
    code = KeyField(label=_("Receipt code"))
    number = KeyField(label=_("Receipt number"))
    check_code = KeyField(label=_("Check code"), required=False)
    hospital = PlainTextField(label=_("Hospital"), max_length=100, name=True)
    issued_on = DateField(label=_("Receipt date"))
    kind = forms.ChoiceField(
        label=_("Inpatient or outpatient"), choices=Receipt.Kind.choices, widget=forms.RadioSelect
    )
    patient_number = PlainTextField(
        label=_("Inpatient or outpatient number"), max_length=30, required=False
    )
    total = YuanField(label=_("Total (yuan)"), min_value=Decimal("0.01"))
    insurance_fund = YuanField(label=_("Paid by the insurance fund (yuan)"))
    co_payment = YuanField(label=_("Co-payment (yuan)"))
    self_paid = YuanField(label=_("Fully self-paid (yuan)"))
    scan = forms.FileField(
        label=_("Scan of the receipt (PDF, JPEG or PNG, at most 10 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def clean(self):
        data = super().clean()
        parts = [data.get(name) for name in ("insurance_fund", "co_payment", "self_paid")]
        total = data.get("total")
        if total is not None and None not in parts and sum(parts) != total:
            self.add_error(
                "total",
                _(
                    "The three parts add up to %(sum)s yuan, not %(total)s yuan: check the "
                    "amounts on the receipt."
                )
                % {"sum": yuan(sum(parts)), "total": yuan(total)},
            )
        return data


class AllocationForm(forms.Form):
    receipt = forms.ModelChoiceField(
        label=pgettext_lazy("medical bill", "Receipt"),
        queryset=Receipt.objects.none(),
        empty_label=None,
    )
    amount = YuanField(label=_("Amount to reimburse (yuan)"), min_value=Decimal("0.01"))
    note = PlainTextField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, receipts, options=None, **kwargs):
        """`receipts` are what may be chosen; `options`, when given, the receipts already
        loaded that the select offers (those with room left), so none is queried twice."""
        super().__init__(*args, **kwargs)
        field = self.fields["receipt"]
        field.queryset = receipts
        if options is not None:
            field.choices = [(receipt.pk, self.label(receipt)) for receipt in options]
        else:
            field.label_from_instance = self.label

    @staticmethod
    def label(receipt) -> str:
        return _("%(key)s · %(hospital)s · %(day)s · left %(room)s yuan") % {
            "key": receipt,
            "hospital": receipt.hospital,
            "day": receipt.issued_on.isoformat(),
            "room": yuan(receipt.room),
        }


class PaymentForm(forms.Form):
    paid_on = DateField(label=_("Payment date"))
    amount = YuanField(label=_("Amount (yuan)"), min_value=Decimal("0.01"))
    payee_kind = forms.ChoiceField(
        label=_("Paid to"), choices=Application.PayeeKind.choices, widget=forms.RadioSelect
    )
    payee_name = PlainTextField(label=_("Payee name"), max_length=100, name=True)
    bank_name = PlainTextField(label=_("Bank"), max_length=100, required=False, name=True)
    account_number = forms.CharField(label=_("Account number"), max_length=40, required=False)
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    bank_reference = PlainTextField(label=_("Bank reference"), max_length=60, required=False)
    note = PlainTextField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, payee: Application | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # G04 is masked on the page (cases.reveal): a payment to the payee the family named
        # may leave the account empty and goes to the account stored in G04.
        self.payee = payee if payee is not None and payee.account_number else None
        if self.payee is not None:
            self.fields["account_number"].help_text = _(
                "Leave empty to pay the account in G04 (%(masked)s)."
            ) % {"masked": mask_id_number(self.payee.account_number)}

    @classmethod
    def initial_for(cls, application: Application) -> dict:
        """Field group G of the application: the payee the family named."""
        return {
            "paid_on": timezone.localdate().isoformat(),
            "payee_kind": application.payee_kind or Application.PayeeKind.HOSPITAL,
            "payee_name": application.account_name,
            "bank_name": application.bank_name,
            "account_number": application.account_number,
            "method": Payment.Method.BANK_TRANSFER,
        }

    def clean_account_number(self):
        number = re.sub(
            r"[\s-]", "", unicodedata.normalize("NFKC", self.cleaned_data["account_number"])
        )
        if number and not ACCOUNT_RE.match(number):
            raise forms.ValidationError(_("An account number has 8 to 30 digits."))
        return number

    def clean(self):
        data = super().clean()
        if (
            not data.get("account_number")
            and self.payee is not None
            and data.get("payee_kind") == self.payee.payee_kind
        ):
            data["account_number"] = self.payee.account_number
        if data.get("method") == Payment.Method.BANK_TRANSFER and not data.get("account_number"):
            self.add_error("account_number", _("A bank transfer needs the account number."))
        return data


class ReversalForm(forms.Form):
    note = PlainTextField(
        label=_("Why is it reversed?"),
        max_length=300,
        error_messages={"required": _("Say why, so that the history explains the correction.")},
    )
