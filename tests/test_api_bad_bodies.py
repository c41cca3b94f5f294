"""Malformed bodies to the API (issue 10): every one a 4xx in the API's one error shape
({"detail", "errors"}), never a 500, and nothing stored half-way."""

import json

import pytest
from django.conf import settings as django_settings

from cases.models import AccessRecord, Application, ApplicationEvent, Receipt, ReviewEvent
from tests.conftest import api_token_for
from tests.test_api_cases import API, RECEIPT, api_sections
from tests.test_workflow import review_of, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_of(people):
    secrets = {}
    return lambda name: secrets.setdefault(name, api_token_for(people[name]))


@pytest.fixture
def send(client, token_of):
    """POST or PATCH raw bytes as a member system would, in English."""

    def send(method, path, body, *, user="alice", content_type="application/json"):
        if not isinstance(body, bytes):
            body = body.encode()
        return client.generic(
            method,
            API + path,
            body,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Token {token_of(user)}",
            HTTP_ACCEPT_LANGUAGE="en",
        )

    return send


def refusal(response, status=400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    return body


@pytest.fixture
def draft_reference(send):
    response = send("POST", "/applications/", "{}")
    assert response.status_code == 201
    return response.json()["reference"]


def counts():
    return (
        Application.objects.count(),
        ApplicationEvent.objects.count(),
        Receipt.objects.count(),
        ReviewEvent.objects.count(),
    )


# --- the body as a whole -----------------------------------------------------------------------


BAD_BODIES = [
    ("invalid JSON", b"{not json", "application/json", 400),
    ("truncated JSON", b'{"name": "\xe7\x8e\x8b', "application/json", 400),
    ("a list", b'["name", "x"]', "application/json", 400),
    ("a number", b"42", "application/json", 400),
    ("a string", b'"name"', "application/json", 400),
    ("null", b"null", "application/json", 400),
    ("a byte-order mark", b'\xef\xbb\xbf{"name": "x"}', "application/json", 400),
    ("not UTF-8", b'{"name": "\xff\xfe"}', "application/json", 400),
    ("NaN", b'{"name": NaN}', "application/json", 400),
    ("form data", b"name=x", "application/x-www-form-urlencoded", 415),
    ("plain text", b'{"name": "x"}', "text/plain", 415),
    ("XML", b"<name>x</name>", "application/xml", 415),
    ("a NUL character", b'{"name": "\\u0000"}', "application/json", 400),
    ("a lone surrogate", b'{"name": "\\ud800"}', "application/json", 400),
    ("a lone low surrogate", b'{"address": "x\\udc00y"}', "application/json", 400),
    ("a nested object", b'{"name": {"first": "x"}}', "application/json", 400),
    ("a list value", b'{"name": ["x"]}', "application/json", 400),
    ("true for text", b'{"name": true}', "application/json", 400),
    ("an unknown field", b'{"nickname": "x"}', "application/json", 400),
    ("a date that does not exist", b'{"dob": "2026-02-30"}', "application/json", 400),
    ("a date as a number", b'{"dob": 20260101}', "application/json", 400),
    ("a choice as a number", b'{"sex": 1}', "application/json", 400),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_a_malformed_section_patch_is_a_4xx_and_saves_nothing(
    send, draft_reference, body, content_type, status
):
    before = counts()
    response = send(
        "PATCH", f"/applications/{draft_reference}/sections/A/", body, content_type=content_type
    )
    refusal(response, status)
    assert counts() == before
    application = Application.objects.select_related("child").get(reference=draft_reference)
    assert application.child.name == "" and application.pending_input == {}


def test_a_body_beyond_the_upload_limit_is_refused_without_reading_it(send, draft_reference):
    size = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    body = json.dumps({"address": "x" * size})
    before = counts()
    response = send("PATCH", f"/applications/{draft_reference}/sections/A/", body)
    detail = refusal(response, 413)["detail"]
    assert "too large" in detail.lower()
    assert counts() == before


def test_a_number_where_text_is_expected_is_read_as_its_digits(send, draft_reference):
    """Lenient on purpose: a member system may send a receipt number as a JSON number."""
    response = send("PATCH", f"/applications/{draft_reference}/sections/A/", '{"name": 12345}')
    assert response.status_code == 200 and response.json()["name"] == "12345"


# --- amounts --------------------------------------------------------------------------------------


BAD_AMOUNTS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",  # a JSON number Python reads as infinity
    '"NaN"',
    '"Infinity"',
    "123456789012345678901234567890",
    '"123456789012345678901234567890"',
    "1e30",
    "12.345",
    '"12.345"',
    "-5",
    '"1,2,3"',
    '"12 000元"',  # typed in the browser this is 12000; the form accepts it here too
    '{"yuan": 1}',
    "[1]",
    "true",
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_in_a_section_are_a_400_naming_the_field(send, draft_reference, amount):
    before = counts()
    body = '{"income_source": "务工", "annual_income": ' + amount + "}"
    response = send("PATCH", f"/applications/{draft_reference}/sections/C/", body)
    if amount == '"12 000元"':
        assert response.status_code in (200, 400)
        return
    errors = refusal(response)["errors"]
    if not amount.startswith(("NaN", "Infinity", "-Infinity")):
        assert {e["field"] for e in errors} == {"annual_income"}, errors
    assert counts() == before
    application = Application.objects.get(reference=draft_reference)
    assert application.annual_income is None and application.income_source == ""


def test_a_section_patch_with_one_bad_field_saves_none_of_the_good_ones(send, draft_reference):
    good = api_sections()["D"]
    before = counts()
    response = send(
        "PATCH",
        f"/applications/{draft_reference}/sections/D/",
        json.dumps({**good, "estimated_cost": "1" * 30}),
    )
    assert {e["field"] for e in refusal(response)["errors"]} == {"estimated_cost"}
    assert counts() == before
    application = Application.objects.get(reference=draft_reference)
    assert (application.treating_hospital, application.icd) == ("", "")
    assert application.pending_input == {}


# --- receipts (and the other writes on a submitted application) -----------------------------------


@pytest.fixture
def routed(people):
    return submitted(people["alice"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total", "NaN"),
        ("total", "1" * 30),
        ("total", "50000.001"),
        ("total", 1e400),
        ("issued_on", "2026-02-30"),
        ("issued_on", 20261101),
        ("hospital", "x" * 101),
        ("hospital", {"name": "x"}),
        ("hospital", ["x"]),
        ("kind", 1),
        ("code", "1" * 41),
        ("patient_number", "\ud800"),
    ],
)
def test_a_bad_receipt_is_a_400_and_nothing_is_recorded(send, routed, field, value):
    before = counts()
    body = json.dumps({**RECEIPT, field: value})
    response = send("POST", f"/applications/{routed.reference}/receipts/", body, user="bob")
    refusal(response)
    assert counts() == before
    assert not AccessRecord.objects.filter(view="api-receipt").exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [case[1:] for case in BAD_BODIES[:13]],
    ids=[case[0] for case in BAD_BODIES[:13]],
)
def test_a_malformed_receipt_body_is_a_4xx(send, routed, body, content_type, status):
    before = counts()
    response = send(
        "POST",
        f"/applications/{routed.reference}/receipts/",
        body,
        content_type=content_type,
        user="bob",
    )
    refusal(response, status)
    assert counts() == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("take", b"[]"),
        ("take", b'{"note": "\\u0000"}'),
        ("take", b'{"note": "\\udfff"}'),
        ("take", b'{"note": {"a": 1}}'),
        ("take", ('{"note": "%s"}' % ("x" * 501)).encode()),
        ("approve", b'{"project": "P01", "amount": NaN}'),
        ("approve", b'{"project": "P01", "amount": "Infinity"}'),
        ("approve", b'{"project": "P01", "amount": 123456789012345678901234567890}'),
        ("approve", b'{"project": "P01", "amount": "100.001"}'),
        ("approve", b'{"project": ["P01"], "amount": 100}'),
        ("request-info", b'{"items": ["x"]}'),
        ("decline", b'{"reason": null}'),
    ],
)
def test_a_bad_review_action_body_is_a_400_and_nothing_moves(send, routed, action, body):
    review = review_of(routed, 1)
    before = counts()
    response = send("POST", f"/reviews/{review.pk}/{action}/", body, user="bob")
    refusal(response)
    assert counts() == before
    review.refresh_from_db()
    assert review.state == "pending"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("revise-estimate", b'{"estimated_cost": "1e30"}'),
        ("revise-estimate", b'{"estimated_cost": NaN}'),
        ("revise-estimate", b'{"estimated_cost": "300000.001"}'),
        ("close", b'{"reason": "recovered", "note": "\\u0000"}'),
        ("withdraw", b'{"note": "\\ud83d"}'),
    ],
)
def test_a_bad_application_action_body_is_a_400_and_nothing_changes(send, routed, path, body):
    before = counts()
    response = send("POST", f"/applications/{routed.reference}/{path}/", body)
    refusal(response)
    assert counts() == before
    routed.refresh_from_db()
    assert routed.status == "submitted" and routed.estimated_cost == 200000


def test_a_bad_eligibility_body_is_a_400_naming_what_is_wrong(client, directory):
    """The public pre-check keeps DRF's shape (field -> messages), as documented there."""
    bodies = [
        b"[]",
        b"42",
        b"{not json",
        b'{"dob": NaN}',
        b'\xef\xbb\xbf{"a": 1}',
        b'{"icd": "\\u0000"}',
    ]
    for body in bodies:
        response = client.generic(
            "POST", "/api/v1/eligibility/", body, content_type="application/json"
        )
        assert response.status_code == 400, body
        assert response.json(), body
    response = client.generic("POST", "/api/v1/eligibility/", b"{}", content_type="text/plain")
    assert response.status_code == 415


# --- nesting (issue 14) ---------------------------------------------------------------------------

DEEP = 500


def nested(depth: int, *, key: str = "name") -> bytes:
    """A small body nested `depth` levels deep inside one field (about 1 KB at 500)."""
    return b'{"%s": ' % key.encode() + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/applications/{draft}/sections/A/"),
        ("PATCH", "/applications/{draft}/sections/D/"),
        ("POST", "/applications/{draft}/withdraw/"),
    ],
)
def test_a_deeply_nested_body_is_a_400_in_the_error_shape(send, draft_reference, method, path):
    before = counts()
    response = send(method, path.format(draft=draft_reference), nested(DEEP))
    detail = refusal(response)["detail"]
    assert "nest" in detail.lower()
    assert counts() == before


def test_deep_nesting_of_objects_and_inside_strings_is_told_apart(send, draft_reference):
    path = f"/applications/{draft_reference}/sections/A/"
    deep_objects = b'{"a": ' * DEEP + b"1" + b"}" * DEEP
    assert "nest" in refusal(send("PATCH", path, deep_objects))["detail"].lower()
    # Brackets inside a string are text, not nesting (an escaped quote does not end it).
    text = json.dumps({"address": '[{"\\' + "[" * 150})
    response = send("PATCH", path, text)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["address"].endswith("[" * 150)


def test_a_review_action_with_a_deeply_nested_body_is_a_400(send, people):
    review = review_of(submitted(people["alice"]), 1)
    response = send("POST", f"/reviews/{review.pk}/take/", nested(DEEP, key="note"), user="bob")
    refusal(response)
    review.refresh_from_db()
    assert review.state == "pending"


def test_the_public_pre_check_refuses_a_deeply_nested_body_with_a_400(client, directory):
    for body in (nested(DEEP, key="plan"), nested(100_000, key="plan")):
        response = client.generic(
            "POST", "/api/v1/eligibility/", body, content_type="application/json"
        )
        assert response.status_code == 400
        assert "嵌套" in response.json()["detail"]  # in Chinese, as every public page


def test_a_form_encoded_pre_check_has_no_nesting_to_get_around_the_limit(client, directory):
    body = "plan" + "[a]" * DEEP + "=planned&household_size=" + "[" * DEEP
    response = client.generic(
        "POST", "/api/v1/eligibility/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "plan" in response.json()


def test_every_api_view_reads_json_through_the_nesting_limit():
    from django.urls import get_resolver
    from rest_framework.parsers import JSONParser

    from aid_alliance.parsers import BoundedJSONParser

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield pattern.callback

    checked = 0
    for callback in views(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            continue
        actions = getattr(callback, "actions", None) or {}
        parser_lists = [view_class.parser_classes]
        for name in set(actions.values()):
            kwargs = getattr(getattr(view_class, name, None), "kwargs", {})
            parser_lists.append(kwargs.get("parser_classes", []))
        for parsers in parser_lists:
            for parser in parsers:
                if issubclass(parser, JSONParser):
                    assert issubclass(parser, BoundedJSONParser), (view_class, parser)
                    checked += 1
    assert checked > 10


def test_the_nesting_limit_counts_levels_exactly():
    from aid_alliance.parsers import MAX_JSON_DEPTH, nesting_exceeds

    def deep(n):
        return "[" * n + "]" * n

    assert not nesting_exceeds(deep(MAX_JSON_DEPTH))
    assert nesting_exceeds(deep(MAX_JSON_DEPTH + 1))
    assert nesting_exceeds('{"a": [' + deep(MAX_JSON_DEPTH) + "]}")
    assert nesting_exceeds(deep(MAX_JSON_DEPTH + 1) * 1000)  # many deep parts, not one
    assert not nesting_exceeds("[" + "[1], " * 100_000 + "[]]")  # wide is fine
    assert nesting_exceeds("[" * 100_000)  # never closed: the decoder would go down it
    assert not nesting_exceeds('["' + "[" * 100 + '", "\\"' + "{" * 100 + '"]')
