"""What every section form of the application shares (cases.intake.forms): the base form
with its values, field codes, the phone check, the region selects' fields and initial
values. Split from cases/intake/forms.py by feature: the sections there, this beneath them.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from django import forms
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from aid_alliance.error_summary import form_error_summary
from aid_alliance.widgets import FieldGroup, QuickSelect
from cases.fields import ACCOUNT_RE, as_querydict  # noqa: F401 - as_querydict: the forms' data
from cases.models import Application
from organizations import regions

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
REQUIRED_TEXT = _("Fill this in.")
REQUIRED_CHOICE = _("Choose one.")


def coded(code: str, label) -> str:
    """'A01 姓名': the standard's code before the label (lazy: read in the user's language)."""
    return format_lazy("{} {}", code, label)


def in_group(label, group) -> str:
    """'B04 手机号码（监护人 2）': a field's label with the group it repeats in (the summary)."""
    return _("%(label)s (%(group)s)") % {"label": label, "group": group}


def _initial_text(value) -> str:
    # Money as stored, two places: 200000 just saved reads as 200000.00 read back, so the
    # history's before and after compare equal when nothing changed.
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def validate_phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", value or "")
    if not PHONE_RE.match(phone):
        raise forms.ValidationError(
            _("Enter an 11-digit mainland mobile number starting with 1."), code="phone"
        )
    return phone


@dataclasses.dataclass
class SectionValues:
    """What a section's valid input sets, by row; `section_save` writes it.

    `guardians` and `other_aid` are keyed by position; None there removes the row.
    `treatment_plan` maps a treatment to its stage; "" removes the treatment.
    """

    application: dict = dataclasses.field(default_factory=dict)
    child: dict = dataclasses.field(default_factory=dict)
    guardians: dict = dataclasses.field(default_factory=dict)
    primary: str | None = None
    treatment_plan: dict = dataclasses.field(default_factory=dict)
    other_aid: dict = dataclasses.field(default_factory=dict)


class SectionForm(forms.Form):
    """A section of the application; `strict` shows 'required' errors (on submission).
    Its selects are QuickSelect: a template per option was most of the edit page's time
    (issue 18)."""

    section = ""
    # The errors of the section as a whole are shown in the summary under this field's
    # label and linked to its input (the field they are about); none: to the section.
    whole_form_field = ""
    whole_form_label = ""
    # Whether validating read anything but the values, the application's stored rows and
    # the day (D06: the hospital directory): the state is then not remembered (selectors).
    read_directory = False

    def __init__(self, *args, application: Application, strict: bool = False, **kwargs):
        self.application = application
        self.strict = strict
        self.quieted = []  # the required fields quiet_required_errors let pass
        super().__init__(*args, **kwargs)

    def full_clean(self):
        # "Fill this in" / "Choose one", not Django's "This field is required": the error
        # summary reads "A07 户籍所在地：请选择一项。" (fields added in __init__ included).
        # Django's message is the same lazy object in every field that keeps it: compared by
        # identity first, as comparing lazy texts translates both (issue 18: 70 fields, 14
        # forms a page).
        default = forms.Field.default_error_messages["required"]
        for field in self.fields.values():
            message = field.error_messages.get("required")
            if message is default or (
                message is not None
                and message is not REQUIRED_CHOICE
                and message is not REQUIRED_TEXT
                and message == default
            ):
                choice = isinstance(field, forms.ChoiceField)
                field.error_messages["required"] = REQUIRED_CHOICE if choice else REQUIRED_TEXT
        super().full_clean()

    def all_fields(self):
        """Every field, written out as templates/_field.html would (in Python, issue 18)."""
        return FieldGroup(self)

    @classmethod
    def initial_for(cls, application: Application) -> dict:
        raise NotImplementedError

    def values(self, cleaned: dict) -> SectionValues:
        """The rows' values from `cleaned` (the fields that are valid)."""
        raise NotImplementedError

    def summary_labels(self) -> dict:
        """Labels of fields that read the same as another's in the summary, made apart."""
        return {}

    def error_summary(self) -> list[dict]:
        """The section's entries of the page's error summary (templates/_error_summary.html):
        one per field in error, by code and label, linked to the field's first input."""
        whole = self[self.whole_form_field] if self.whole_form_field else None
        return form_error_summary(
            self,
            labels=self.summary_labels(),
            whole_form_anchor=whole.auto_id if whole else f"section-{self.section}-title",
            whole_form_label=self.whole_form_label if whole else "",
        )

    def strict_problems(self, cleaned: dict) -> list[tuple[str | None, str]]:
        """What only the submission's check refuses beyond an empty required field, as
        (field, message): `clean` adds them when `strict`, and `passes_strict` asks them of
        a drafting form (the same rules in one place)."""
        return []

    def add_strict_problems(self, cleaned: dict) -> None:
        if self.strict:
            for name, message in self.strict_problems(cleaned):
                self.add_error(name, message)

    def quiet_required_errors(self):
        """While drafting, an empty required field is not an error to shout about (the
        quieted fields are kept for `passes_strict`)."""
        if self.strict:
            return
        for name in list(self.errors):
            if name != "__all__" and all(e.code == "required" for e in self.errors.as_data()[name]):
                del self.errors[name]
                self.quieted.append(name)

    def passes_strict(self) -> bool:
        """Whether this validated drafting form's input passes the submission's check, as
        the same form built `strict` would (issue 18: one form per section, not two): the
        two differ only by the quieted required errors and `strict_problems`, which a
        strict `clean` adds after the rest and which change no other field's errors."""
        if self.strict:
            return self.is_valid()
        return not self.errors and not self.quieted and not self.strict_problems(self.cleaned_data)


def region_initial(prefix: str, code: str) -> dict:
    """Initial values of the province / city / county selects for a stored code."""
    if not code:
        return {}
    province = code[:2]
    city_values = {r.choice_value for r in regions.children(province)}
    if code in city_values:  # a municipality's district sits in the city select
        return {f"{prefix}_province": province, f"{prefix}_prefecture": code}
    county = code if not code.endswith("00") else ""
    return {
        f"{prefix}_province": province,
        f"{prefix}_prefecture": code[:4] if code[2:4] != "00" else "",
        f"{prefix}_county": county,
    }


def _region_fields(prefix: str, label):
    return {
        f"{prefix}_province": forms.ChoiceField(label=label, required=True, widget=QuickSelect),
        f"{prefix}_prefecture": forms.ChoiceField(
            label=capfirst(_("city")), required=False, widget=QuickSelect
        ),
        f"{prefix}_county": forms.ChoiceField(
            label=capfirst(_("district or county")), required=False, widget=QuickSelect
        ),
    }
