"""The public eligibility pre-check form, in plain words (issue: eligibility pre-check)."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from organizations import regions
from organizations.eligibility import (
    ECONOMIC_FLAGS,
    REGISTRATIONS,
    STAGES,
    TREATMENTS,
    Applicant,
    is_icd_code,
    normalize_icd,
)
from organizations.models import ApiToken, DiseaseCategory

OLDEST_APPLICANT_YEARS = 25


def facts_errors(*, dob, application_date, category: DiseaseCategory | None, icd: str) -> dict:
    """Checks shared by the pre-check page and the API: field name -> message."""
    errors = {}
    if dob and application_date:
        if dob > application_date:
            errors["dob"] = _("The date of birth cannot be after the application date.")
        elif application_date.year - dob.year > OLDEST_APPLICANT_YEARS:
            errors["dob"] = _("The child would be over 25: check the date of birth.")
    if icd:
        message = icd_error(category, icd)
        if message:
            errors["icd"] = message
    return errors


def icd_error(category: DiseaseCategory | None, icd: str) -> str | None:
    """A message when `icd` is not an ICD-10 code inside the chosen category."""
    if not is_icd_code(icd):
        return _("Enter an ICD-10 code such as C91.0.")
    if category is not None and not category.covers_icd(icd):
        return _("The code %(icd)s is not in the disease category %(category)s.") % {
            "icd": normalize_icd(icd),
            "category": category.name_zh,
        }
    return None


def region_error(code: str) -> str | None:
    if not (code.isdigit() and len(code) == 6):
        return _("Enter a 6-digit region code (GB/T 2260).")
    if not regions.exists(code):
        return _("There is no region with the code %(code)s.") % {"code": code}
    return None


class RegionChoiceMixin:
    """Province, prefecture and county selects; the most precise choice wins."""

    region_prefixes = ("household", "hospital")

    def _add_region_fields(self, data):
        url = reverse("region-options")
        for prefix in self.region_prefixes:
            # Choosing a province loads its cities, a city its counties (htmx).
            self.fields[f"{prefix}_province"].widget.attrs.update(
                {
                    "hx-get": f"{url}?prefix={prefix}&level=prefecture",
                    "hx-target": f"#id_{prefix}_prefecture",
                }
            )
            self.fields[f"{prefix}_prefecture"].widget.attrs.update(
                {
                    "hx-get": f"{url}?prefix={prefix}&level=county",
                    "hx-target": f"#id_{prefix}_county",
                }
            )
            province = (data or {}).get(f"{prefix}_province", "")
            prefecture = (data or {}).get(f"{prefix}_prefecture", "")
            self.fields[f"{prefix}_province"].choices = [("", _("Choose a province"))] + [
                (r.code[:2], r.name) for r in regions.provinces()
            ]
            self.fields[f"{prefix}_prefecture"].choices = [("", _("Whole province"))] + [
                (r.choice_value, r.name) for r in regions.children(province)
            ]
            self.fields[f"{prefix}_county"].choices = [("", _("Whole city"))] + [
                (r.code, r.name) for r in regions.children(prefecture[:4])
            ]

    def _region(self, prefix: str) -> str:
        data = self.cleaned_data
        county = data.get(f"{prefix}_county") or ""
        prefecture = data.get(f"{prefix}_prefecture") or ""
        province = data.get(f"{prefix}_province") or ""
        if county:
            return county
        if prefecture:
            # A municipality's district is chosen in the city select: a full code.
            return prefecture if len(prefecture) == 6 else prefecture + "00"
        return province[:2] + "0000" if province else ""


def capitalised(choices) -> list[tuple[str, str]]:
    """Choices written for the middle of a sentence ("rural only"), as a form's labels:
    capitalised in English ("Rural"), unchanged in Chinese (issue 16)."""
    return [(value, capfirst(label)) for value, label in choices]


def _region_select(label, required=True):
    return forms.ChoiceField(
        label=label,
        required=required,
        widget=forms.Select(attrs={"class": "region-select"}),
    )


class PrecheckForm(RegionChoiceMixin, forms.Form):
    dob = forms.DateField(
        label=_("Child's date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ModelChoiceField(
        label=_("Illness"),
        queryset=DiseaseCategory.objects.all(),
        to_field_name="code",
        empty_label=_("Choose the illness"),
    )
    icd = forms.CharField(
        label=_("Diagnosis code (ICD-10), if you know it"),
        required=False,
        max_length=16,
        help_text=_("On the diagnosis certificate, e.g. C91.0. Some projects need it."),
    )
    household_province = _region_select(_("Household registration: province"))
    household_prefecture = _region_select(capfirst(_("city")), required=False)
    household_county = _region_select(capfirst(_("district or county")), required=False)
    registration = forms.ChoiceField(
        label=_("Household registration type"),
        choices=capitalised(REGISTRATIONS.items()),
        widget=forms.RadioSelect,
    )
    hospital_province = _region_select(_("Treating hospital: province"))
    hospital_prefecture = _region_select(capfirst(_("city")), required=False)
    hospital_county = _region_select(capfirst(_("district or county")), required=False)
    flags = forms.MultipleChoiceField(
        label=_("The family has (tick all that apply)"),
        choices=capitalised(ECONOMIC_FLAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    household_size = forms.IntegerField(
        label=_("People in the household"), min_value=1, max_value=30
    )
    household_income = forms.DecimalField(
        label=_("Household income last year (yuan)"), **money.AMOUNT
    )
    estimated_cost = forms.DecimalField(
        label=_("Total cost the hospital estimates (yuan)"), **money.AMOUNT
    )
    coverage = forms.DecimalField(
        label=_("Paid by medical insurance and government aid (yuan)"),
        initial=0,
        **money.AMOUNT,
    )
    other_aid = forms.DecimalField(
        label=_("Other aid received or applied for (yuan)"), initial=0, **money.AMOUNT
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stage_choices = capitalised([("", _("not in the plan")), *STAGES.items()])
        for name, label in TREATMENTS.items():
            self.fields[f"plan_{name}"] = forms.ChoiceField(
                label=capfirst(label), choices=stage_choices, required=False
            )
        self._add_region_fields(self.data)

    def plan_fields(self):
        return [self[f"plan_{name}"] for name in TREATMENTS]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for field_name, message in facts_errors(
            dob=data.get("dob"),
            application_date=today,
            category=data.get("category"),
            icd=data.get("icd") or "",
        ).items():
            self.add_error(field_name, message)
        if not any(data.get(f"plan_{name}") for name in TREATMENTS):
            self.add_error(None, _("Choose at least one treatment and its stage."))
        return data

    def applicant(self) -> Applicant:
        data = self.cleaned_data
        return Applicant(
            dob=data["dob"],
            application_date=timezone.localdate(),
            category=data["category"].code,
            icd=normalize_icd(data.get("icd") or ""),
            household_region=self._region("household"),
            registration=data["registration"],
            hospital_region=self._region("hospital"),
            flags=frozenset(data["flags"]),
            household_size=data["household_size"],
            household_income=data["household_income"],
            plan={name: data[f"plan_{name}"] for name in TREATMENTS if data.get(f"plan_{name}")},
            estimated_cost=data["estimated_cost"],
            coverage=data["coverage"],
            other_aid=data["other_aid"],
        )


class ApiTokenForm(forms.Form):
    """A new API token: what it is for, and whether it may change data."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which system uses it, e.g. the member's case database."),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
    )
