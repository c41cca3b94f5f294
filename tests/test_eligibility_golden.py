"""The engine gives exactly the answers of the golden cases (tests/data, copied from spec)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from organizations import selectors
from organizations.eligibility import Applicant, evaluate

CASES = yaml.safe_load(
    (Path(__file__).parent / "data" / "eligibility-cases.yaml").read_text(encoding="utf-8")
)["cases"]


def applicant_from(facts: dict) -> Applicant:
    return Applicant(
        dob=date.fromisoformat(facts["dob"]),
        application_date=date.fromisoformat(facts["application_date"]),
        category=facts["category"],
        icd=facts["icd"],
        household_region=facts["household_region"],
        registration=facts["registration"],
        hospital_region=facts["hospital_region"],
        flags=frozenset(facts["flags"]),
        household_size=facts["household_size"],
        household_income=Decimal(facts["household_income"]),
        plan=facts["plan"],
        estimated_cost=Decimal(facts["estimated_cost"]),
        coverage=Decimal(facts["coverage"]),
        other_aid=Decimal(facts["other_aid"]),
        earlier_grants={k: Decimal(v) for k, v in facts.get("earlier_grants", {}).items()},
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_engine_answers_the_golden_case_exactly(directory, case):
    results = evaluate(applicant_from(case["applicant"]), selectors.open_projects_rules())
    expected = case["expected"]
    assert set(results) == set(expected["eligible"]) | set(expected["not_eligible"])
    eligible = {code: r.suggested for code, r in results.items() if r.eligible}
    assert eligible == expected["eligible"]
    failing = {code: sorted(r.fails) for code, r in results.items() if not r.eligible}
    assert failing == {code: sorted(kinds) for code, kinds in expected["not_eligible"].items()}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_api_answers_the_golden_case_exactly(client, directory, case):
    response = client.post(
        "/api/v1/eligibility/", case["applicant"], content_type="application/json"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    expected = case["expected"]
    assert {c: r["suggested"] for c, r in results.items() if r["eligible"]} == expected["eligible"]
    assert {c: sorted(r["fails"]) for c, r in results.items() if not r["eligible"]} == {
        c: sorted(k) for c, k in expected["not_eligible"].items()
    }
    for code, result in results.items():
        # Every failing rule kind is explained, in both languages.
        explained = {reason["kind"] for reason in result["reasons"]}
        assert set(result["fails"]) <= explained, code
        assert all(reason["zh"] and reason["en"] for reason in result["reasons"])
