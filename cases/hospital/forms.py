"""The hospital staff's forms (issue 17): a correction of the medical section, a medical
document. They check; cases.hospital.services writes."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from aid_alliance.text import PlainTextField
from cases import access
from cases.intake.forms import PLAN_STAGE_CHOICES, coded
from cases.models import Application
from organizations.eligibility import TREATMENTS, normalize_icd
from organizations.forms import icd_error
from organizations.models import DiseaseCategory, Hospital


class HospitalCorrectionForm(forms.Form):
    """D01-D03, D07 and D08 as the hospital knows them, and why they differ."""

    category = forms.ModelChoiceField(
        label=coded("D01", _("Disease category")),
        queryset=DiseaseCategory.objects.all(),
        to_field_name="code",
        empty_label=_("Choose the illness"),
    )
    icd = forms.CharField(label=coded("D02", _("Diagnosis code (ICD-10)")), max_length=16)
    diagnosis_text = PlainTextField(
        label=coded("D03", _("Diagnosis as written on the certificate")), max_length=200
    )
    estimated_cost = forms.DecimalField(
        label=coded("D08", _("Estimated total cost (yuan)")), **money.AMOUNT
    )
    reason = PlainTextField(
        label=_("Reason for the correction"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the hospital corrects these values.")},
    )

    # D07, one field per treatment (plan_chemotherapy, …), declared on the class so that
    # the API's body check (cases.api_base.form_data) knows them.
    vars().update(
        {
            f"plan_{name}": forms.ChoiceField(
                label=coded("D07", capfirst(label)), choices=PLAN_STAGE_CHOICES, required=False
            )
            for name, label in TREATMENTS.items()
        }
    )

    def plan_fields(self):
        return [self[f"plan_{name}"] for name in TREATMENTS]

    @staticmethod
    def initial_for(application: Application) -> dict:
        return {
            "category": application.category.code if application.category_id else "",
            "icd": application.icd,
            "diagnosis_text": application.diagnosis_text,
            "estimated_cost": ""
            if application.estimated_cost is None
            else application.estimated_cost,
            **{f"plan_{t}": s for t, s in (application.treatment_plan or {}).items()},
        }

    def clean(self):
        data = super().clean()
        icd = data.get("icd")
        if icd:
            message = icd_error(data.get("category"), icd)
            if message:
                self.add_error("icd", message)
            else:
                data["icd"] = normalize_icd(icd)
        plan = {t: data.get(f"plan_{t}") for t in TREATMENTS if data.get(f"plan_{t}")}
        if not plan and not any(f"plan_{t}" in self.errors for t in TREATMENTS):
            self.add_error(
                f"plan_{next(iter(TREATMENTS))}", _("Choose at least one treatment and its stage.")
            )
        data["treatment_plan"] = plan
        return data


HOSPITAL_UPLOAD_CHOICES = [(t.value, t.label) for t in access.HOSPITAL_UPLOAD_TYPES]


class HospitalDocumentForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("Document"), choices=HOSPITAL_UPLOAD_CHOICES)
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG, at most 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class HospitalMatchForm(forms.Form):
    """The secretariat's match of a typed treating hospital to a directory entry."""

    hospital = forms.ModelChoiceField(
        label=_("Hospital in the directory"),
        queryset=Hospital.objects.filter(is_active=True),
        to_field_name="code",
    )
