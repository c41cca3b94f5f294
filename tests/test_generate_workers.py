"""generate_demo_cases with several worker processes (PostgreSQL): the workers' rows never
collide, every submitted application is routed, and a seed with a number of workers makes
the same rows again."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from cases import references
from cases.models import Application, MemberReview, Receipt
from organizations.models import MemberOrganization
from tests.test_multi_server import _server_env

BASE_DIR = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="workers write at once through their own connections: needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def generate(count: int, seed: int, workers: int) -> str:
    """The command in its own process, as an operator runs it: its workers are forked from
    that process, never from the test runner (whose connections they would inherit)."""
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "generate_demo_cases",
            f"--count={count}",
            f"--seed={seed}",
            f"--workers={workers}",
            "--until=2026-06-30",
            "--batch=25",
            "--i-know-this-is-demo",
        ],
        cwd=BASE_DIR,
        env=_server_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def content() -> Counter:
    """What was generated, without keys or references (they differ from run to run only
    in the order the workers' rows arrive)."""
    return Counter(
        Application.objects.values_list(
            "child__name", "child__dob", "status", "estimated_cost", "created_at"
        )
    )


def test_three_workers_make_distinct_rows_and_route_every_submission(people):
    output = generate(90, seed=5, workers=3)
    assert "Generated 90 applications" in output and "3 workers" in output
    refs = list(Application.objects.values_list("reference", flat=True))
    assert len(refs) == len(set(refs)) == 90
    # Each worker keeps the references of its own residue: all three residues appear.
    residues = {references.ALPHABET.index(ref.rsplit("-", 1)[1][0]) % 3 for ref in refs}
    assert residues == {0, 1, 2}
    receipts = list(Receipt.objects.values_list("code", "number"))
    assert len(receipts) == len(set(receipts))
    members = MemberOrganization.objects.filter(is_active=True).count()
    submitted = Application.objects.exclude(status=Application.Status.DRAFT).count()
    assert submitted > 0
    assert MemberReview.objects.count() == submitted * members


def test_the_same_seed_and_workers_make_the_same_rows(people):
    generate(40, seed=9, workers=2)
    first = content()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE cases_payment, cases_allocation, cases_receipt, cases_reviewevent, "
            "cases_memberreview, cases_guardian, cases_accessrecord, cases_applicationevent, "
            "cases_document, cases_otheraid, cases_application, cases_child, cases_pledged, "
            "cases_reviewcount CASCADE"
        )
    generate(40, seed=9, workers=2)
    assert content() == first
    generate(40, seed=10, workers=2)
    assert content() != first
