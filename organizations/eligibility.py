"""The eligibility engine: which aid projects can help one applicant, and how much.

A pure function of its inputs (no database, no clock): `evaluate(applicant, projects)`
gives, per project, eligible or not, the kinds of rule that fail, reasons a person can
read (in the active language, Chinese or English), and for grant projects the suggested
amount. The meaning of every rule field is that of the header of
organizations/data/demo-directory.yaml (standard.md §1); the golden answers are in
tests/data/eligibility-cases.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from aid_alliance.money import ZERO
from organizations.ages import add_months, age_in_years, birthday, eligible_from  # noqa: F401
from organizations.icd import (  # noqa: F401 - the engine's vocabulary, imported from here
    code_within,
    icd_matches,
    is_icd_code,
    normalize_icd,
    parse_icd_items,
)

# Rule kinds, in the order they are checked and reported.
AGE = "age"
DISEASE = "disease"
REGION = "region"
REGISTRATION = "registration"
ECONOMIC = "economic"
TREATMENT = "treatment"
ONCE_PER_CHILD = "once_per_child"
GRANT = "grant"
RULE_KINDS = (AGE, DISEASE, REGION, REGISTRATION, ECONOMIC, TREATMENT, ONCE_PER_CHILD)

PROJECT_KINDS = ("grant", "in_kind", "service")

ECONOMIC_FLAGS = {
    "dibao": _("minimum living allowance (dibao)"),
    "tekun": _("extreme-poverty support (tekun)"),
    "dibao_edge": _("near the dibao line"),
    "fanpin": _("monitored against falling back into poverty"),
    "orphan": _("orphan"),
    "disabled": _("disability"),
}

TREATMENTS = {
    "chemotherapy": _("chemotherapy"),
    "radiotherapy": _("radiotherapy"),
    "surgery": _("surgery"),
    "transplant": _("transplant"),
    "dialysis": _("dialysis"),
    "long_term_medication": _("long-term medication"),
    "rehabilitation": _("rehabilitation"),
    "other": _("other treatment"),
}

STAGES = {
    "planned": _("planned"),
    "in_progress": _("in progress"),
    "done": _("done"),
}

TREATMENT_CONDITIONS = {
    "surgery_not_done": _("surgery planned or in progress, not yet done"),
    "surgery_planned": _("surgery planned"),
    "transplant_planned": _("transplant planned or in progress"),
    "transplant_done": _("transplant done"),
}

REGISTRATIONS = {"rural": _("rural"), "urban": _("urban")}

GRANT_METHODS = ("", "fixed", "by_treatment", "tiers", "percent", "up_to")


def _pick_language(zh: str, en: str) -> str:
    return en if (get_language() or "zh-hans").startswith("en") else zh


bilingual = lazy(_pick_language, str)
"""A lazy text that reads `zh` in Chinese and `en` in English (names kept as data)."""


class RuleError(ValueError):
    """A malformed rule: `field` names the rule field, `message` says what is wrong."""

    def __init__(self, field: str, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Applicant:
    """The facts the engine needs, with the field names of the golden cases file."""

    dob: date
    application_date: date
    category: str
    icd: str
    household_region: str
    registration: str
    hospital_region: str
    household_size: int
    household_income: Decimal
    estimated_cost: Decimal
    coverage: Decimal = ZERO
    other_aid: Decimal = ZERO
    flags: frozenset[str] = frozenset()
    plan: Mapping[str, str] = field(default_factory=dict)
    # What this child already received, by project code: all disease categories (for
    # the cumulative cap) and, when known apart, this category only (for once-per-child).
    earlier_grants: Mapping[str, Decimal] = field(default_factory=dict)
    earlier_grants_this_category: Mapping[str, Decimal] | None = None
    # What members have already pledged to this application (standard.md §3, funding gap).
    pledged: Decimal = ZERO

    @property
    def per_capita_income(self) -> Decimal:
        return (Decimal(self.household_income) / Decimal(self.household_size)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    @property
    def out_of_pocket(self) -> Decimal:
        """D08 estimated cost less E02 coverage: what the family would pay."""
        return max(Decimal(self.estimated_cost) - Decimal(self.coverage), ZERO)

    @property
    def remaining_need(self) -> Decimal:
        """Estimated cost less coverage, other aid and members' pledges (the funding gap)."""
        need = money.need(
            estimated_cost=Decimal(self.estimated_cost),
            coverage=Decimal(self.coverage),
            other_aid=Decimal(self.other_aid),
        )
        return money.funding_gap(need=need, pledged=Decimal(self.pledged))

    def has(self, treatment: str, *stages: str) -> bool:
        stage = self.plan.get(treatment)
        return stage is not None and (not stages or stage in stages)


@dataclass(frozen=True)
class Tier:
    low: Decimal  # exclusive
    high: Decimal  # inclusive
    amount: Decimal


@dataclass(frozen=True)
class ProjectRules:
    """One rule version of one project, checked for shape when built."""

    code: str
    kind: str
    version: int = 0
    min_age_years: Decimal = ZERO
    until_birthday: int | None = None
    until_inclusive: bool = False
    categories: tuple[str, ...] = ()
    icd: tuple[tuple[str, str], ...] = ()
    icd_items: tuple[str, ...] = ()
    region_basis: str = ""
    region_codes: tuple[str, ...] = ()
    registration: str = ""
    economic_flags: tuple[str, ...] = ()
    per_capita_max: Decimal | None = None
    treatment: tuple[str, ...] = ()
    once_per_child: bool = False
    grant_method: str = ""
    grant_amount: Decimal | None = None
    treatment_amounts: Mapping[str, Decimal] = field(default_factory=dict)
    tiers: tuple[Tier, ...] = ()
    above_top: Decimal | None = None
    percent: Decimal | None = None
    cumulative_cap: Decimal | None = None
    payee: str = ""

    @classmethod
    def build(cls, **values) -> ProjectRules:  # noqa: C901 - one check per rule field
        kind = values.get("kind")
        if kind not in PROJECT_KINDS:
            raise RuleError("kind", _("Unknown project kind."))
        until = values.get("until_birthday")
        if until is not None and (
            isinstance(until, bool) or not isinstance(until, int) or until < 1
        ):
            raise RuleError("until_birthday", _("Give a whole number of years."))
        min_years = _money(values.get("min_age_years") or 0, "min_age_years")
        if until is not None and min_years >= until:
            raise RuleError("min_age_years", _("The minimum age must be below the age limit."))
        categories = tuple(_str_list(values.get("categories") or [], "categories"))
        icd_items = tuple(_str_list(values.get("icd") or [], "icd_codes"))
        try:
            icd = tuple(parse_icd_items(icd_items))
        except ValueError as exc:
            raise RuleError("icd_codes", exc.args[0]) from None
        if not categories and not icd:
            raise RuleError("categories", _("Name at least one disease category or ICD-10 code."))
        basis = values.get("region_basis") or ""
        region_codes = tuple(_str_list(values.get("region_codes") or [], "region_codes"))
        if basis not in ("", "household", "treating_hospital"):
            raise RuleError("region_basis", _("Unknown region basis."))
        for code in region_codes:
            if not (code.isdigit() and len(code) in (2, 4)):
                raise RuleError(
                    "region_codes",
                    format_lazy(_("Not a province or prefecture code: {code}"), code=code),
                )
        if region_codes and not basis:
            raise RuleError("region_basis", _("Say which region the codes apply to."))
        registration = values.get("registration") or ""
        if registration not in ("", *REGISTRATIONS):
            raise RuleError("registration", _("Unknown registration type."))
        flags = tuple(_str_list(values.get("economic_flags") or [], "economic_flags"))
        for flag in flags:
            if flag not in ECONOMIC_FLAGS:
                raise RuleError(
                    "economic_flags", format_lazy(_("Unknown economic status: {flag}"), flag=flag)
                )
        per_capita_max = values.get("per_capita_max")
        if per_capita_max is not None:
            per_capita_max = _money(per_capita_max, "per_capita_max")
        treatment = tuple(_str_list(values.get("treatment") or [], "treatment_conditions"))
        for condition in treatment:
            if condition not in TREATMENT_CONDITIONS:
                raise RuleError(
                    "treatment_conditions",
                    format_lazy(_("Unknown treatment condition: {condition}"), condition=condition),
                )
        grant = _grant_fields(kind, values)
        return cls(
            code=values["code"],
            kind=kind,
            version=values.get("version") or 0,
            min_age_years=min_years,
            until_birthday=until,
            until_inclusive=bool(values.get("until_inclusive")),
            categories=categories,
            icd=icd,
            icd_items=icd_items,
            region_basis=basis,
            region_codes=region_codes,
            registration=registration,
            economic_flags=flags,
            per_capita_max=per_capita_max,
            treatment=treatment,
            once_per_child=bool(values.get("once_per_child")),
            **grant,
        )

    def covers_category(self, category: str) -> bool:
        return not self.categories or category in self.categories

    def covers_region(self, region_code: str) -> bool:
        return not self.region_codes or any(region_code.startswith(p) for p in self.region_codes)


def _money(value, field_name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise RuleError(field_name, _("Not a number.")) from None
    if not amount.is_finite() or amount < 0:
        raise RuleError(field_name, _("Give an amount of zero or more."))
    return amount


def _str_list(value, field_name: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise RuleError(field_name, _("Give a list of codes."))
    return list(value)


def _grant_fields(kind: str, values: Mapping) -> dict:  # noqa: C901 - one check per method
    method = values.get("grant_method") or ""
    if method not in GRANT_METHODS:
        raise RuleError("grant_method", _("Unknown grant rule."))
    if kind != "grant":
        if method:
            raise RuleError("grant_method", _("Only grant projects have a money grant rule."))
        return {}
    if not method:
        raise RuleError("grant_method", _("A grant project needs a grant rule."))
    grant: dict = {"grant_method": method, "payee": values.get("payee") or ""}
    if grant["payee"] not in ("hospital", "guardian"):
        raise RuleError(
            "payee", _("Say whether the grant is paid to the hospital or the guardian.")
        )
    cap = values.get("cumulative_cap")
    grant["cumulative_cap"] = None if cap is None else _money(cap, "cumulative_cap")
    if method in ("fixed", "up_to"):
        if values.get("grant_amount") is None:
            raise RuleError("grant_amount", _("Give the amount."))
        grant["grant_amount"] = _money(values["grant_amount"], "grant_amount")
    elif method == "by_treatment":
        amounts = values.get("treatment_amounts") or {}
        if not isinstance(amounts, Mapping) or not amounts:
            raise RuleError("treatment_amounts", _("Give an amount for each treatment."))
        for name in amounts:
            if name not in ("chemotherapy", "transplant"):
                raise RuleError(
                    "treatment_amounts",
                    _("Amounts by treatment are given for chemotherapy and transplant."),
                )
        grant["treatment_amounts"] = {
            name: _money(amount, "treatment_amounts") for name, amount in amounts.items()
        }
    elif method == "tiers":
        grant["tiers"] = _tiers(values.get("tiers"))
        above = values.get("above_top")
        grant["above_top"] = None if above is None else _money(above, "above_top")
    elif method == "percent":
        rate = values.get("percent")
        if rate is None:
            raise RuleError("percent", _("Give the rate."))
        rate = _money(rate, "percent")
        if rate > 1:
            raise RuleError("percent", _("The rate is at most 1 (100%)."))
        grant["percent"] = rate
    return grant


def _tiers(raw) -> tuple[Tier, ...]:
    if not isinstance(raw, list | tuple) or not raw:
        raise RuleError("tiers", _("Give at least one tier as [low, high, amount]."))
    tiers = []
    for row in raw:
        if not isinstance(row, list | tuple) or len(row) != 3:
            raise RuleError("tiers", _("Each tier is [low, high, amount]."))
        tier = Tier(*(_money(v, "tiers") for v in row))
        if tier.low >= tier.high or (tiers and tier.low < tiers[-1].high):
            raise RuleError("tiers", _("Tiers must rise and must not overlap."))
        tiers.append(tier)
    return tuple(tiers)


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Reason:
    kind: str
    text: str  # lazy: renders in the active language


@dataclass(frozen=True)
class Result:
    project: str
    eligible: bool
    fails: tuple[str, ...]
    reasons: tuple[Reason, ...]
    suggested: Decimal | None
    rules_version: int

    def as_data(self) -> dict:
        """The result as plain data, reasons in both languages (API and review snapshots)."""
        return results_as_data([self])[0]


def results_as_data(results: Iterable[Result]) -> list[dict]:
    """Result.as_data of many results, switching the language twice in all instead of
    twice per reason (routing renders 24 projects' reasons for every submission)."""
    results = list(results)
    reasons = [reason for result in results for reason in result.reasons]
    with override("zh-hans"):
        zh = [str(reason.text) for reason in reasons]
    with override("en"):
        en = [str(reason.text) for reason in reasons]
    texts = {id(reason): (z, e) for reason, z, e in zip(reasons, zh, en, strict=True)}
    return [
        {
            "eligible": result.eligible,
            "suggested": None if result.suggested is None else int(result.suggested),
            "fails": list(result.fails),
            "reasons": [
                {"kind": reason.kind, "zh": texts[id(reason)][0], "en": texts[id(reason)][1]}
                for reason in result.reasons
            ],
            "rules_version": result.rules_version,
        }
        for result in results
    ]


def plain_number(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 0.50 -> '0.5', 80.0 -> '80' (not '8E+1')."""
    return f"{Decimal(value).normalize():f}"


def yuan(amount: Decimal) -> str:
    """Money in the engine's sentences, as everywhere (aid_alliance.money.yuan)."""
    return money.yuan(amount)


def _join_now(items: list) -> str:
    separator = ", " if (get_language() or "").startswith("en") else "、"
    return separator.join(str(item) for item in items)


_join_lazy = lazy(_join_now, str)


def join_words(items: Iterable) -> str:
    """A lazy list in the reader's language: 白血病、先天性心脏病 / Leukaemia, CHD."""
    return _join_lazy(list(items))


def evaluate(
    applicant: Applicant,
    projects: Iterable[ProjectRules],
    *,
    category_labels: Mapping[str, str] | None = None,
    region_label=None,
) -> dict[str, Result]:
    """Evaluate every project for one applicant; keyed by project code, in the given order.

    `category_labels` maps category codes to display names (lazy texts welcome);
    `region_label(prefix)` names a region code for the reasons. Both only make the
    reasons friendlier; the decision never depends on them.
    """
    labels = category_labels or {}
    name_region = region_label or (lambda code: code)
    return {rules.code: _evaluate_one(applicant, rules, labels, name_region) for rules in projects}


def _evaluate_one(applicant: Applicant, rules: ProjectRules, labels, name_region) -> Result:
    reasons: list[Reason] = []
    for check in (
        _check_age,
        _check_disease,
        _check_region,
        _check_registration,
        _check_economic,
        _check_treatment,
        _check_once_per_child,
    ):
        reason = check(applicant, rules, labels, name_region)
        if reason is not None:
            reasons.append(reason)
    fails = tuple(dict.fromkeys(r.kind for r in reasons))
    eligible = not fails
    suggested = None
    if eligible and rules.kind == "grant":
        suggested, explanation = _suggest(applicant, rules)
        reasons.extend(explanation)
    return Result(
        project=rules.code,
        eligible=eligible,
        fails=fails,
        reasons=tuple(reasons),
        suggested=suggested,
        rules_version=rules.version,
    )


def _check_age(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    age = age_in_years(a.dob, a.application_date)
    start = eligible_from(a.dob, r.min_age_years)
    if a.application_date < start:
        return Reason(
            AGE,
            format_lazy(
                _("Under the minimum age of {min} years: eligible from {date}."),
                age=age,
                min=plain_number(r.min_age_years),
                date=start.isoformat(),
            ),
        )
    if r.until_birthday is not None:
        limit = birthday(a.dob, r.until_birthday)
        over = a.application_date > limit if r.until_inclusive else a.application_date >= limit
        if over:
            template = (
                _("Age {age} years: eligible up to the day the child turns {n} ({date}).")
                if r.until_inclusive
                else _("Age {age} years: eligible only before the child turns {n} ({date}).")
            )
            return Reason(
                AGE, format_lazy(template, age=age, n=r.until_birthday, date=limit.isoformat())
            )
    return None


def _check_disease(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    if r.categories and a.category not in r.categories:
        return Reason(
            DISEASE,
            format_lazy(
                _("The disease category {category} is not covered (covers {covered})."),
                category=labels.get(a.category, a.category),
                covered=join_words(labels.get(c, c) for c in r.categories),
            ),
        )
    if r.icd and not a.icd:
        return Reason(
            DISEASE,
            format_lazy(
                _("Covers only some diagnoses ({covered}): enter the diagnosis code to check."),
                covered=", ".join(r.icd_items),
            ),
        )
    if r.icd and not any(code_within(normalize_icd(a.icd), low, high) for low, high in r.icd):
        return Reason(
            DISEASE,
            format_lazy(
                _("The diagnosis code {icd} is not covered (covers {covered})."),
                icd=normalize_icd(a.icd),
                covered=", ".join(r.icd_items),
            ),
        )
    return None


def _check_region(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    if not r.region_codes:
        return None
    household = r.region_basis == "household"
    code = a.household_region if household else a.hospital_region
    if r.covers_region(code or ""):
        return None
    template = (
        _("The household registration region {region} is not covered (covers {covered}).")
        if household
        else _("The treating hospital's region {region} is not covered (covers {covered}).")
    )
    return Reason(
        REGION,
        format_lazy(
            template,
            region=name_region(code or ""),
            covered=join_words(name_region(p) for p in r.region_codes),
        ),
    )


def _check_registration(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    if not r.registration or a.registration == r.registration:
        return None
    return Reason(
        REGISTRATION,
        format_lazy(
            _("Only for children with {required} household registration."),
            required=REGISTRATIONS[r.registration],
        ),
    )


def _check_economic(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    if not r.economic_flags and r.per_capita_max is None:
        return None
    # Either a listed status or a low enough per-capita income suffices (yaml header).
    if any(flag in a.flags for flag in r.economic_flags):
        return None
    per_capita = a.per_capita_income
    if r.per_capita_max is not None and per_capita <= r.per_capita_max:
        return None
    flags = join_words(ECONOMIC_FLAGS[f] for f in r.economic_flags)
    if r.economic_flags and r.per_capita_max is not None:
        text = format_lazy(
            _(
                "Needs one of: {flags}; or a per-capita income of at most {max} yuan a year "
                "(it is {income} yuan)."
            ),
            flags=flags,
            max=yuan(r.per_capita_max),
            income=yuan(per_capita),
        )
    elif r.economic_flags:
        text = format_lazy(_("Needs one of: {flags}."), flags=flags)
    else:
        text = format_lazy(
            _("The per-capita income of {income} yuan a year is above {max} yuan."),
            income=yuan(per_capita),
            max=yuan(r.per_capita_max),
        )
    return Reason(ECONOMIC, text)


def _treatment_met(a: Applicant, condition: str) -> bool:
    if condition == "surgery_not_done":
        return a.has("surgery", "planned", "in_progress")
    if condition == "surgery_planned":
        return a.has("surgery", "planned")
    if condition == "transplant_planned":
        return a.has("transplant", "planned", "in_progress")
    if condition == "transplant_done":
        return a.has("transplant", "done")
    raise AssertionError(condition)


def _check_treatment(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    unmet = [c for c in r.treatment if not _treatment_met(a, c)]
    if not unmet:
        return None
    return Reason(
        TREATMENT,
        format_lazy(
            _("Treatment condition not met: {conditions}."),
            conditions=join_words(TREATMENT_CONDITIONS[c] for c in unmet),
        ),
    )


def _earlier(a: Applicant, code: str, this_category: bool) -> Decimal:
    grants = a.earlier_grants
    if this_category and a.earlier_grants_this_category is not None:
        grants = a.earlier_grants_this_category
    return Decimal(grants.get(code, 0) or 0)


def _check_once_per_child(a: Applicant, r: ProjectRules, labels, name_region) -> Reason | None:
    if not r.once_per_child or _earlier(a, r.code, this_category=True) <= 0:
        return None
    # A top-up inside the cumulative cap is still allowed (yaml header, once_per_child).
    if r.cumulative_cap is not None and _earlier(a, r.code, this_category=False) < r.cumulative_cap:
        return None
    return Reason(
        ONCE_PER_CHILD,
        _("This project has already funded this child for this disease."),
    )


def _suggest(a: Applicant, r: ProjectRules) -> tuple[Decimal, list[Reason]]:
    """The rule amount, capped by the cumulative cap less earlier grants, then by the
    remaining need; rounded down to whole yuan (demo-directory.yaml, grant rules)."""
    oop = a.out_of_pocket
    notes: list[Reason] = []
    amount = ZERO
    if r.grant_method == "fixed":
        amount = r.grant_amount
        notes.append(
            Reason(GRANT, format_lazy(_("Fixed grant: {amount} yuan."), amount=yuan(amount)))
        )
    elif r.grant_method == "up_to":
        amount = r.grant_amount
        notes.append(
            Reason(
                GRANT,
                format_lazy(
                    _("Up to {amount} yuan, as the reviewer decides."), amount=yuan(amount)
                ),
            )
        )
    elif r.grant_method == "by_treatment":
        # A transplant in the plan wins over chemotherapy; neither suggests 0.
        for treatment in ("transplant", "chemotherapy"):
            if a.has(treatment) and treatment in r.treatment_amounts:
                amount = r.treatment_amounts[treatment]
                notes.append(
                    Reason(
                        GRANT,
                        format_lazy(
                            _("For {treatment}: {amount} yuan."),
                            treatment=TREATMENTS[treatment],
                            amount=yuan(amount),
                        ),
                    )
                )
                break
        else:
            notes.append(Reason(GRANT, _("No treatment in the plan that this grant pays for.")))
    elif r.grant_method == "tiers":
        amount, note = _tier_amount(oop, r)
        notes.append(note)
    elif r.grant_method == "percent":
        amount = r.percent * oop
        notes.append(
            Reason(
                GRANT,
                format_lazy(
                    # xgettext:no-python-format (a brace format: '% o' is not a %-placeholder)
                    _("{rate}% of the out-of-pocket cost of {oop} yuan: {amount} yuan."),
                    rate=plain_number(r.percent * 100),
                    oop=yuan(oop),
                    amount=yuan(amount.quantize(Decimal("1"), rounding=ROUND_DOWN)),
                ),
            )
        )
    if r.cumulative_cap is not None:
        earlier = _earlier(a, r.code, this_category=False)
        room = max(r.cumulative_cap - earlier, ZERO)
        if amount > room:
            amount = room
            notes.append(
                Reason(
                    GRANT,
                    format_lazy(
                        _(
                            "Limited by the cap of {cap} yuan per child, less {earlier} yuan "
                            "granted earlier: {amount} yuan."
                        ),
                        cap=yuan(r.cumulative_cap),
                        earlier=yuan(earlier),
                        amount=yuan(room),
                    ),
                )
            )
    need = a.remaining_need
    if amount > need:
        amount = need
        notes.append(
            Reason(
                GRANT,
                format_lazy(_("Limited by the remaining need of {need} yuan."), need=yuan(need)),
            )
        )
    return amount.quantize(Decimal("1"), rounding=ROUND_DOWN), notes


def _tier_amount(oop: Decimal, r: ProjectRules) -> tuple[Decimal, Reason]:
    for tier in r.tiers:
        if tier.low < oop <= tier.high:
            return tier.amount, Reason(
                GRANT,
                format_lazy(
                    _(
                        "Out-of-pocket cost of {oop} yuan is in the tier {low}–{high}: "
                        "{amount} yuan."
                    ),
                    oop=yuan(oop),
                    low=yuan(tier.low),
                    high=yuan(tier.high),
                    amount=yuan(tier.amount),
                ),
            )
    top = r.tiers[-1]
    if oop > top.high and r.above_top is not None:
        return r.above_top, Reason(
            GRANT,
            format_lazy(
                _("Out-of-pocket cost of {oop} yuan is above {high}: {amount} yuan."),
                oop=yuan(oop),
                high=yuan(top.high),
                amount=yuan(r.above_top),
            ),
        )
    return ZERO, Reason(
        GRANT,
        format_lazy(
            _("Out-of-pocket cost of {oop} yuan is in no tier: no amount suggested."),
            oop=yuan(oop),
        ),
    )
