"""The application page's sections as a read model: (code and label, shown value) rows by
section, without a form per section per request (issue 18).

The page used to build each section's form only to read its fields back through the
template (`shown_value`, `money_shown`): a form per section, a bound field per field,
region choices and a category query, for a page that edits nothing. Here the fields of
each section (order, label, kind, fixed choices) are read once per process from the
section forms, unbound, and each request only maps the stored values (with the pending
input kept as typed, as the form showed it) through them. What is shown is what the
forms showed: choices by label, regions by name, money through `yuan`, a ticked box as
✔, an unticked one as —, and the ID and bank numbers masked unless revealed
(cases.reveal; who may reveal is cases.access.revealable). tests/test_read_model.py
compares it with the forms' rendering.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django import forms
from django.utils.timezone import localtime

from cases import crypto, reveal
from cases.fields import as_querydict
from cases.intake.forms import SECTION_FORMS
from cases.models import Application, ApplicationEvent
from cases.standard import SECTIONS
from cases.templatetags.case_extras import change_label, change_value, event_label
from organizations import regions
from organizations.models import DiseaseCategory
from organizations.templatetags.org_extras import yuan  # tolerates a mistyped amount

# The pending input's encryption context: cases.intake.services.PENDING (a higher layer).
PENDING = "cases_application.pending_input"


@dataclass(frozen=True)
class FieldSpec:
    """A section field as the page shows it; `label` stays lazy (the reader's language)."""

    name: str
    label: object
    kind: str  # bool, multi, model, region, money, choice or text
    choices: tuple = ()


@dataclass
class FieldView:
    """A field of one application's section: its label and the choices its value is read
    through (the history's change_label / change_value read these, as they read a form's
    fields)."""

    name: str
    label: object
    choices: dict = field(default_factory=dict)
    is_money: bool = False  # a yuan amount, shown as every page writes money


class _CategoryChoices(dict):
    """The disease categories as the category select offers them, read only when a history
    row asks for one (a changed D01): no query otherwise."""

    def __init__(self):
        super().__init__()
        self._loaded = False

    def _load(self):
        if not self._loaded:
            self.update({c.code: str(c) for c in DiseaseCategory.objects.all()})
            self._loaded = True

    def __len__(self):
        self._load()
        return super().__len__()

    def __iter__(self):
        self._load()
        return super().__iter__()

    def keys(self):
        self._load()
        return super().keys()

    def items(self):
        self._load()
        return super().items()

    def get(self, key, default=None):
        self._load()
        return super().get(key, default)


@dataclass
class SectionView:
    key: str
    title: object
    complete: bool
    rows: list[tuple[object, str]]  # (label, shown value), only the fields with a value
    fields: dict[str, FieldView]


def _kind(name: str, form_field: forms.Field, region_prefixes) -> str:
    if isinstance(form_field, forms.BooleanField):
        return "bool"
    if isinstance(form_field, forms.MultipleChoiceField):
        return "multi"
    if isinstance(form_field, forms.ModelChoiceField):
        return "model"
    if any(name.startswith(f"{p}_") for p in region_prefixes) and name.endswith(
        ("_province", "_prefecture", "_county")
    ):
        return "region"
    if isinstance(form_field, forms.DecimalField):
        return "money"
    if isinstance(form_field, forms.ChoiceField):
        return "choice"
    return "text"


@functools.cache
def section_fields() -> dict[str, tuple[FieldSpec, ...]]:
    """Each section's fields in the form's order, read from an unbound form once per
    process: the fields are the same for every application (only the region selects'
    choices depend on the values, and those are read per request from the region index)."""
    specs = {}
    for key, form_class in SECTION_FORMS.items():
        form = form_class(application=None)
        prefixes = getattr(form_class, "region_prefixes", ())
        specs[key] = tuple(
            FieldSpec(
                name=name,
                label=form_field.label,
                kind=(kind := _kind(name, form_field, prefixes)),
                choices=tuple(form_field.choices) if kind in ("choice", "multi") else (),
            )
            for name, form_field in form.fields.items()
        )
    return specs


def _region_choices(prefix: str, data) -> dict[str, dict]:
    """The region selects' choices for these values, as RegionChoiceMixin sets them."""
    province = data.get(f"{prefix}_province") or ""
    prefecture = data.get(f"{prefix}_prefecture") or ""
    return {
        f"{prefix}_province": {r.code[:2]: r.name for r in regions.provinces()},
        f"{prefix}_prefecture": {r.choice_value: r.name for r in regions.children(province)},
        f"{prefix}_county": {r.code: r.name for r in regions.children(prefecture[:4])},
    }


def _raw(spec: FieldSpec, data):
    """What the form's bound field held: the widget's reading of the posted-style data."""
    if spec.kind == "bool":  # CheckboxInput.value_from_datadict
        if spec.name not in data:
            return False
        value = data.get(spec.name)
        if isinstance(value, str):
            value = {"true": True, "false": False}.get(value.lower(), value)
        return bool(value)
    if spec.kind == "multi":
        return data.getlist(spec.name)
    return data.get(spec.name)


def _category_name(application: Application, code: str) -> str:
    if application.category_id and application.category.code == code:
        return str(application.category)
    found = DiseaseCategory.objects.filter(code=code).first()
    return str(found) if found else ""


def _shown(spec: FieldSpec, value, choices: dict, application: Application, revealed) -> str:
    """cases.templatetags shown_value and money_shown, for a field spec."""
    value = reveal.shown(spec.name, value, revealed)
    if isinstance(value, list | tuple):
        return "、".join(str(choices.get(v, v)) for v in value)
    if spec.kind == "model":
        return _category_name(application, value) if value else ""
    if value in (True, "on", "True"):
        shown = "✔"
    elif value in (False, None, "", "False"):
        shown = "—" if value in (False, "False") else ""
    else:
        shown = str(choices.get(value, value))
    if shown and spec.kind == "money":
        return yuan(shown)
    return shown


def application_sections(
    application: Application,
    *,
    complete: dict[str, bool],
    revealed: frozenset[str] = reveal.NOTHING,
) -> list[SectionView]:
    """The sections of the application page, in the standard's order (SECTION_FORMS),
    each with its rows; `complete` is each section's state (services.section_complete)."""
    views = []
    for key, specs in section_fields().items():
        form_class = SECTION_FORMS[key]
        pending = crypto.open_values(application.pending_input.get(key, {}), context=PENDING)
        data = as_querydict({**form_class.initial_for(application), **pending})
        region_choices = {}
        for prefix in getattr(form_class, "region_prefixes", ()):
            region_choices.update(_region_choices(prefix, data))
        rows, fields = [], {}
        for spec in specs:
            if spec.kind == "model":
                choices = _CategoryChoices()
            else:
                choices = region_choices.get(spec.name) or dict(spec.choices)
            fields[spec.name] = FieldView(
                name=spec.name, label=spec.label, choices=choices, is_money=spec.kind == "money"
            )
            shown = _shown(spec, _raw(spec, data), choices, application, revealed)
            if shown:
                rows.append((spec.label, shown))
        views.append(
            SectionView(
                key=key, title=SECTIONS[key], complete=complete[key], rows=rows, fields=fields
            )
        )
    return views


@dataclass(frozen=True)
class HistoryRow:
    """One row of the application's history as the page writes it (issue 18): its time,
    who (empty: the family), what happened and each changed field as (label, before,
    after), every label and value read through the section fields once per page."""

    at: str
    who: str
    what: str
    changes: list[tuple[str, str, str]]


def history(application: Application, views: dict[str, SectionView]) -> list[HistoryRow]:
    """The history rows of the application page, in time order, in one query of values
    (no event or user instances); `views` are
    the sections of application_sections by key, whose fields name and read the changes
    (cases.templatetags change_label and change_value)."""
    actions, labels = {}, {}  # each action's and each field's label, once per page

    def label(section, name):
        if (section, name) not in labels:
            labels[section, name] = change_label(section, name, views)
        return labels[section, name]

    rows = []
    for at, who, action, section, note, changes in ApplicationEvent.objects.filter(
        application=application
    ).values_list("at", "actor__username", "action", "section", "note", "changes"):
        if action not in actions:
            actions[action] = event_label(action)
        what = actions[action]
        what += f" · {section}" if section else ""
        what += f" · {note}" if note else ""
        rows.append(
            HistoryRow(
                at=f"{localtime(at):%Y-%m-%d %H:%M:%S}",
                who=who or "",
                what=what,
                changes=[
                    (
                        label(section, name),
                        change_value(section, name, before, views),
                        change_value(section, name, after, views),
                    )
                    for name, (before, after) in (changes or {}).items()
                ],
            )
        )
    return rows
