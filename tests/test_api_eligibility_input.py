"""Bad input to POST /api/v1/eligibility/ gets a 400 naming each bad field."""

import copy

import pytest

pytestmark = pytest.mark.django_db

GOOD = {
    "dob": "2018-03-10",
    "application_date": "2026-11-20",
    "category": "LEUK",
    "icd": "C91.0",
    "household_region": "110105",
    "registration": "urban",
    "hospital_region": "110102",
    "flags": ["dibao"],
    "household_size": 4,
    "household_income": 30000,
    "plan": {"chemotherapy": "in_progress"},
    "estimated_cost": 200000,
    "coverage": 90000,
    "other_aid": 0,
}


def post(client, body):
    return client.post("/api/v1/eligibility/", body, content_type="application/json")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dob", "2018-02-30"),
        ("dob", "2027-01-01"),
        ("category", "FLU"),
        ("icd", "banana"),
        ("icd", "Q21.0"),  # a heart defect is not leukaemia
        ("household_region", "999999"),
        ("household_region", "11010"),
        ("hospital_region", "abc"),
        ("registration", "suburban"),
        ("flags", ["rich"]),
        ("household_size", 0),
        ("household_income", -1),
        ("household_income", "1.234"),
        ("plan", {"chemotherapy": "someday"}),
        ("plan", {"magic": "planned"}),
        ("plan", {}),
        ("estimated_cost", "a lot"),
        ("earlier_grants", {"P01": -5}),
    ],
)
def test_each_bad_field_is_named_in_a_400(client, directory, field, value):
    body = copy.deepcopy(GOOD)
    body[field] = value
    response = post(client, body)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_missing_fields_are_all_named(client, directory):
    response = post(client, {})
    assert response.status_code == 400
    missing = set(response.json())
    assert {"dob", "category", "icd", "household_region", "plan", "estimated_cost"} <= missing


def test_error_messages_are_in_chinese_by_default(client, directory):
    body = dict(GOOD, household_region="999999")
    message = post(client, body).json()["household_region"][0]
    assert "999999" in message and "地区" in message


def test_malformed_json_is_a_400_not_a_500(client, directory):
    response = client.post("/api/v1/eligibility/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_application_date_defaults_to_today(client, directory):
    body = dict(GOOD)
    del body["application_date"]
    assert post(client, body).status_code == 200


def test_a_historical_region_code_is_not_offered_for_an_address(client, directory):
    # 110103 (崇文区) was merged away in 2010.
    response = post(client, dict(GOOD, household_region="110103"))
    assert response.status_code == 400 and "household_region" in response.json()
