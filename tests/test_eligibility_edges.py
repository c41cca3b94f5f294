"""Edges of the eligibility engine beyond the golden cases.

Rules are built with `ProjectRules.build(...)` and applicants with `Applicant(...)`; the
meaning of every rule field is that of the header of organizations/data/demo-directory.yaml.
Only the tests of the published demo rules touch the database.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import override

from organizations import selectors
from organizations.eligibility import (
    AGE,
    DISEASE,
    ECONOMIC,
    GRANT,
    ONCE_PER_CHILD,
    REGION,
    REGISTRATION,
    RULE_KINDS,
    TREATMENT,
    Applicant,
    ProjectRules,
    Result,
    RuleError,
    add_months,
    age_in_years,
    bilingual,
    birthday,
    eligible_from,
    evaluate,
    icd_matches,
    is_icd_code,
    normalize_icd,
    parse_icd_items,
)

D = Decimal


def child(**facts) -> Applicant:
    """An 8-year-old leukaemia patient in Beijing, on chemotherapy, with a large need."""
    values = {
        "dob": date(2018, 3, 10),
        "application_date": date(2026, 11, 20),
        "category": "LEUK",
        "icd": "C91.0",
        "household_region": "110105",
        "registration": "urban",
        "hospital_region": "110102",
        "household_size": 4,
        "household_income": D("30000"),
        "estimated_cost": D("200000"),
        "coverage": D("90000"),
        "plan": {"chemotherapy": "in_progress"},
    }
    values.update(facts)
    return Applicant(**values)


def service(**values) -> ProjectRules:
    """A service project covering leukaemia, with no other rule unless given."""
    return ProjectRules.build(
        **{"code": "T01", "kind": "service", "categories": ["LEUK"], **values}
    )


def grant(**values) -> ProjectRules:
    """A grant project covering leukaemia, paid to the hospital."""
    return service(**{"kind": "grant", "payee": "hospital", **values})


def check(applicant: Applicant, rules: ProjectRules, **options) -> Result:
    return evaluate(applicant, [rules], **options)[rules.code]


def costs(estimated, coverage=0, other_aid=0, pledged=0, **facts) -> Applicant:
    return child(
        estimated_cost=D(str(estimated)),
        coverage=D(str(coverage)),
        other_aid=D(str(other_aid)),
        pledged=D(str(pledged)),
        **facts,
    )


def texts(reason) -> tuple[str, str]:
    """The reason rendered in English and in Chinese."""
    with override("en"):
        en = str(reason.text)
    with override("zh-hans"):
        zh = str(reason.text)
    return en, zh


def reason_of(result: Result, kind: str):
    matching = [r for r in result.reasons if r.kind == kind]
    assert matching, f"no {kind} reason in {result.reasons}"
    return matching[0]


# ---------------------------------------------------------------------------------------
# Decimal minimum ages


@pytest.mark.parametrize(
    ("min_years", "dob", "first_day"),
    [
        ("0.5", date(2026, 5, 21), date(2026, 11, 21)),  # 6 months
        ("1.25", date(2025, 8, 20), date(2026, 11, 20)),  # 15 months
        ("3", date(2023, 11, 20), date(2026, 11, 20)),  # 3 years
        ("0", date(2026, 11, 20), date(2026, 11, 20)),  # from birth
    ],
)
def test_a_minimum_age_is_met_on_its_exact_day_and_not_the_day_before(min_years, dob, first_day):
    rules = service(min_age_years=D(min_years))
    assert eligible_from(dob, D(min_years)) == first_day
    on_the_day = check(child(dob=dob, application_date=first_day), rules)
    assert on_the_day.eligible
    day_before = date.fromordinal(first_day.toordinal() - 1)
    too_young = check(child(dob=dob, application_date=day_before), rules)
    assert too_young.fails == (AGE,)


def test_the_fraction_of_a_minimum_age_counts_months_not_days():
    # 0.5 years is 6 calendar months, not 182.5 days; 1.25 years is 15 months.
    assert eligible_from(date(2026, 1, 1), D("0.5")) == date(2026, 7, 1)
    assert eligible_from(date(2026, 1, 1), D("1.25")) == date(2027, 4, 1)
    assert eligible_from(date(2026, 1, 1), D("2")) == date(2028, 1, 1)


def test_six_months_after_the_31st_of_august_falls_on_the_last_day_of_february():
    assert eligible_from(date(2025, 8, 31), D("0.5")) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("dob", "on", "age"),
    [
        (date(2010, 1, 1), date(2025, 3, 15), "15.2"),  # 73 of 365 days into the year
        (date(2007, 11, 20), date(2026, 11, 20), "19.0"),  # on the birthday
        (date(2007, 11, 20), date(2026, 11, 19), "18.9"),  # rounded down, never up
        (date(2026, 5, 21), date(2026, 11, 20), "0.5"),  # 183 of 365 days
        (date(2026, 11, 20), date(2026, 11, 20), "0.0"),  # the day of birth
        (date(2026, 11, 20), date(2026, 11, 19), "0"),  # before birth
    ],
)
def test_age_in_years_is_completed_years_plus_the_fraction_rounded_down(dob, on, age):
    assert age_in_years(dob, on) == D(age)


def test_a_child_born_on_29_february_has_birthdays_on_28_february_in_common_years():
    dob = date(2008, 2, 29)
    assert birthday(dob, 1) == date(2009, 2, 28)
    assert birthday(dob, 4) == date(2012, 2, 29)
    assert birthday(dob, 19) == date(2027, 2, 28)
    # The age turns whole on that 28 February, consistently with the age limit.
    assert age_in_years(dob, date(2027, 2, 27)) == D("18.9")
    assert age_in_years(dob, date(2027, 2, 28)) == D("19.0")
    assert age_in_years(dob, date(2020, 2, 28)) == D("11.9")
    assert age_in_years(dob, date(2020, 2, 29)) == D("12.0")


@pytest.mark.parametrize(
    ("inclusive", "on", "eligible"),
    [
        (False, date(2027, 2, 27), True),
        (False, date(2027, 2, 28), False),
        (True, date(2027, 2, 28), True),
        (True, date(2027, 3, 1), False),
    ],
)
def test_the_19th_birthday_of_a_29_february_child_is_28_february_in_a_common_year(
    inclusive, on, eligible
):
    rules = service(until_birthday=19, until_inclusive=inclusive)
    assert check(child(dob=date(2008, 2, 29), application_date=on), rules).eligible is eligible


# ---------------------------------------------------------------------------------------
# Age limits: until_birthday, exclusive and inclusive

NINETEENTH = date(2026, 11, 20)  # of a child born 2007-11-20


def _age_limit(inclusive: bool, on: date) -> Result:
    rules = service(until_birthday=19, until_inclusive=inclusive)
    return check(child(dob=date(2007, 11, 20), application_date=on), rules)


def test_eligible_on_the_day_before_the_19th_birthday_when_exclusive():
    assert _age_limit(False, date(2026, 11, 19)).eligible


def test_over_age_on_the_19th_birthday_itself_when_exclusive():
    assert _age_limit(False, NINETEENTH).fails == (AGE,)


def test_over_age_on_the_day_after_the_19th_birthday_when_exclusive():
    assert _age_limit(False, date(2026, 11, 21)).fails == (AGE,)


def test_eligible_on_the_day_before_the_19th_birthday_when_inclusive():
    assert _age_limit(True, date(2026, 11, 19)).eligible


def test_still_eligible_on_the_19th_birthday_itself_when_inclusive():
    assert _age_limit(True, NINETEENTH).eligible


def test_over_age_from_the_day_after_the_19th_birthday_when_inclusive():
    assert _age_limit(True, date(2026, 11, 21)).fails == (AGE,)


def test_the_age_limit_reason_names_the_age_the_birthday_and_its_date():
    en, zh = texts(reason_of(_age_limit(False, NINETEENTH), AGE))
    assert en == "Age 19.0 years: eligible only before the child turns 19 (2026-11-20)."
    assert "19" in zh and "2026-11-20" in zh
    en, zh = texts(reason_of(_age_limit(True, date(2026, 11, 21)), AGE))
    assert en == "Age 19.0 years: eligible up to the day the child turns 19 (2026-11-20)."
    assert "19" in zh and "2026-11-20" in zh


def test_the_minimum_age_reason_names_the_minimum_and_the_first_eligible_day():
    rules = service(min_age_years=D("0.5"), until_birthday=7)
    result = check(child(dob=date(2026, 5, 21), application_date=date(2026, 11, 20)), rules)
    en, zh = texts(reason_of(result, AGE))
    assert "minimum age of 0.5 years" in en and "eligible from 2026-11-21" in en
    assert "0.5" in zh and "2026-11-21" in zh


def test_a_whole_minimum_age_of_ten_reads_10_not_in_exponent_notation():
    rules = service(min_age_years=D("10"), until_birthday=19)
    en, zh = texts(reason_of(check(child(), rules), AGE))
    assert "minimum age of 10 years" in en
    assert "10" in zh and "E+" not in zh


# ---------------------------------------------------------------------------------------
# ICD-10 codes


@pytest.mark.parametrize(
    ("code", "matches"),
    [("C90.0", False), ("C91", True), ("C91.0", True), ("C93.1", True), ("C95", True)]
    + [("C95.9", True), ("C96", False), ("C96.0", False), ("B91", False), ("D91", False)],
)
def test_a_code_matches_the_range_c91_c95_when_its_category_lies_in_it(code, matches):
    assert icd_matches(code, ["C91-C95"]) is matches


@pytest.mark.parametrize(
    ("code", "matches"),
    [("D65", False), ("D66", True), ("D67", True), ("D67.1", True), ("D68.0", True)]
    + [("D68.01", True), ("D68.1", False), ("D68", False), ("D68.2", False), ("D69", False)],
)
def test_the_range_d66_to_d68_0_ends_at_d68_0_and_its_sub_codes(code, matches):
    assert icd_matches(code, ["D66-D68.0"]) is matches


@pytest.mark.parametrize(
    ("code", "matches"),
    [("C22", False), ("C22.2", True), ("C22.21", True), ("C22.1", False), ("C22.3", False)],
)
def test_a_dotted_code_matches_itself_and_its_sub_codes_and_nothing_broader(code, matches):
    assert icd_matches(code, ["C22.2"]) is matches


def test_an_undotted_single_code_matches_its_whole_category():
    assert icd_matches("D61", ["D61"])
    assert icd_matches("D61.9", ["D61"])
    assert not icd_matches("D62", ["D61"])


def test_a_code_matches_a_list_when_it_matches_any_item():
    items = ["C22.2", "C40-C41", "C64"]
    assert icd_matches("C41.2", items)
    assert icd_matches("C64", items)
    assert not icd_matches("C22.0", items)
    assert not icd_matches("C42", items)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("c91.0", "C91.0"), ("ｃ９１．０", "C91.0"), (" C91.0 ", "C91.0"), ("C91。0", "C91.0")]
    + [("Ｑ２１．０", "Q21.0"), ("", ""), (None, "")],
)
def test_codes_are_normalised_to_upper_case_half_width_without_spaces(raw, normal):
    assert normalize_icd(raw) == normal


def test_lower_case_and_full_width_diagnosis_codes_match_like_their_normal_form():
    assert icd_matches("ｃ９１．０", ["C91-C95"])
    assert icd_matches("c93.1", ["c91-c95"])
    assert icd_matches("Ｃ２２．２", ["C22.2"])
    rules = service(categories=[], icd=["C91-C95"])
    assert check(child(icd="ｃ９１．０"), rules).eligible


@pytest.mark.parametrize(
    "code", ["C91", "C91.0", "ｃ９１．０", "Q21.0", "Z99.2", "D68.01", "C91。0", " c91.0 "]
)
def test_is_icd_code_accepts_a_code_in_any_width_or_case(code):
    assert is_icd_code(code)


@pytest.mark.parametrize(
    "garbage",
    ["", "C9", "91.0", "CC91", "C91.", "C91.0.1", "C9A", "leukaemia", "C91-C95", "白血病"]
    + ["C91.123456789", "1C91"],
)
def test_is_icd_code_rejects_anything_that_is_not_one_code(garbage):
    assert not is_icd_code(garbage)


def test_parse_icd_items_gives_low_and_high_bounds():
    assert parse_icd_items(["C91-C95", "D68.0"]) == [("C91", "C95"), ("D68.0", "D68.0")]
    assert parse_icd_items(["c91 – c95"]) == [("C91", "C95")]  # en dash, spaces
    assert parse_icd_items(["Ｃ９１－Ｃ９５"]) == [("C91", "C95")]  # full width
    assert parse_icd_items([]) == []


@pytest.mark.parametrize(
    "items",
    [["C95-C91"], ["D68.1-D68.0"], ["leukaemia"], ["C91", "C9"], ["C91-C95-C96"], ["-C91"]]
    + [["C91-X"], [91], "C91-C95", None],
)
def test_parse_icd_items_rejects_descending_ranges_non_codes_and_non_lists(items):
    with pytest.raises(ValueError, match=r"ICD-10"):
        parse_icd_items(items)


def test_a_descending_icd_range_in_a_rule_is_a_rule_error_on_icd_codes():
    with pytest.raises(RuleError) as caught:
        service(icd=["C95-C91"])
    assert caught.value.field == "icd_codes"
    with override("en"):
        assert "C95-C91" in str(caught.value.message)


def test_icd_narrows_the_categories_so_both_must_hold():
    rules = service(categories=["HAEM"], icd=["D66", "D67"])
    assert check(child(category="HAEM", icd="D66"), rules).eligible
    assert check(child(category="HAEM", icd="D67.0"), rules).eligible
    wrong_code = check(child(category="HAEM", icd="D68.0"), rules)
    assert wrong_code.fails == (DISEASE,)
    en, zh = texts(reason_of(wrong_code, DISEASE))
    assert en == "The diagnosis code D68.0 is not covered (covers D66, D67)."
    assert "D68.0" in zh and "D66" in zh
    wrong_category = check(child(category="THAL", icd="D66"), rules)
    assert wrong_category.fails == (DISEASE,)
    assert "THAL" in texts(reason_of(wrong_category, DISEASE))[0]


def test_icd_alone_covers_a_diagnosis_whatever_its_category():
    rules = service(categories=[], icd=["D61"])
    assert check(child(category="BLOOD", icd="D61.0"), rules).eligible
    assert check(child(category="LEUK", icd="D61.0"), rules).eligible
    assert check(child(category="BLOOD", icd="D69.3"), rules).fails == (DISEASE,)


def test_a_missing_diagnosis_code_fails_an_icd_narrowed_project_and_asks_for_the_code():
    rules = service(categories=["HAEM"], icd=["D66", "D67"])
    result = check(child(category="HAEM", icd=""), rules)
    assert not result.eligible
    assert result.fails == (DISEASE,)
    en, zh = texts(reason_of(result, DISEASE))
    assert en == "Covers only some diagnoses (D66, D67): enter the diagnosis code to check."
    assert zh and "D66" in zh


def test_a_missing_diagnosis_code_does_not_matter_to_a_project_by_category_only():
    assert check(child(icd=""), service(categories=["LEUK"])).eligible


def test_the_disease_reason_uses_the_category_labels_in_the_readers_language():
    labels = {
        "LEUK": bilingual("白血病", "Leukaemia"),
        "CHD": bilingual("先天性心脏病", "Congenital heart disease"),
        "CLEFT": bilingual("唇腭裂", "Cleft lip and palate"),
    }
    result = check(child(), service(categories=["CHD", "CLEFT"]), category_labels=labels)
    en, zh = texts(reason_of(result, DISEASE))
    assert en == (
        "The disease category Leukaemia is not covered "
        "(covers Congenital heart disease, Cleft lip and palate)."
    )
    assert "白血病" in zh and "先天性心脏病、唇腭裂" in zh


# ---------------------------------------------------------------------------------------
# Regions


@pytest.mark.parametrize(
    ("codes", "household", "covered"),
    [
        (["45", "51"], "450103", True),
        (["45", "51"], "510104", True),
        (["45", "51"], "440106", False),
        (["5301"], "530102", True),
        (["5301"], "530202", False),
        (["5301"], "450103", False),
        (["11", "5301"], "530111", True),
        (["45"], "", False),
    ],
)
def test_a_province_or_prefecture_code_covers_every_region_code_it_prefixes(
    codes, household, covered
):
    rules = service(region_basis="household", region_codes=codes)
    result = check(child(household_region=household, hospital_region="450103"), rules)
    assert result.eligible is covered
    assert result.fails == (() if covered else (REGION,))


def test_the_household_basis_looks_at_the_household_region_not_the_hospital():
    rules = service(region_basis="household", region_codes=["45"])
    assert check(child(household_region="450103", hospital_region="110102"), rules).eligible
    away = check(child(household_region="440106", hospital_region="450103"), rules)
    assert away.fails == (REGION,)


def test_the_treating_hospital_basis_looks_at_the_hospital_region_not_the_household():
    rules = service(region_basis="treating_hospital", region_codes=["11"])
    assert check(child(household_region="370102", hospital_region="110102"), rules).eligible
    away = check(child(household_region="110105", hospital_region="370102"), rules)
    assert away.fails == (REGION,)
    assert check(child(hospital_region=""), rules).fails == (REGION,)


def test_the_region_reasons_name_the_region_and_the_covered_ones_in_both_languages():
    rules = service(region_basis="household", region_codes=["45", "5301"])
    result = check(child(household_region="440106"), rules)
    en, zh = texts(reason_of(result, REGION))
    assert en == "The household registration region 440106 is not covered (covers 45, 5301)."
    assert "440106" in zh and "45、5301" in zh
    hospital = service(region_basis="treating_hospital", region_codes=["11"])
    en, zh = texts(reason_of(check(child(hospital_region="370102"), hospital), REGION))
    assert en == "The treating hospital's region 370102 is not covered (covers 11)."
    assert "370102" in zh


def test_the_region_reason_uses_the_region_names_given():
    names = {"45": "Guangxi", "440106": "Tianhe, Guangzhou"}
    rules = service(region_basis="household", region_codes=["45"])
    result = check(child(household_region="440106"), rules, region_label=names.get)
    en, _zh = texts(reason_of(result, REGION))
    assert "Tianhe, Guangzhou" in en and "Guangxi" in en


def test_the_registration_must_be_the_one_required():
    rules = service(registration="rural")
    assert check(child(registration="rural"), rules).eligible
    result = check(child(registration="urban"), rules)
    assert result.fails == (REGISTRATION,)
    en, zh = texts(reason_of(result, REGISTRATION))
    assert en == "Only for children with rural household registration."
    assert zh


# ---------------------------------------------------------------------------------------
# Economic situation


def test_a_listed_status_is_needed_when_there_is_no_income_limit():
    rules = service(economic_flags=["dibao", "tekun"])
    assert check(child(flags=frozenset({"tekun"})), rules).eligible
    assert check(child(flags=frozenset({"dibao", "disabled"})), rules).eligible
    poor_but_unlisted = check(child(flags=frozenset({"orphan"}), household_income=D(0)), rules)
    assert poor_but_unlisted.fails == (ECONOMIC,)
    en, zh = texts(reason_of(poor_but_unlisted, ECONOMIC))
    assert en == (
        "Needs one of: minimum living allowance (dibao), extreme-poverty support (tekun)."
    )
    assert zh and "、" in zh


def test_a_per_capita_income_exactly_at_the_maximum_passes():
    rules = service(per_capita_max=D("12000"))
    assert check(child(household_size=3, household_income=D("36000")), rules).eligible
    assert check(child(household_size=3, household_income=D("35999")), rules).eligible


def test_a_per_capita_income_a_cent_above_the_maximum_fails():
    rules = service(per_capita_max=D("12000"))
    result = check(child(household_size=3, household_income=D("36001")), rules)
    assert result.fails == (ECONOMIC,)
    en, zh = texts(reason_of(result, ECONOMIC))
    assert en == "The per-capita income of 12,000.33 yuan a year is above 12,000 yuan."
    assert "12,000.33" in zh and "12,000" in zh


def test_with_a_status_and_an_income_limit_either_suffices():
    rules = service(economic_flags=["dibao", "tekun"], per_capita_max=D("12000"))
    rich_with_dibao = child(flags=frozenset({"dibao"}), household_size=1, household_income=D(1e6))
    assert check(rich_with_dibao, rules).eligible
    poor_without_status = child(household_size=4, household_income=D("48000"))
    assert check(poor_without_status, rules).eligible
    neither = check(child(household_size=4, household_income=D("48004")), rules)
    assert neither.fails == (ECONOMIC,)
    en, zh = texts(reason_of(neither, ECONOMIC))
    assert en == (
        "Needs one of: minimum living allowance (dibao), extreme-poverty support (tekun); "
        "or a per-capita income of at most 12,000 yuan a year (it is 12,001 yuan)."
    )
    assert "12,000" in zh and "12,001" in zh


def test_no_economic_rule_means_any_income_passes():
    assert check(child(household_size=1, household_income=D("9999999")), service()).eligible


# ---------------------------------------------------------------------------------------
# Treatment conditions


@pytest.mark.parametrize(
    ("condition", "plan", "met"),
    [
        ("surgery_not_done", {"surgery": "planned"}, True),
        ("surgery_not_done", {"surgery": "in_progress"}, True),
        ("surgery_not_done", {"surgery": "done"}, False),
        ("surgery_not_done", {}, False),
        ("surgery_not_done", {"transplant": "planned"}, False),
        ("surgery_planned", {"surgery": "planned"}, True),
        ("surgery_planned", {"surgery": "in_progress"}, False),
        ("surgery_planned", {"surgery": "done"}, False),
        ("surgery_planned", {}, False),
        ("transplant_planned", {"transplant": "planned"}, True),
        ("transplant_planned", {"transplant": "in_progress"}, True),
        ("transplant_planned", {"transplant": "done"}, False),
        ("transplant_planned", {"chemotherapy": "in_progress"}, False),
        ("transplant_done", {"transplant": "done"}, True),
        ("transplant_done", {"transplant": "in_progress"}, False),
        ("transplant_done", {"transplant": "planned"}, False),
        ("transplant_done", {}, False),
    ],
)
def test_a_treatment_condition_is_met_only_by_its_stages(condition, plan, met):
    result = check(child(plan=plan), service(treatment=[condition]))
    assert result.eligible is met
    assert result.fails == (() if met else (TREATMENT,))


def test_every_listed_treatment_condition_must_hold_and_each_unmet_one_is_named():
    rules = service(treatment=["surgery_not_done", "transplant_planned"])
    both = {"surgery": "planned", "transplant": "planned"}
    assert check(child(plan=both), rules).eligible
    result = check(child(plan={"surgery": "done"}), rules)
    assert result.fails == (TREATMENT,)
    en, zh = texts(reason_of(result, TREATMENT))
    assert en == (
        "Treatment condition not met: surgery planned or in progress, not yet done, "
        "transplant planned or in progress."
    )
    assert zh and "、" in zh


# ---------------------------------------------------------------------------------------
# Once per child and the cumulative cap


def test_once_per_child_without_a_cap_refuses_a_child_already_funded():
    rules = grant(grant_method="fixed", grant_amount=D("20000"), once_per_child=True)
    result = check(child(earlier_grants={"T01": D("20000")}), rules)
    assert result.fails == (ONCE_PER_CHILD,)
    assert result.suggested is None
    en, zh = texts(reason_of(result, ONCE_PER_CHILD))
    assert en == "This project has already funded this child for this disease."
    assert zh


def test_once_per_child_does_not_count_other_projects_or_zero_grants():
    rules = grant(grant_method="fixed", grant_amount=D("20000"), once_per_child=True)
    assert check(child(earlier_grants={"P99": D("20000")}), rules).suggested == D("20000")
    assert check(child(earlier_grants={"T01": D("0")}), rules).eligible


def test_once_per_child_with_a_cap_allows_a_top_up_inside_the_cap():
    rules = grant(
        grant_method="by_treatment",
        treatment_amounts={"chemotherapy": 30000, "transplant": 50000},
        cumulative_cap=50000,
        once_per_child=True,
    )
    topped_up = check(child(plan={"transplant": "planned"}, earlier_grants={"T01": 30000}), rules)
    assert topped_up.eligible
    assert topped_up.suggested == D("20000")


def test_once_per_child_with_the_cap_used_up_refuses_the_child():
    rules = grant(
        grant_method="fixed", grant_amount=D("30000"), cumulative_cap=50000, once_per_child=True
    )
    used_up = check(child(earlier_grants={"T01": D("50000")}), rules)
    assert used_up.fails == (ONCE_PER_CHILD,)
    assert used_up.suggested is None


def test_earlier_grants_for_another_category_do_not_make_once_per_child_fail():
    rules = grant(grant_method="fixed", grant_amount=D("20000"), once_per_child=True)
    other_disease = child(earlier_grants={"T01": D("20000")}, earlier_grants_this_category={})
    result = check(other_disease, rules)
    assert result.eligible
    assert result.suggested == D("20000")


def test_the_cap_counts_grants_for_every_category_even_when_once_per_child_does_not():
    rules = grant(
        grant_method="fixed", grant_amount=D("30000"), cumulative_cap=50000, once_per_child=True
    )
    other_disease = child(earlier_grants={"T01": D("40000")}, earlier_grants_this_category={})
    assert check(other_disease, rules).suggested == D("10000")
    cap_used_elsewhere = child(earlier_grants={"T01": D("50000")}, earlier_grants_this_category={})
    result = check(cap_used_elsewhere, rules)
    assert result.eligible  # not funded for this disease yet...
    assert result.suggested == D("0")  # ...but the cap is used up


def test_grants_known_for_this_category_decide_once_per_child():
    rules = grant(grant_method="fixed", grant_amount=D("20000"), once_per_child=True)
    funded = child(
        earlier_grants={"T01": D("20000")}, earlier_grants_this_category={"T01": D("20000")}
    )
    assert check(funded, rules).fails == (ONCE_PER_CHILD,)


# ---------------------------------------------------------------------------------------
# Grant rules


def test_a_fixed_grant_suggests_its_amount():
    result = check(child(), grant(grant_method="fixed", grant_amount=D("20000")))
    assert result.suggested == D("20000")
    en, zh = texts(reason_of(result, GRANT))
    assert en == "Fixed grant: 20,000 yuan."
    assert "20,000" in zh


def test_an_up_to_grant_suggests_its_amount_for_the_reviewer_to_lower():
    result = check(child(), grant(grant_method="up_to", grant_amount=D("50000")))
    assert result.suggested == D("50000")
    en, zh = texts(reason_of(result, GRANT))
    assert en == "Up to 50,000 yuan, as the reviewer decides."
    assert "50,000" in zh
    assert (
        check(costs(30000, 12000), grant(grant_method="up_to", grant_amount=50000)).suggested
        == 18000
    )


BY_TREATMENT = {
    "grant_method": "by_treatment",
    "treatment_amounts": {"chemotherapy": 30000, "transplant": 50000},
}


@pytest.mark.parametrize(
    ("plan", "amount"),
    [
        ({"chemotherapy": "in_progress"}, 30000),
        ({"transplant": "planned"}, 50000),
        ({"chemotherapy": "in_progress", "transplant": "planned"}, 50000),
        ({"chemotherapy": "done", "transplant": "planned"}, 50000),
        ({"surgery": "planned"}, 0),
        ({}, 0),
    ],
)
def test_a_grant_by_treatment_prefers_a_transplant_over_chemotherapy(plan, amount):
    assert check(child(plan=plan), grant(**BY_TREATMENT)).suggested == D(amount)


def test_a_grant_by_treatment_explains_its_choice_or_its_zero():
    result = check(
        child(plan={"chemotherapy": "planned", "transplant": "planned"}), grant(**BY_TREATMENT)
    )
    en, zh = texts(reason_of(result, GRANT))
    assert en == "For transplant: 50,000 yuan."
    assert "50,000" in zh
    nothing = check(child(plan={"surgery": "planned"}), grant(**BY_TREATMENT))
    assert nothing.eligible and nothing.suggested == D("0")
    en, zh = texts(reason_of(nothing, GRANT))
    assert en == "No treatment in the plan that this grant pays for."
    assert zh


def test_a_grant_by_treatment_falls_back_to_chemotherapy_when_transplant_has_no_amount():
    rules = grant(grant_method="by_treatment", treatment_amounts={"chemotherapy": 30000})
    both = child(plan={"chemotherapy": "in_progress", "transplant": "planned"})
    assert check(both, rules).suggested == D("30000")
    assert check(child(plan={"transplant": "planned"}), rules).suggested == D("0")


PUBLISHED_TIERS = {
    "grant_method": "tiers",
    "tiers": [[5000, 10000, 5000], [10000, 15000, 10000], [15000, 20000, 15000]]
    + [[20000, 30000, 20000]],
    "above_top": 30000,
    "cumulative_cap": 30000,
}
TIER_CASES = [
    ("0", 0),
    ("5000", 0),  # exactly at the lowest low: below every tier
    ("5000.01", 5000),
    ("10000", 5000),  # exactly at a tier's high bound: in that tier
    ("10000.01", 10000),
    ("15000", 10000),
    ("20000", 15000),
    ("25000", 20000),
    ("30000", 20000),
    ("30000.01", 30000),  # above the top tier
    ("500000", 30000),
]


@pytest.mark.parametrize(("out_of_pocket", "amount"), TIER_CASES)
def test_tiers_take_the_low_bound_exclusive_and_the_high_bound_inclusive(out_of_pocket, amount):
    applicant = costs(D(out_of_pocket) + 100000, coverage=100000)
    assert applicant.out_of_pocket == D(out_of_pocket)
    assert check(applicant, grant(**PUBLISHED_TIERS)).suggested == D(amount)


@pytest.mark.parametrize(("out_of_pocket", "amount"), TIER_CASES)
def test_the_published_p02_tiers_give_5000_up_to_30000(directory, out_of_pocket, amount):
    (p02,) = [r for r in selectors.open_projects_rules() if r.code == "P02"]
    assert p02.cumulative_cap == D("30000") and p02.above_top == D("30000")
    applicant = costs(
        D(out_of_pocket) + 100000,
        coverage=100000,
        category="CHD",
        icd="Q21.0",
        dob=date(2020, 1, 1),
        plan={"surgery": "planned"},
    )
    result = check(applicant, p02)
    assert result.eligible
    assert result.suggested == D(amount)


def test_the_published_p02_cap_is_reduced_by_earlier_grants(directory):
    (p02,) = [r for r in selectors.open_projects_rules() if r.code == "P02"]
    applicant = costs(
        100000,
        category="CHD",
        icd="Q21.0",
        dob=date(2020, 1, 1),
        plan={"surgery": "planned"},
        earlier_grants={"P02": D("12000")},
    )
    assert check(applicant, p02).suggested == D("18000")


def test_an_out_of_pocket_above_the_top_tier_without_above_top_suggests_nothing():
    rules = grant(grant_method="tiers", tiers=[[10000, 30000, 10000]])
    result = check(costs(100000, coverage=50000), rules)
    assert result.eligible
    assert result.suggested == D("0")
    en, zh = texts(reason_of(result, GRANT))
    assert en == "Out-of-pocket cost of 50,000 yuan is in no tier: no amount suggested."
    assert "50,000" in zh


def test_an_out_of_pocket_in_a_gap_between_tiers_suggests_nothing():
    rules = grant(grant_method="tiers", tiers=[[0, 10000, 2000], [20000, 30000, 5000]])
    assert check(costs(15000), rules).suggested == D("0")
    assert check(costs(10000), rules).suggested == D("2000")
    assert check(costs(20000.01), rules).suggested == D("5000")


def test_the_tier_reasons_name_the_tier_or_the_top():
    rules = grant(**PUBLISHED_TIERS)
    en, zh = texts(reason_of(check(costs(12000), rules), GRANT))
    assert en == "Out-of-pocket cost of 12,000 yuan is in the tier 10,000–15,000: 10,000 yuan."
    assert "12,000" in zh and "15,000" in zh
    en, zh = texts(reason_of(check(costs(45000.5), rules), GRANT))
    assert en == "Out-of-pocket cost of 45,000.50 yuan is above 30,000: 30,000 yuan."
    assert "45,000.50" in zh


def test_a_percent_grant_is_rounded_down_to_whole_yuan():
    rules = grant(grant_method="percent", percent=D("0.8"))
    result = check(costs("12345.67"), rules)
    assert result.suggested == D("9876")  # 0.8 x 12,345.67 = 9,876.536
    en, zh = texts(reason_of(result, GRANT))
    assert en == "80% of the out-of-pocket cost of 12,345.67 yuan: 9,876 yuan."
    assert "80" in zh and "E+" not in zh and "9,876" in zh


def test_a_percent_grant_of_one_reads_100_percent():
    rules = grant(grant_method="percent", percent=D("1.0"))
    result = check(costs(15000), rules)
    assert result.suggested == D("15000")
    en, _zh = texts(reason_of(result, GRANT))
    assert en.startswith("100% of the out-of-pocket cost of 15,000 yuan")


def test_a_percent_grant_applies_to_the_out_of_pocket_cost_then_the_remaining_need_caps_it():
    # Out of pocket 60,000 (estimated less coverage); remaining need 30,000 (less other aid).
    applicant = costs(100000, coverage=40000, other_aid=30000)
    assert applicant.out_of_pocket == D("60000")
    assert applicant.remaining_need == D("30000")
    assert check(applicant, grant(grant_method="percent", percent=D("0.25"))).suggested == 15000
    assert check(applicant, grant(grant_method="percent", percent=D("0.8"))).suggested == 30000


def test_the_cumulative_cap_less_earlier_grants_limits_the_suggestion():
    rules = grant(grant_method="fixed", grant_amount=60000, cumulative_cap=60000)
    result = check(child(earlier_grants={"T01": D("45000")}), rules)
    assert result.suggested == D("15000")
    en, zh = texts(result.reasons[-1])
    assert en == (
        "Limited by the cap of 60,000 yuan per child, less 45,000 yuan granted earlier: "
        "15,000 yuan."
    )
    assert "60,000" in zh and "45,000" in zh and "15,000" in zh


def test_earlier_grants_beyond_the_cap_never_make_the_suggestion_negative():
    rules = grant(grant_method="fixed", grant_amount=60000, cumulative_cap=60000)
    result = check(child(earlier_grants={"T01": D("70000")}), rules)
    assert result.eligible
    assert result.suggested == D("0")


def test_the_remaining_need_subtracts_coverage_other_aid_and_pledges():
    applicant = costs(100000, coverage=60000, other_aid=10000, pledged=25000)
    assert applicant.remaining_need == D("5000")
    result = check(applicant, grant(grant_method="fixed", grant_amount=20000))
    assert result.suggested == D("5000")
    en, zh = texts(result.reasons[-1])
    assert en == "Limited by the remaining need of 5,000 yuan."
    assert "5,000" in zh


def test_the_remaining_need_is_applied_after_the_cap():
    rules = grant(grant_method="fixed", grant_amount=60000, cumulative_cap=60000)
    applicant = costs(100000, coverage=90000, earlier_grants={"T01": D("55000")})
    result = check(applicant, rules)
    assert result.suggested == D("5000")  # cap room 5,000 < need 10,000
    applicant = costs(100000, coverage=97000, earlier_grants={"T01": D("55000")})
    assert check(applicant, rules).suggested == D("3000")  # need 3,000 < cap room 5,000


def test_a_covered_cost_leaves_no_need_and_the_suggestion_is_zero_not_negative():
    applicant = costs(50000, coverage=60000, other_aid=5000)
    assert applicant.out_of_pocket == D("0")
    assert applicant.remaining_need == D("0")
    for rules in (
        grant(grant_method="fixed", grant_amount=20000),
        grant(grant_method="percent", percent=D("0.5")),
        grant(**PUBLISHED_TIERS),
    ):
        assert check(applicant, rules).suggested == D("0")


def test_a_fractional_remaining_need_is_rounded_down_to_whole_yuan():
    result = check(costs("1234.56"), grant(grant_method="fixed", grant_amount=20000))
    assert result.suggested == D("1234")


def test_in_kind_and_service_projects_suggest_no_amount():
    for kind in ("in_kind", "service"):
        result = check(child(), service(kind=kind))
        assert result.eligible
        assert result.suggested is None
        assert result.reasons == ()


def test_a_project_the_child_is_not_eligible_for_suggests_no_amount():
    result = check(child(), grant(grant_method="fixed", grant_amount=20000, categories=["CHD"]))
    assert not result.eligible
    assert result.suggested is None
    assert GRANT not in {r.kind for r in result.reasons}


def test_evaluate_keeps_the_projects_order_and_reports_each_rules_version():
    projects = [
        service(code="B", version=3),
        grant(code="A", grant_method="fixed", grant_amount=1, version=7),
    ]
    results = evaluate(child(), projects)
    assert list(results) == ["B", "A"]
    assert results["B"].rules_version == 3 and results["A"].rules_version == 7
    assert results["A"].project == "A"


# ---------------------------------------------------------------------------------------
# Malformed rules


def _rule_error(build, **values) -> RuleError:
    with pytest.raises(RuleError) as caught:
        build(**values)
    assert isinstance(caught.value, ValueError)
    with override("en"):
        assert str(caught.value.message)
    return caught.value


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"tiers": [[0, 10000, 1000], [5000, 20000, 2000]]}, "tiers"),  # overlapping
        ({"tiers": [[10000, 20000, 2000], [0, 10000, 1000]]}, "tiers"),  # descending
        ({"tiers": [[10000, 10000, 1000]]}, "tiers"),  # empty tier
        ({"tiers": [[0, 10000]]}, "tiers"),
        ({"tiers": []}, "tiers"),
        ({"tiers": [[0, "lots", 1000]]}, "tiers"),
    ],
)
def test_malformed_tiers_are_a_rule_error(values, field):
    assert _rule_error(grant, grant_method="tiers", **values).field == field


def test_adjacent_tiers_sharing_a_bound_are_allowed():
    rules = grant(grant_method="tiers", tiers=[[0, 10000, 1000], [10000, 20000, 2000]])
    assert len(rules.tiers) == 2


def test_a_percent_above_one_is_a_rule_error_and_one_is_allowed():
    assert _rule_error(grant, grant_method="percent", percent=D("1.01")).field == "percent"
    assert _rule_error(grant, grant_method="percent", percent=80).field == "percent"
    assert _rule_error(grant, grant_method="percent").field == "percent"
    assert grant(grant_method="percent", percent=1).percent == D("1")


@pytest.mark.parametrize("kind", ["service", "in_kind"])
def test_a_grant_rule_on_a_project_that_gives_no_money_is_a_rule_error(kind):
    error = _rule_error(service, kind=kind, grant_method="fixed", grant_amount=100)
    assert error.field == "grant_method"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "grant_method"),  # a grant project without a method
        ({"grant_method": "lottery"}, "grant_method"),
        ({"grant_method": "fixed", "grant_amount": 100, "payee": ""}, "payee"),
        ({"grant_method": "fixed", "grant_amount": 100, "payee": "school"}, "payee"),
        ({"grant_method": "fixed"}, "grant_amount"),
        ({"grant_method": "up_to"}, "grant_amount"),
        ({"grant_method": "fixed", "grant_amount": -1}, "grant_amount"),
        ({"grant_method": "fixed", "grant_amount": "NaN"}, "grant_amount"),
        ({"grant_method": "fixed", "grant_amount": "abc"}, "grant_amount"),
        ({"grant_method": "by_treatment"}, "treatment_amounts"),
        (
            {"grant_method": "by_treatment", "treatment_amounts": {"surgery": 1}},
            "treatment_amounts",
        ),
        ({"grant_method": "fixed", "grant_amount": 1, "cumulative_cap": -5}, "cumulative_cap"),
    ],
)
def test_a_grant_project_with_a_missing_or_malformed_grant_rule_is_a_rule_error(values, field):
    assert _rule_error(grant, **values).field == field


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"economic_flags": ["rich"]}, "economic_flags"),
        ({"economic_flags": "dibao"}, "economic_flags"),
        ({"treatment": ["chemotherapy_done"]}, "treatment_conditions"),
        ({"treatment": ["surgery"]}, "treatment_conditions"),
        ({"region_basis": "household", "region_codes": ["110"]}, "region_codes"),
        ({"region_basis": "household", "region_codes": ["110105"]}, "region_codes"),
        ({"region_basis": "household", "region_codes": ["1"]}, "region_codes"),
        ({"region_basis": "household", "region_codes": ["ab"]}, "region_codes"),
        ({"region_codes": ["11"]}, "region_basis"),  # codes without basis
        ({"region_basis": "school", "region_codes": ["11"]}, "region_basis"),
        ({"registration": "foreign"}, "registration"),
        ({"min_age_years": 19, "until_birthday": 19}, "min_age_years"),
        ({"min_age_years": 20, "until_birthday": 19}, "min_age_years"),
        ({"until_birthday": 0}, "until_birthday"),
        ({"until_birthday": 18.5}, "until_birthday"),
        ({"min_age_years": -1}, "min_age_years"),
        ({"per_capita_max": -1}, "per_capita_max"),
        ({"categories": []}, "categories"),  # nothing covered
        ({"categories": "LEUK"}, "categories"),
        ({"icd": ["leukaemia"]}, "icd_codes"),
        ({"kind": "loan"}, "kind"),
    ],
)
def test_a_malformed_eligibility_rule_is_a_rule_error_naming_its_field(values, field):
    error = _rule_error(service, **values)
    assert error.field == field
    assert str(error).startswith(f"{field}: ")


def test_a_minimum_age_just_below_the_age_limit_is_allowed():
    rules = service(min_age_years=D("18.5"), until_birthday=19)
    assert rules.min_age_years == D("18.5")


def test_an_unknown_flag_or_condition_is_named_in_the_error():
    with override("en"):
        assert "rich" in str(_rule_error(service, economic_flags=["rich"]).message)
        assert "chemo_done" in str(_rule_error(service, treatment=["chemo_done"]).message)
        error = _rule_error(service, region_basis="household", region_codes=["110"])
        assert "110" in str(error.message)


# ---------------------------------------------------------------------------------------
# Reasons: every failing kind is explained, in both languages

EVERYTHING = {
    "code": "T01",
    "kind": "grant",
    "grant_method": "fixed",
    "grant_amount": 20000,
    "payee": "hospital",
    "until_birthday": 7,
    "categories": ["CHD"],
    "region_basis": "household",
    "region_codes": ["45"],
    "registration": "rural",
    "economic_flags": ["dibao"],
    "per_capita_max": 5000,
    "treatment": ["surgery_not_done"],
    "once_per_child": True,
}


def _fails_everything() -> Result:
    applicant = child(earlier_grants={"T01": D("20000")})
    return check(applicant, ProjectRules.build(**EVERYTHING))


def test_a_child_can_fail_every_kind_of_rule_at_once_in_the_checking_order():
    result = _fails_everything()
    assert result.fails == RULE_KINDS
    assert [r.kind for r in result.reasons] == list(RULE_KINDS)
    assert result.suggested is None


# The number (or code) each failing reason must carry, whatever the language.
REASON_NUMBERS = {
    AGE: "2025-03-10",  # the 7th birthday
    DISEASE: "LEUK",
    REGION: "110105",
    REGISTRATION: None,
    ECONOMIC: "7,500",  # 30,000 yuan for 4 people
    TREATMENT: None,
    ONCE_PER_CHILD: None,
}


@pytest.mark.parametrize("kind", RULE_KINDS)
def test_every_failing_kind_is_explained_in_english_and_in_chinese(kind):
    reason = reason_of(_fails_everything(), kind)
    en, zh = texts(reason)
    assert en.strip() and zh.strip()
    number = REASON_NUMBERS[kind]
    if number is not None:
        assert number in en
        assert number in zh


def test_the_age_reason_carries_the_childs_age_in_both_languages():
    en, zh = texts(reason_of(_fails_everything(), AGE))
    assert en == "Age 8.6 years: eligible only before the child turns 7 (2025-03-10)."
    assert "8.6" in zh


def test_reasons_follow_the_language_active_when_rendered_not_when_made():
    result = check(
        child(household_region="440106"),
        service(region_basis="household", region_codes=["45", "51"]),
    )
    reason = reason_of(result, REGION)
    with override("zh-hans"):
        assert "45、51" in str(reason.text)
    with override("en"):
        assert "45, 51" in str(reason.text)
