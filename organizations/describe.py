"""Project rules written out in plain words for the public directory (standard.md §1)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from organizations import regions
from organizations.eligibility import (
    ECONOMIC_FLAGS,
    REGISTRATIONS,
    TREATMENT_CONDITIONS,
    TREATMENTS,
    ProjectRules,
    join_words,
    plain_number,
    yuan,
)


def _age_start(years: Decimal) -> str:
    months = int(years * 12)
    if months == 0:
        return _("from birth")
    if months % 12 == 0:
        return format_lazy(_("from age {years}"), years=months // 12)
    return format_lazy(_("from {months} months old"), months=months)


def describe_age(r: ProjectRules):
    start = _age_start(r.min_age_years)
    if r.until_birthday is None:
        return start
    end = (
        _("up to the day the child turns {n}")
        if r.until_inclusive
        else _("until the day before the child turns {n}")
    )
    return format_lazy(_("{start}, {end}"), start=start, end=format_lazy(end, n=r.until_birthday))


def describe_rules(r: ProjectRules, category_labels: dict) -> list[tuple[str, str]]:
    """(label, text) rows: who the project can help, and what it gives."""
    rows = [(_("Age"), describe_age(r))]
    if r.categories:
        rows.append((_("Diseases"), join_words(category_labels.get(c, c) for c in r.categories)))
    if r.icd_items:
        rows.append((_("Diagnosis codes (ICD-10)"), ", ".join(r.icd_items)))
    if r.region_codes:
        places = join_words(regions.name_of(code) for code in r.region_codes)
        template = (
            _("household registered in {places}")
            if r.region_basis == "household"
            else _("treated at a hospital in {places}")
        )
        rows.append((_("Region"), format_lazy(template, places=places)))
    else:
        rows.append((_("Region"), _("All of China")))
    if r.registration:
        rows.append(
            (
                _("Household registration"),
                format_lazy(_("{kind} only"), kind=REGISTRATIONS[r.registration]),
            )
        )
    economic = describe_economic(r)
    if economic:
        rows.append((_("Family finances"), economic))
    if r.treatment:
        rows.append((_("Treatment"), join_words(TREATMENT_CONDITIONS[c] for c in r.treatment)))
    if r.once_per_child:
        rows.append(
            (
                _("How often"),
                _("Once per child and disease (top-ups within the cap per child allowed)."),
            )
        )
    if r.kind == "grant":
        rows.append((_("Grant"), describe_grant(r)))
    return rows


def describe_economic(r: ProjectRules):
    flags = join_words(ECONOMIC_FLAGS[f] for f in r.economic_flags)
    if r.economic_flags and r.per_capita_max is not None:
        return format_lazy(
            _("{flags}, or a per-capita income of at most {max} yuan a year"),
            flags=flags,
            max=yuan(r.per_capita_max),
        )
    if r.economic_flags:
        return format_lazy(_("one of: {flags}"), flags=flags)
    if r.per_capita_max is not None:
        return format_lazy(
            _("per-capita income of at most {max} yuan a year"), max=yuan(r.per_capita_max)
        )
    return None


def _join_facts_now(parts: list) -> str:
    return str(_("; ")).join(str(part) for part in parts)


_join_facts = lazy(_join_facts_now, str)


def describe_grant(r: ProjectRules):
    parts = []
    if r.grant_method == "fixed":
        parts.append(format_lazy(_("{amount} yuan"), amount=yuan(r.grant_amount)))
    elif r.grant_method == "up_to":
        parts.append(format_lazy(_("up to {amount} yuan"), amount=yuan(r.grant_amount)))
    elif r.grant_method == "by_treatment":
        parts.append(
            join_words(
                format_lazy(
                    _("{treatment}: {amount} yuan"),
                    treatment=TREATMENTS[name],
                    amount=yuan(amount),
                )
                for name, amount in r.treatment_amounts.items()
            )
        )
    elif r.grant_method == "tiers":
        tiers = [
            format_lazy(
                _("{low}–{high} yuan: {amount} yuan"),
                low=yuan(t.low),
                high=yuan(t.high),
                amount=yuan(t.amount),
            )
            for t in r.tiers
        ]
        if r.above_top is not None:
            tiers.append(
                format_lazy(
                    _("above {high} yuan: {amount} yuan"),
                    high=yuan(r.tiers[-1].high),
                    amount=yuan(r.above_top),
                )
            )
        parts.append(
            format_lazy(_("by the family's out-of-pocket cost: {tiers}"), tiers=join_words(tiers))
        )
    elif r.grant_method == "percent":
        parts.append(
            format_lazy(
                # xgettext:no-python-format (a brace format: '% o' is not a %-placeholder)
                _("{rate}% of the family's out-of-pocket cost"),
                rate=plain_number(r.percent * 100),
            )
        )
    if r.cumulative_cap is not None:
        parts.append(
            format_lazy(_("at most {cap} yuan per child in all"), cap=yuan(r.cumulative_cap))
        )
    if r.payee:
        parts.append(
            _("paid to the hospital") if r.payee == "hospital" else _("paid to the guardian")
        )
    # Different facts (amount, cap, payee): a semicolon between them, not the list comma.
    return _join_facts(parts)
