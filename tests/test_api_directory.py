"""The public read-only API: members, projects with filters, schema and docs."""

import pytest

from organizations.models import AidProject
from tests.test_api_cases import THROTTLE_QUERIES

pytestmark = pytest.mark.django_db


def test_organizations_are_listed_without_an_account(client, directory):
    body = client.get("/api/v1/organizations/").json()
    assert body["count"] == 8
    assert body["results"][0]["short_name"] == "crcf" and body["results"][0]["is_executive"]


def test_one_organization_by_short_name(client, directory):
    assert client.get("/api/v1/organizations/hemo/").json()["name_zh"] == "北京血友病关爱中心"


def test_projects_carry_their_rules_in_plain_words(client, directory):
    project = client.get("/api/v1/projects/P02/").json()
    assert project["member"] == "crcf" and project["rules_version"] == 1
    assert project["categories"] == ["CHD"]
    texts = " ".join(row["text"] for row in project["rules"])
    assert "30,000" in texts and "5,000" in texts


def test_projects_filter_by_disease_category(client, directory):
    codes = {p["code"] for p in client.get("/api/v1/projects/?category=HAEM").json()["results"]}
    assert {"P22", "P23", "P24", "P04"} <= codes
    assert "P01" not in codes and "P02" not in codes


def test_projects_filter_by_region_keeps_nationwide_projects(client, directory):
    # 云南 (53) is covered by P05 and P13; P03 covers 53 too; P10 only treats in Beijing.
    codes = {p["code"] for p in client.get("/api/v1/projects/?region=530102").json()["results"]}
    assert {"P03", "P05", "P13", "P01", "P04"} <= codes
    assert "P10" not in codes
    beijing = {p["code"] for p in client.get("/api/v1/projects/?region=110105").json()["results"]}
    assert "P10" in beijing and "P05" not in beijing


def test_projects_filter_by_member_and_kind(client, directory):
    body = client.get("/api/v1/projects/?member=hemo&kind=service").json()
    assert [p["code"] for p in body["results"]] == ["P23"]


def test_projects_are_paginated(client, directory, settings):
    body = client.get("/api/v1/projects/?page=1").json()
    assert body["count"] == 24 and "next" in body


def test_project_list_query_count_is_constant(client, directory, django_assert_num_queries):
    # count, page of projects with member and rules, category names; the rate counter
    with django_assert_num_queries(3 + THROTTLE_QUERIES):
        assert client.get("/api/v1/projects/").status_code == 200
    AidProject.objects.filter(code__in=["P01", "P02"]).update(is_open=False)
    with django_assert_num_queries(3 + THROTTLE_QUERIES):
        assert client.get("/api/v1/projects/?is_open=true").status_code == 200


def test_filtered_project_list_query_count(client, directory, django_assert_num_queries):
    # the covering filter reads the directory once more
    with django_assert_num_queries(4 + THROTTLE_QUERIES):
        assert client.get("/api/v1/projects/?category=LEUK").status_code == 200


def test_organization_list_query_count(client, directory, django_assert_num_queries):
    with django_assert_num_queries(2 + THROTTLE_QUERIES):
        assert client.get("/api/v1/organizations/").status_code == 200


def test_directory_api_is_read_only(client, people):
    client.force_login(people["root"])
    assert client.post("/api/v1/projects/", {}).status_code in (403, 405)
    assert client.delete("/api/v1/projects/P01/").status_code in (403, 405)


def test_openapi_schema_and_docs_are_served_by_the_app(client, directory):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/eligibility/" in text and "/api/v1/projects/" in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()
    assert client.get("/api/docs/?script").status_code == 200


@pytest.mark.parametrize("query", ["kind=cash", "page=0", "page=abc"])
def test_bad_list_parameters_are_refused_with_a_4xx(client, directory, query):
    response = client.get(f"/api/v1/projects/?{query}")
    assert 400 <= response.status_code < 500


def test_unknown_category_or_region_filter_finds_nothing(client, directory):
    assert client.get("/api/v1/projects/?category=FLU").json()["count"] == 0
    assert (
        client.get("/api/v1/projects/?region=99").json()["count"] == 24 - 4
    )  # all but P03, P05, P10, P13
