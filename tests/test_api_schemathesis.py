"""Schemathesis against the app's own OpenAPI schema, through WSGI (no server, no network).

Every operation gets generated requests — valid ones and, for each parameter and body
field, invalid ones — sent with the token of a member's reviewer who has an application,
a pledge and a receipt to see. Checks: no 5xx, and every response conforms to the schema.
The figures (operations, cases) are printed at the end of the run.
"""

import json
from collections import Counter
from decimal import Decimal

import pytest
import schemathesis
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from aid_alliance.throttling import ClientRateThrottle
from cases.bills import services as bills
from cases.intake import services
from cases.review import services as workflow
from organizations.models import MemberOrganization, User
from organizations.services import directory_load, user_create
from tests.conftest import DIRECTORY, api_token_for
from tests.intake_data import PDF_BYTES
from tests.test_api_cases import PAYMENT, TODAY, recorded
from tests.test_workflow import project, review_of, submitted

# Random examples per operation, besides schemathesis's coverage cases (each field's
# boundary and invalid values): about three thousand requests, a minute and a half.
EXAMPLES_PER_OPERATION = 5
FIGURES = Counter()  # "cases", "4xx"
OPERATIONS = set()


def served_schema():
    """The schema /api/schema/ serves, built the same way but without a request: the test
    is parametrized per operation when the module is collected, before any database."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = WSGIHandler()  # requests go through the WSGI app, not a network
    return loaded


schema = served_schema()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """What the reviewer bob (member 1) has to work on, and the path values that reach it.

    Made once for the module inside a transaction that is rolled back at its end; each
    operation's test runs in a savepoint inside it (pytest-django's own), so what the
    generated requests change is undone after each operation.
    """
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A local cache: the rate counters would cost each of the thousands of requests six
    # queries, and the limits answer 429 long before the generated requests run out.
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(PASSWORD_HASHERS=fast, CACHES=local),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setitem(ClientRateThrottle.THROTTLE_RATES, "user", "100000/minute")
        patch.setitem(ClientRateThrottle.THROTTLE_RATES, "anon", "100000/minute")
        # Django closes the database connection after each request, and with it the test's
        # transaction; its test client holds the connection open like this, so do we.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield _demo_data()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        transaction.set_rollback(True)


def _demo_data() -> dict:
    directory_load(data=yaml.safe_load(DIRECTORY.read_text(encoding="utf-8")))
    m1 = MemberOrganization.objects.get(number=1)
    alice = user_create(
        by=None, username="alice", password="pw", role=User.Role.CASEWORKER, organization=m1
    )
    bob = user_create(
        by=None, username="bob", password="pw", role=User.Role.REVIEWER, organization=m1
    )
    application = submitted(alice)
    review = workflow.review_approve(
        review=review_of(application, 1), project=project("P01"), amount=Decimal(15000), by=bob
    )
    receipt = recorded(application, bob)
    allocation = bills.allocation_create(
        review=review, receipt=receipt, amount=Decimal(500), by=bob
    )
    payment = bills.payment_record(
        review=review, by=bob, **{**PAYMENT, "paid_on": TODAY, "amount": Decimal(100)}
    )
    draft = services.application_create(by=bob)
    document = services.document_upload(
        application=draft,
        doc_type="guardian_id",
        flag="",
        upload=SimpleUploadedFile("id.pdf", PDF_BYTES),
        by=bob,
    )
    return {
        "token": api_token_for(bob),
        "draft": draft.reference,
        "submitted": application.reference,
        "reviews": review.pk,
        "review_id": review.pk,
        "receipts": receipt.pk,
        "allocations": allocation.pk,
        "payments": payment.pk,
        "documents": document.pk,
    }


def aim(case, demo) -> None:
    """Point the case's path at the demo's objects, so that the generated bodies and queries
    meet real applications, reviews and receipts instead of a 404. (Who may see what is
    tested in tests/test_api_cases.py.)"""
    parameters = case.path_parameters or {}
    if "reference" in parameters:
        after_submission = ("/receipts/", "/withdraw/", "/close/", "/revise-estimate/", "/answer/")
        submitted_only = any(part in case.operation.path for part in after_submission)
        parameters["reference"] = demo["submitted" if submitted_only else "draft"]
    if "review_id" in parameters:
        parameters["review_id"] = demo["review_id"]
    if "id" in parameters:
        collection = case.operation.path.split("/")[3]  # /api/v1/<collection>/{id}/…
        parameters["id"] = demo[collection]


@pytest.fixture(scope="module", autouse=True)
def _report_figures(request):
    yield
    if FIGURES["cases"]:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(
                f"\nschemathesis: {len(OPERATIONS)} operations, {FIGURES['cases']} cases passed "
                f"both checks ({FIGURES['4xx']} of them answered with a 4xx)"
            )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_every_generated_request_within_its_schema(case, demo, db):
    aim(case, demo)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {demo['token']}", "Accept-Language": "en"},
        checks=[not_a_server_error, response_schema_conformance],
    )
    FIGURES["cases"] += 1  # counted once both checks passed
    OPERATIONS.add(case.operation.label)
    if 400 <= response.status_code < 500:
        FIGURES["4xx"] += 1
