"""One form per section of the unified application (standard.md §2, groups A–H).

Each section form reads its initial values from the application (`initial_for`) and
hands back the fields that are valid as the rows' values (`values`); the intake's
`section_save` writes them, so a draft can be saved at any completeness and nothing typed
is lost: invalid input is kept by the service as pending. Forms write no rows.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from aid_alliance.text import PlainTextField
from aid_alliance.widgets import FieldGroup, QuickSelect
from cases import identity
from cases.fields import ACCOUNT_RE, as_querydict  # noqa: F401 - as_querydict: the forms' data
from cases.intake.section_base import (  # noqa: F401 - the sections' shared names, used from here
    PHONE_RE,
    REQUIRED_CHOICE,
    REQUIRED_TEXT,
    SectionForm,
    SectionValues,
    _initial_text,
    _region_fields,
    coded,
    in_group,
    region_initial,
    validate_phone,
)
from cases.models import Application, Child, Guardian, OtherAid, Sex
from cases.standard import ethnic_group_choices
from organizations.eligibility import ECONOMIC_FLAGS, STAGES, TREATMENTS
from organizations.forms import RegionChoiceMixin, capitalised, icd_error
from organizations.models import DiseaseCategory, Hospital


class ChildForm(RegionChoiceMixin, SectionForm):
    section = "A"
    region_prefixes = ("household",)

    name = PlainTextField(label=coded("A01", _("Child's name")), max_length=50, name=True)
    id_type = forms.ChoiceField(
        label=coded("A02", _("ID document")), choices=Child.IdType.choices, widget=QuickSelect
    )
    id_number = forms.CharField(label=coded("A03", _("ID number")), max_length=30)
    sex = forms.ChoiceField(
        label=coded("A04", _("Sex")), choices=Sex.choices, widget=forms.RadioSelect
    )
    dob = forms.DateField(
        label=coded("A05", _("Date of birth")), widget=forms.DateInput(attrs={"type": "date"})
    )
    ethnicity = forms.ChoiceField(
        label=coded("A06", _("Ethnic group")),
        choices=ethnic_group_choices(),
        widget=QuickSelect,
    )
    registration = forms.ChoiceField(
        label=coded("A08", _("Registration type")),
        choices=Child.Registration.choices,
        widget=forms.RadioSelect,
    )
    address = PlainTextField(label=coded("A09", _("Current address")), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in _region_fields(
            "household", coded("A07", _("Household registration: province"))
        ).items():
            self.fields[name] = field
        # In the standard's order: A07 (the three region selects) before A08 and A09.
        self.order_fields(
            [
                "name",
                "id_type",
                "id_number",
                "sex",
                "dob",
                "ethnicity",
                "household_province",
                "household_prefecture",
                "household_county",
            ]
        )
        self._add_region_fields(self.data or self.initial)

    @classmethod
    def initial_for(cls, application):
        child = application.child
        return {
            "name": child.name,
            "id_type": child.id_type,
            "id_number": child.id_number,
            "sex": child.sex,
            "dob": _initial_text(child.dob),
            "ethnicity": child.ethnicity,
            "registration": child.registration,
            "address": child.address,
            **region_initial("household", child.household_region),
        }

    def clean_id_number(self):
        return identity.normalize_resident_id(self.cleaned_data["id_number"])

    def clean(self):
        data = super().clean()
        dob = data.get("dob")
        if dob and dob > timezone.localdate():
            self.add_error("dob", _("The date of birth cannot be in the future."))
        number = data.get("id_number")
        if number and data.get("id_type") == Child.IdType.RESIDENT_ID:
            try:
                resident = identity.parse_resident_id(number)
            except forms.ValidationError as exc:
                self.add_error("id_number", exc)
            else:
                mismatches = identity.check_matches(
                    resident, sex=data.get("sex"), birth_date=data.get("dob")
                )
                for field_name, message in mismatches.items():
                    self.add_error("dob" if field_name == "birth_date" else field_name, message)
        return data

    def values(self, cleaned):
        child = {
            name: cleaned[name] or ("" if name != "dob" else None)
            for name in (
                "name",
                "id_type",
                "id_number",
                "sex",
                "dob",
                "ethnicity",
                "registration",
                "address",
            )
            if name in cleaned
        }
        if {"household_province", "household_prefecture", "household_county"} <= cleaned.keys():
            child["household_region"] = self._region("household")
        return SectionValues(child=child)


def _guardian_fields(n: int, required: bool):
    return {
        f"g{n}_name": PlainTextField(
            label=coded("B01", _("Name")), max_length=50, required=required, name=True
        ),
        f"g{n}_relationship": forms.ChoiceField(
            label=coded("B02", _("Relationship to the child")),
            choices=[("", "—"), *Guardian.Relationship.choices],
            required=required,
            widget=QuickSelect,
        ),
        f"g{n}_id_number": forms.CharField(
            label=coded("B03", _("Resident ID number")), max_length=30, required=required
        ),
        f"g{n}_phone": forms.CharField(
            label=coded("B04", _("Mobile phone")), max_length=20, required=required
        ),
        f"g{n}_occupation": PlainTextField(
            label=coded("B05", _("Occupation or employer (optional)")),
            max_length=100,
            required=False,
        ),
    }


GUARDIAN_ATTRS = ("name", "relationship", "id_number", "phone", "occupation")


class GuardiansForm(SectionForm):
    section = "B"
    primary = forms.ChoiceField(
        label=coded("B06", _("Primary contact")),
        choices=[("1", _("Guardian 1")), ("2", _("Guardian 2"))],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {**_guardian_fields(1, True), **_guardian_fields(2, False)}
        self.fields = {**fields, "primary": self.fields["primary"]}

    def summary_labels(self):
        return {
            f"g{n}_{attr}": in_group(self.fields[f"g{n}_{attr}"].label, legend)
            for n, legend in ((1, _("Guardian 1")), (2, _("Guardian 2")))
            for attr in GUARDIAN_ATTRS
        }

    def guardian_fields(self, n: int):
        return FieldGroup(self[f"g{n}_{attr}"] for attr in GUARDIAN_ATTRS)

    def guardian_fields_1(self):
        return self.guardian_fields(1)

    def guardian_fields_2(self):
        return self.guardian_fields(2)

    def primary_field(self):
        return FieldGroup([self["primary"]])

    @classmethod
    def initial_for(cls, application):
        initial = {}
        for guardian in application.guardians.all():
            for attr in GUARDIAN_ATTRS:
                initial[f"g{guardian.position}_{attr}"] = getattr(guardian, attr)
            if guardian.is_primary:
                initial["primary"] = str(guardian.position)
        return initial

    def _clean_phone(self, n):
        value = self.cleaned_data.get(f"g{n}_phone", "")
        return validate_phone(value) if value else ""

    def clean_g1_phone(self):
        return self._clean_phone(1)

    def clean_g2_phone(self):
        return self._clean_phone(2)

    def _clean_id(self, n):
        value = identity.normalize_resident_id(self.cleaned_data.get(f"g{n}_id_number", ""))
        if value:
            identity.parse_resident_id(value)
        return value

    def clean_g1_id_number(self):
        return self._clean_id(1)

    def clean_g2_id_number(self):
        return self._clean_id(2)

    def clean(self):
        data = super().clean()
        self.add_strict_problems(data)
        if data.get("primary") == "2" and not self._second():
            self.add_error("primary", _("There is no second guardian to be the primary contact."))
        return data

    def _second(self) -> bool:
        return any(self.data.get(self.add_prefix(f"g2_{a}")) for a in GUARDIAN_ATTRS)

    def strict_problems(self, cleaned):
        if not self._second():
            return []
        return [
            (f"g2_{attr}", _("Fill this in for the second guardian, or clear all of them."))
            for attr in ("name", "relationship", "id_number", "phone")
            if not cleaned.get(f"g2_{attr}") and f"g2_{attr}" not in self.errors
        ]

    def values(self, cleaned):
        guardians = {}
        for n in (1, 2):
            if n == 2 and not any(self.data.get(f"g2_{a}") for a in GUARDIAN_ATTRS):
                guardians[n] = None  # every field of the second guardian cleared
                continue
            guardians[n] = {
                a: cleaned[f"g{n}_{a}"] or "" for a in GUARDIAN_ATTRS if f"g{n}_{a}" in cleaned
            }
        return SectionValues(guardians=guardians, primary=cleaned.get("primary") or None)


class EconomicsForm(SectionForm):
    section = "C"
    household_size = forms.IntegerField(
        label=coded("C01", _("People in the household")), min_value=1, max_value=30
    )
    annual_income = forms.DecimalField(
        label=coded("C02", _("Annual household income (yuan)")), **money.AMOUNT
    )
    income_source = PlainTextField(
        # A description, not a name: its Chinese punctuation stays (aid_alliance.text).
        label=coded("C03", _("Main income source")),
        max_length=100,
    )
    assets_debts = PlainTextField(
        label=coded("C04", _("Assets and debts")),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )
    debt_amount = forms.DecimalField(label=coded("C04", _("Debts (yuan)")), **money.AMOUNT)
    economic_flags = forms.MultipleChoiceField(
        label=coded("C05", _("Status (tick all that apply)")),
        choices=capitalised(ECONOMIC_FLAGS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    FIELDS = (
        "household_size",
        "annual_income",
        "income_source",
        "assets_debts",
        "debt_amount",
        "economic_flags",
    )

    @classmethod
    def initial_for(cls, application):
        initial = {name: getattr(application, name) for name in cls.FIELDS}
        for name in ("household_size", "annual_income", "debt_amount"):
            initial[name] = _initial_text(initial[name])
        return initial

    def values(self, cleaned):
        values = {
            name: cleaned[name] if cleaned[name] not in ("",) else None
            for name in self.FIELDS
            if name in cleaned
        }
        for name, empty in (("assets_debts", ""), ("income_source", ""), ("economic_flags", [])):
            if name in values:
                values[name] = values[name] or empty
        return SectionValues(application=values)


class HospitalNameInput(forms.TextInput):
    """D06 with type-ahead from the hospital directory (issue 17): an <input list> and its
    <datalist>, which every browser completes by itself (no script, no library)."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}-list"
        attrs.update(list=list_id, autocomplete="off")
        html = super().render(name, value, attrs, renderer)
        names = Hospital.objects.filter(is_active=True).values_list("name", flat=True)
        options = format_html_join("", '<option value="{}">', ((n,) for n in names))
        return format_html('{}<datalist id="{}">{}</datalist>', html, list_id, options)


def directory_hospital(name: str) -> Hospital | None:
    """The active directory hospital of this exact name, if any."""
    if not name:
        return None
    return Hospital.objects.filter(is_active=True, name=name).first()


class CategoryField(forms.ModelChoiceField):
    """D01: the application's stored category (`known`, loaded with it) is taken as it is,
    not looked up again by its code (issue 18: a query per check of the section)."""

    known = None

    def to_python(self, value):
        if self.known is not None and value == self.known.code:
            return self.known
        return super().to_python(value)


class MedicalForm(RegionChoiceMixin, SectionForm):
    section = "D"
    region_prefixes = ("hospital",)

    category = CategoryField(
        label=coded("D01", _("Disease category")),
        queryset=DiseaseCategory.objects.all(),
        to_field_name="code",
        # Django's own empty choice ("- Select an option -") is not translated to Chinese.
        empty_label=_("Select…"),
        widget=QuickSelect,
    )
    icd = forms.CharField(label=coded("D02", _("Diagnosis code (ICD-10)")), max_length=16)
    diagnosis_text = PlainTextField(
        label=coded("D03", _("Diagnosis as written on the certificate")), max_length=200
    )
    diagnosis_date = forms.DateField(
        label=coded("D04", _("Diagnosis date")), widget=forms.DateInput(attrs={"type": "date"})
    )
    diagnosing_hospital = PlainTextField(
        label=coded("D05", _("Diagnosing hospital")), max_length=100, name=True
    )
    treating_hospital = PlainTextField(
        label=coded("D06", _("Treating hospital")),
        max_length=100,
        name=True,
        widget=HospitalNameInput(),
        help_text=_(
            "Start typing to pick from the hospital directory; a hospital not listed can be "
            "typed in full. A listed hospital's region is taken from the directory."
        ),
    )
    # §2: D06 is the treating hospital with its region code and department.
    department = PlainTextField(label=coded("D06", _("Department")), max_length=50, name=True)
    estimated_cost = forms.DecimalField(
        label=coded("D08", _("Estimated total cost (yuan)")), **money.AMOUNT
    )
    costs_incurred = forms.DecimalField(
        label=coded("D09", _("Costs already incurred (yuan)")), **money.AMOUNT
    )
    TEXT_FIELDS = (
        "icd",
        "diagnosis_text",
        "diagnosing_hospital",
        "treating_hospital",
        "department",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.application is not None and Application.category.is_cached(self.application):
            self.fields["category"].known = self.application.category
        for name, field in _region_fields(
            "hospital", coded("D06", _("Treating hospital's region: province"))
        ).items():
            self.fields[name] = field
        # In the standard's order: D06's region and department, D07, then the costs D08, D09.
        self.order_fields(
            [
                *("category", "icd", "diagnosis_text", "diagnosis_date"),
                *("diagnosing_hospital", "treating_hospital"),
                *("hospital_province", "hospital_prefecture", "hospital_county", "department"),
                *(f"plan_{name}" for name in TREATMENTS),
            ]
        )
        self._add_region_fields(self.data or self.initial)

    # "Choose at least one treatment" is about D07: linked to its first select.
    whole_form_field = f"plan_{next(iter(TREATMENTS))}"
    whole_form_label = coded("D07", _("Treatment plan"))

    def plan_fields(self):
        return [self[f"plan_{name}"] for name in TREATMENTS]

    @classmethod
    def initial_for(cls, application):
        initial = {name: getattr(application, name) for name in cls.TEXT_FIELDS}
        initial.update(
            category=application.category.code if application.category_id else "",
            diagnosis_date=_initial_text(application.diagnosis_date),
            estimated_cost=_initial_text(application.estimated_cost),
            costs_incurred=_initial_text(application.costs_incurred),
            **{f"plan_{t}": s for t, s in (application.treatment_plan or {}).items()},
            **region_initial("hospital", application.hospital_region),
        )
        return initial

    def clean(self):
        data = super().clean()
        category, icd = data.get("category"), data.get("icd")
        if icd:
            message = icd_error(category, icd)
            if message:
                self.add_error("icd", message)
        diagnosed = data.get("diagnosis_date")
        dob = self.application.child.dob
        if diagnosed and diagnosed > timezone.localdate():
            self.add_error("diagnosis_date", _("The diagnosis date cannot be in the future."))
        elif diagnosed and dob and diagnosed < dob:
            self.add_error(
                "diagnosis_date", _("The diagnosis date cannot be before the date of birth.")
            )
        self.add_strict_problems(data)
        region_errors = [
            name
            for name in ("hospital_province", "hospital_prefecture", "hospital_county")
            if name in self.errors
        ]
        # The region of a hospital picked from the directory is the directory's (looked up
        # only when the region selects are refused: no query for a complete section).
        typed = data.get("treating_hospital") or ""
        # Read beyond the section's values: its state is not remembered (selectors).
        self.read_directory = bool(region_errors and typed)
        if self.read_directory and directory_hospital(typed):
            for name in region_errors:
                del self.errors[name]
        return data

    def strict_problems(self, cleaned):
        if any(cleaned.get(f"plan_{t}") for t in TREATMENTS):
            return []
        return [(None, _("Choose at least one treatment and its stage."))]

    def values(self, cleaned):
        values = {
            name: cleaned[name]
            if cleaned[name] is not None
            else (None if name not in self.TEXT_FIELDS else "")
            for name in (
                *self.TEXT_FIELDS,
                "category",
                "diagnosis_date",
                "estimated_cost",
                "costs_incurred",
            )
            if name in cleaned
        }
        if {"hospital_province", "hospital_prefecture", "hospital_county"} <= cleaned.keys():
            values["hospital_region"] = self._region("hospital")
        if "treating_hospital" in cleaned:
            # Picked from the directory: the entry, and its region (issue 17); typed: the
            # name alone, for the secretariat to match later.
            picked = directory_hospital(cleaned["treating_hospital"] or "")
            values["treating_hospital_ref"] = picked
            if picked is not None:
                values["hospital_region"] = picked.region
        plan = {
            treatment: cleaned[f"plan_{treatment}"] or ""
            for treatment in TREATMENTS
            if f"plan_{treatment}" in cleaned
        }
        return SectionValues(application=values, treatment_plan=plan)


# A D07 stage, or "" for a treatment not in the plan (one enum in the API's schema, also
# the hospital's correction's). Labels capitalised as labels in English (issue 16); the
# values are the API's.
PLAN_STAGE_CHOICES = capitalised([("", _("not in the plan")), *STAGES.items()])


def _plan_fields() -> dict[str, forms.ChoiceField]:
    """D07's selects, one per treatment: declared once with the form's class, not built
    per form (issue 18: their choices were most of the form's time); the labels are lazy,
    read in the page's language."""
    return {
        f"plan_{name}": forms.ChoiceField(
            label=coded("D07", capfirst(label)),
            choices=PLAN_STAGE_CHOICES,
            required=False,
            widget=QuickSelect,
        )
        for name, label in TREATMENTS.items()
    }


MedicalForm.base_fields.update(_plan_fields())  # the same dict as declared_fields

AID_ROWS = 3


# E02: most families have no critical illness, assistance or commercial payment: an empty
# amount is 0, stored and shown as 0.00, not a required field left to type "0" into.
E02_AMOUNT = {**money.AMOUNT, "required": False, "help_text": _("Empty counts as 0.")}


class CoverageForm(SectionForm):
    section = "E"
    insurance_type = forms.ChoiceField(
        label=coded("E01", _("Basic medical insurance")),
        choices=Application.InsuranceType.choices,
        widget=forms.RadioSelect,
    )
    basic_insurance = forms.DecimalField(
        label=coded("E02", _("Paid by basic medical insurance (yuan)")), **E02_AMOUNT
    )
    critical_illness_insurance = forms.DecimalField(
        label=coded("E02", _("Paid by critical illness insurance (yuan)")), **E02_AMOUNT
    )
    medical_assistance = forms.DecimalField(
        label=coded("E02", _("Paid by government medical assistance (yuan)")), **E02_AMOUNT
    )
    commercial_insurance = forms.DecimalField(
        label=coded("E02", _("Paid by commercial insurance (yuan)")), **E02_AMOUNT
    )
    AMOUNTS = (
        "basic_insurance",
        "critical_illness_insurance",
        "medical_assistance",
        "commercial_insurance",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, AID_ROWS + 1):
            self.fields[f"aid{n}_kind"] = forms.ChoiceField(
                label=coded("E03", _("Other aid: from")),
                choices=[("", "—"), *OtherAid.Kind.choices],
                required=False,
                widget=QuickSelect,
            )
            self.fields[f"aid{n}_source"] = PlainTextField(
                label=_("Charity or platform"), max_length=100, required=False, name=True
            )
            self.fields[f"aid{n}_amount"] = forms.DecimalField(
                label=_("Amount (yuan)"), required=False, **money.AMOUNT
            )
            self.fields[f"aid{n}_received"] = forms.BooleanField(
                label=_("Already received"), required=False
            )

    def summary_labels(self):
        return {
            f"aid{n}_{attr}": in_group(
                self.fields[f"aid{n}_{attr}"].label, _("Other aid %(n)s") % {"n": n}
            )
            for n in range(1, AID_ROWS + 1)
            for attr in ("kind", "source", "amount", "received")
        }

    def main_fields(self):
        return FieldGroup(self[name] for name in ("insurance_type", *self.AMOUNTS))

    def aid_rows(self):
        return [
            FieldGroup(self[f"aid{n}_{a}"] for a in ("kind", "source", "amount", "received"))
            for n in range(1, AID_ROWS + 1)
        ]

    @classmethod
    def initial_for(cls, application):
        initial = {"insurance_type": application.insurance_type}
        initial.update({name: _initial_text(getattr(application, name)) for name in cls.AMOUNTS})
        for aid in application.other_aid.all():
            initial.update(
                {
                    f"aid{aid.position}_kind": aid.kind,
                    f"aid{aid.position}_source": aid.source,
                    f"aid{aid.position}_amount": _initial_text(aid.amount),
                    f"aid{aid.position}_received": aid.received,
                }
            )
        return initial

    def clean(self):
        data = super().clean()
        for name in self.AMOUNTS:
            if name in data and data[name] is None:
                data[name] = Decimal("0.00")
        for n in range(1, AID_ROWS + 1):
            given = [data.get(f"aid{n}_{a}") for a in ("kind", "source", "amount")]
            if any(v not in (None, "") for v in given) and not all(
                v not in (None, "") for v in given
            ):
                self.add_error(
                    f"aid{n}_amount", _("Give the kind, the name and the amount of this aid.")
                )
        return data

    def values(self, cleaned):
        values = {name: cleaned[name] for name in self.AMOUNTS if name in cleaned}
        if "insurance_type" in cleaned:
            values["insurance_type"] = cleaned["insurance_type"] or ""
        other_aid = {}
        for n in range(1, AID_ROWS + 1):
            keys = [f"aid{n}_{a}" for a in ("kind", "source", "amount", "received")]
            if not all(k in cleaned for k in keys):
                continue
            kind, source, amount, received = (cleaned[k] for k in keys)
            complete = kind and source and amount is not None
            other_aid[n] = (
                {"kind": kind, "source": source, "amount": amount, "received": received}
                if complete
                else None
            )
        return SectionValues(application=values, other_aid=other_aid)

    @property
    def other_aid_total(self):
        return sum((a.amount or 0 for a in self.application.other_aid.all()), Decimal(0))


class PaymentForm(SectionForm):
    section = "G"
    payee_kind = forms.ChoiceField(
        label=coded("G01", _("Paid to")),
        choices=Application.PayeeKind.choices,
        widget=forms.RadioSelect,
    )
    bank_name = PlainTextField(label=coded("G02", _("Bank")), max_length=100, name=True)
    account_name = PlainTextField(label=coded("G03", _("Account name")), max_length=100, name=True)
    account_number = forms.CharField(label=coded("G04", _("Account number")), max_length=40)
    FIELDS = ("payee_kind", "bank_name", "account_name", "account_number")

    @classmethod
    def initial_for(cls, application):
        return {name: getattr(application, name) for name in cls.FIELDS}

    def clean_account_number(self):
        number = re.sub(r"[\s-]", "", self.cleaned_data["account_number"])
        if number and not ACCOUNT_RE.match(number):
            raise forms.ValidationError(_("An account number has 8 to 30 digits."))
        return number

    def values(self, cleaned):
        return SectionValues(
            application={name: cleaned[name] or "" for name in self.FIELDS if name in cleaned}
        )


class ConsentForm(SectionForm):
    section = "H"
    consent_sharing = forms.BooleanField(
        label=coded(
            "H01",
            _("The guardian separately consents to sharing this application with every member"),
        ),
        error_messages={
            "required": _("Without this consent the application cannot be routed to the members.")
        },
    )
    consent_date = forms.DateField(
        label=coded("H02", _("Date of consent")), widget=forms.DateInput(attrs={"type": "date"})
    )
    consent_method = forms.ChoiceField(
        label=coded("H02", _("How consent was obtained")),
        choices=Application.ConsentMethod.choices,
        widget=forms.RadioSelect,
    )
    consent_publicity = forms.BooleanField(
        label=coded("H03", _("The guardian also consents to publicity (optional)")), required=False
    )
    # The consent text's second version (issue 17) adds this clause; a consent recorded
    # under the first version does not cover it until the guardian gives it.
    consent_hospital = forms.BooleanField(
        label=coded(
            "H04",
            _(
                "The guardian consents to sharing the child's name, age, sex and medical "
                "sections with the treating hospital, so that it confirms the diagnosis, "
                "treatment and cost estimate (optional)"
            ),
        ),
        required=False,
    )
    FIELDS = (
        "consent_sharing",
        "consent_date",
        "consent_method",
        "consent_publicity",
        "consent_hospital",
    )

    @classmethod
    def initial_for(cls, application):
        initial = {name: getattr(application, name) for name in cls.FIELDS}
        initial["consent_date"] = _initial_text(application.consent_date)
        return initial

    def clean_consent_date(self):
        date = self.cleaned_data["consent_date"]
        if date and date > timezone.localdate():
            raise forms.ValidationError(_("The consent date cannot be in the future."))
        return date

    def values(self, cleaned):
        values = {
            name: cleaned[name]
            if cleaned[name] is not None
            else (None if name == "consent_date" else "")
            for name in self.FIELDS
            if name in cleaned
        }
        # An unticked box is not "missing": it is a clear no.
        values["consent_sharing"] = bool(self.data.get("consent_sharing"))
        values["consent_publicity"] = bool(self.data.get("consent_publicity"))
        values["consent_hospital"] = bool(self.data.get("consent_hospital"))
        return SectionValues(application=values)


SECTION_FORMS = {
    form.section: form
    for form in (
        ChildForm,
        GuardiansForm,
        EconomicsForm,
        MedicalForm,
        CoverageForm,
        PaymentForm,
        ConsentForm,
    )
}
