"""The unified application's sections over JSON (standard.md §2): a JSON body becomes the
data the browser's section form would post, the SAME form validates it through
services.section_save, and its errors come back naming the field and its standard code.

The body uses the section form's field names, except where the form splits one field of
the standard into widgets: A07 `household_region` and D06 `hospital_region` are one GB/T 2260
code (the form's province / city / county selects), D07 `treatment_plan` is one object
(the form's select per treatment).
"""

from __future__ import annotations

import re

from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers

from cases import reveal
from cases.api_base import Invalid, error, scalar
from cases.fields import as_querydict
from cases.intake import services
from cases.intake.forms import SECTION_FORMS, region_initial
from cases.serializers import SECTION_SERIALIZERS
from cases.standard import FIELD_CODES
from organizations.eligibility import TREATMENTS
from organizations.forms import region_error

# API field -> the form's prefix of its three region selects.
REGIONS = {"A": ("household_region", "household"), "D": ("hospital_region", "hospital")}
PLAN = "treatment_plan"
# Standard codes of form fields that FIELD_CODES does not name (it maps a code to one field).
_EXTRA_CODES = {
    "C": {"debt_amount": "C04"},
    "D": {"department": "D06", "hospital_region": "D06"},
    "E": {
        "critical_illness_insurance": "E02",
        "medical_assistance": "E02",
        "commercial_insurance": "E02",
    },
    "H": {"consent_method": "H02"},
}
_CODES = {
    section: {
        **{name: code for code, name in FIELD_CODES.items() if code[0] == section},
        **_EXTRA_CODES.get(section, {}),
    }
    for section in SECTION_FORMS
}


def api_field(section: str, form_field: str) -> str | None:
    """The body's name for one of the form's fields (None: the section as a whole)."""
    if form_field == "__all__":
        return None
    if section in REGIONS and form_field.startswith(REGIONS[section][1] + "_"):
        return REGIONS[section][0]
    if section == "D" and form_field.startswith("plan_"):
        return PLAN
    return form_field


def field_code(section: str, field: str | None) -> str | None:
    if field is None:
        return None
    if section == "B":
        field = re.sub(r"^g[12]_", "", field)
    elif section == "E" and re.match(r"^aid[0-9]_", field):
        return "E03"
    return _CODES[section].get(field)


def form_errors(section: str, form) -> list[dict]:
    """The form's messages, each naming its field in the body and its standard code."""
    found = []
    for form_field, messages in form.errors.items():
        if form_field == "__all__" and form.whole_form_field:
            form_field = form.whole_form_field  # D: "at least one treatment" is D07's
        field = api_field(section, form_field)
        for message in messages:
            found.append(
                error(message, section=section, field=field, code=field_code(section, field))
            )
    return found


# --- reading ---------------------------------------------------------------------------------


def section_values(application, section: str) -> dict:
    """What is stored in the section, under the body's field names (every field present);
    ID and bank numbers masked (the reveal endpoint gives them in full, cases.reveal)."""
    initial = {
        name: reveal.shown(name, value)
        for name, value in SECTION_FORMS[section].initial_for(application).items()
    }
    fields = SECTION_SERIALIZERS[section]().fields
    values = {}
    for name, field in fields.items():
        value = initial.get(name)
        if isinstance(field, serializers.BooleanField):
            value = bool(value)
        elif isinstance(field, serializers.ListField):
            value = list(value or [])
        elif value in (None, ""):
            text = isinstance(field, serializers.CharField | serializers.ChoiceField)
            value = "" if text else None
        values[name] = value
    if section == "A":
        values["household_region"] = application.child.household_region
    if section == "D":
        values["hospital_region"] = application.hospital_region
        values[PLAN] = dict(application.treatment_plan or {})
    return values


# --- writing ---------------------------------------------------------------------------------


def _put_region(data: dict, prefix: str, value) -> str | None:
    code = scalar(value)
    if code is None:
        return _("Give a single text or number value.")
    for key in (f"{prefix}_province", f"{prefix}_prefecture", f"{prefix}_county"):
        data.pop(key, None)
    if code:
        message = region_error(code)
        if message:
            return message
        data.update(region_initial(prefix, code))
    return None


def _put_plan(data: dict, value) -> str | None:
    plan = {} if value is None else value
    if not isinstance(plan, dict) or not all(isinstance(v, str) for v in plan.values()):
        return _("Give an object that maps each treatment to its stage.")
    unknown = [key for key in plan if key not in TREATMENTS]
    if unknown:
        # The eligibility API's message for the same mistake.
        return _("Unknown treatments: %(names)s. Use: %(known)s.") % {
            "names": ", ".join(unknown),
            "known": ", ".join(TREATMENTS),
        }
    for treatment in TREATMENTS:
        data[f"plan_{treatment}"] = plan.get(treatment, "")
    return None


def _put(data: dict, section: str, name: str, value, field) -> str | None:
    """Put one body field into the form's data; a message when its shape is wrong (what
    the value says is for the form to judge)."""
    if section in REGIONS and name == REGIONS[section][0]:
        return _put_region(data, REGIONS[section][1], value)
    if name == PLAN:
        return _put_plan(data, value)
    if isinstance(field, serializers.BooleanField):
        if not isinstance(value, bool | None):
            return _("Give true or false.")
        data[name] = bool(value)
    elif isinstance(field, serializers.ListField):
        texts = [scalar(item) for item in value] if isinstance(value, list) else [None]
        if value is not None and None in texts:
            return _("Give a list of values.")
        data[name] = texts if value is not None else []
    else:
        text = scalar(value)
        if text is None:
            return _("Give a single text or number value.")
        data[name] = text
    return None


def form_data(application, section: str, body) -> QueryDict:
    """The form data for a PATCH: what is stored, with the body's fields put over it."""
    if not isinstance(body, dict):
        raise Invalid([error(_("Send a JSON object."), section=section)])
    data = dict(SECTION_FORMS[section].initial_for(application))
    fields = SECTION_SERIALIZERS[section]().fields
    problems = []
    for name, value in body.items():
        field = fields.get(name)
        if value and name in reveal.MASKED_FIELDS and value == reveal.shown(name, data.get(name)):
            continue  # a masked number read back unchanged: the stored one stays
        message = _("Unknown field.") if field is None else _put(data, section, name, value, field)
        if message:
            problems.append(
                error(message, section=section, field=name, code=field_code(section, name))
            )
    if problems:
        raise Invalid(problems)
    return as_querydict(data)


def section_patch(*, application, section: str, body, by):
    """Save the section through services.section_save, all or nothing: when the form finds
    an error, the transaction is rolled back and the errors are raised (the browser keeps
    invalid input as a draft's pending input; an API client keeps its own copy)."""
    data = form_data(application, section, body)
    with transaction.atomic():
        result = services.section_save(application=application, section=section, data=data, by=by)
        if result.form.errors:
            raise Invalid(form_errors(section, result.form))
    return result
