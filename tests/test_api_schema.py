"""The OpenAPI schema (drf-spectacular) is complete and clean, the docs are served by the app,
the section bodies are the section forms', and the directory is exported as HSDS."""

import re
import uuid

import pytest
import yaml
from django.core.management import call_command

from cases.intake.forms import SECTION_FORMS
from cases.intake.section_bodies import api_field, field_code
from cases.models import Application
from cases.serializers import SECTION_SERIALIZERS, TreatmentPlanSerializer
from organizations.eligibility import TREATMENTS
from tests.test_api_cases import THROTTLE_QUERIES

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_a_warning(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn: a new endpoint that the schema cannot describe fails CI.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    paths = schema["paths"]
    for path in (
        "/api/v1/applications/",
        "/api/v1/applications/{reference}/sections/A/",
        "/api/v1/applications/{reference}/submit/",
        "/api/v1/reviews/{id}/approve/",
        "/api/v1/applications/{reference}/receipts/",
        "/api/v1/reviews/{id}/allocations/",
        "/api/v1/payments/{id}/reverse/",
        "/api/v1/hsds/",
    ):
        assert path in paths, path


def test_every_case_operation_documents_its_refusals(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    for path, item in schema["paths"].items():
        public = any(
            part in path for part in ("/organizations/", "/projects/", "/eligibility/", "/hsds/")
        )
        for method, operation in item.items():
            codes = set(operation["responses"])
            if public:
                continue
            assert {"401", "429"} <= codes, (method, path)
            assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


def test_schema_and_docs_are_served_by_the_app(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "cdn" not in docs.content.decode().lower()


def test_each_section_body_is_its_forms_fields(directory):
    """The API names a section's fields as its form does, but for one region code (A07, D06)
    and one treatment plan (D07) instead of the form's selects; every field has its code."""
    application = Application(child_id=None)
    for key, form_class in SECTION_FORMS.items():
        form = form_class(application=application)
        from_form = {api_field(key, name) for name in form.fields}
        assert set(SECTION_SERIALIZERS[key]().fields) == from_form, key
        for name in from_form:
            assert re.fullmatch(f"{key}0[0-9]", field_code(key, name) or ""), (key, name)
    assert set(TreatmentPlanSerializer().fields) == set(TREATMENTS)


def test_the_directory_is_exported_as_hsds(client, directory, django_assert_num_queries):
    # members, their projects with rules, category names; the rate counter
    with django_assert_num_queries(3 + THROTTLE_QUERIES):
        response = client.get("/api/v1/hsds/")
    body = response.json()
    assert response.status_code == 200 and body["version"] == "3.0"
    assert len(body["organizations"]) == 8 and len(body["services"]) == 24
    crcf = body["organizations"][0]
    assert crcf["name"] == "中国红十字基金会"
    assert crcf["alternate_name"] == "China Red Cross Foundation"
    assert "基金会" in crcf["description"]  # the member's kind, in Chinese
    services = {s["name"]: s for s in body["services"]}
    p01 = services["小天使基金"]
    assert p01["organization_id"] == crcf["id"] and p01["status"] == "active"
    assert p01["eligibility_description"].startswith("年龄：")
    assert "白血病" in p01["eligibility_description"]
    assert p01["minimum_age"] == 0 and p01["maximum_age"] == 19
    assert p01["service_areas"][0]["name"] == "全国"
    assert "演示数据" in p01["alert"]
    west = services["博爱血液病救助（西部）"]
    assert [area["name"] for area in west["service_areas"]][:2] == ["广西壮族自治区", "四川省"]
    assert west["service_areas"][0]["description"].startswith("户籍")
    ids = [s["id"] for s in body["services"]] + [o["id"] for o in body["organizations"]]
    ids += [a["id"] for s in body["services"] for a in s["service_areas"]]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(value).version == 5 for value in ids)


def test_hsds_ids_are_derived_from_codes_so_they_never_change(client, directory):
    first = client.get("/api/v1/hsds/").json()
    # Pinned: other platforms store these ids.
    assert first["organizations"][0]["id"] == "3a8c5847-b4b3-5bac-8620-f21ff38adb6f"
    assert first["services"][0]["id"] == "934328d9-6edc-541d-a3d6-7d6d243fa321"
    assert client.get("/api/v1/hsds/").json() == first
