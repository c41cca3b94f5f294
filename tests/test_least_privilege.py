"""Least privilege (issue 10, PIPL art. 51; standard.md §5): ID and bank numbers encrypted at
rest and masked on every page, API response and PDF; shown in full only on an explicit,
recorded reveal to those whose task needs them; a member never sees another member's
internal notes.

The case: alice (member 1) entered the application; bob (member 1's reviewer) took it with
an internal note and pledged; dave (member 2's reviewer) pledged too and paid; erin
(member 3's reviewer) only reviews it.
"""

import io
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cases import crypto
from cases.bills import services as bills
from cases.management.commands import reencrypt_fields
from cases.models import AccessRecord, Application, Child, Guardian, Payment
from cases.review import services as workflow
from organizations.models import MemberOrganization, User
from organizations.services import user_create
from tests.intake_data import CHILD_ID, GUARDIAN_1_ID, GUARDIAN_2_ID
from tests.test_backup_restore import data, fresh_database, media, restore_target  # noqa: F401
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db

ACCOUNT = "6217000012345678"  # G04 as typed "6217 0000 1234 5678" (tests/intake_data.py)
DAVE_ACCOUNT = "6228480012345678901"
IDS = (CHILD_ID, GUARDIAN_1_ID, GUARDIAN_2_ID)
NUMBERS = (*IDS, ACCOUNT, DAVE_ACCOUNT)
NOTE = "INTERNAL-M1-家访发现情况"
TODAY = timezone.localdate()


@pytest.fixture
def case(people):
    application = submitted(people["alice"])
    bob_review = workflow.review_take(review=review_of(application, 1), by=people["bob"], note=NOTE)
    bob_pledge = workflow.review_approve(
        review=bob_review,
        project=project("P01"),
        amount=Decimal(15000),
        by=people["bob"],
        note=NOTE + " approve",
    )
    dave_pledge = workflow.review_approve(
        review=review_of(application, 2),
        project=project("P04"),
        amount=Decimal(10000),
        by=people["dave"],
    )
    receipt = bills.receipt_record(
        application=application,
        by=people["bob"],
        code="11010124",
        number="0012345678",
        check_code="8a3f21",
        hospital="北京儿童医院",
        issued_on=TODAY - timedelta(days=3),
        kind="inpatient",
        patient_number="ZY2026-0815",
        total=Decimal("50000"),
        insurance_fund=Decimal("30000"),
        co_payment=Decimal("12000"),
        self_paid=Decimal("8000"),
    )
    for pledge, by, amount, account in (
        (bob_pledge, people["bob"], 5000, ACCOUNT),
        (dave_pledge, people["dave"], 3000, DAVE_ACCOUNT),
    ):
        bills.allocation_create(review=pledge, receipt=receipt, amount=Decimal(amount), by=by)
        bills.payment_record(
            review=pledge,
            by=by,
            paid_on=TODAY,
            payee_kind="hospital",
            payee_name="北京儿童医院",
            bank_name="中国银行",
            account_number=account,
            amount=Decimal(amount),
            method="bank_transfer",
        )
    erin = user_create(
        by=None,
        username="erin",
        password="pw",
        role=User.Role.REVIEWER,
        organization=MemberOrganization.objects.get(number=3),
    )
    return {
        "application": application,
        "bob_pledge": bob_pledge,
        "dave_pledge": dave_pledge,
        "receipt": receipt,
        "erin": erin,
    }


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "application.pdf"
    path.write_bytes(content)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def body(response, tmp_path) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return pdf_text(content, tmp_path)
    return content.decode("utf-8", errors="replace")


def leaks(text: str, *, numbers=NUMBERS, note=True) -> list[str]:
    found = [number for number in numbers if number in text]
    if note and "INTERNAL-M1" in text:
        found.append("internal note")
    return found


# --- what another member's reviewer gets -------------------------------------------------


def test_another_members_reviewer_never_sees_notes_or_full_numbers(client, people, case, tmp_path):
    application, dave_pledge = case["application"], case["dave_pledge"]
    bob_pledge, receipt = case["bob_pledge"], case["receipt"]
    ref = application.reference
    dave_payment = Payment.objects.get(review=dave_pledge)
    client.force_login(people["dave"])
    # Every page, API read, PDF and export member 2's reviewer can reach (or is refused).
    expected = {
        f"/applications/{ref}/": 200,
        "/applications/": 200,
        "/inbox/": 200,
        "/payments/": 200,
        f"/pledges/{dave_pledge.pk}/": 200,
        f"/pledges/{bob_pledge.pk}/": 404,
        f"/receipts/{receipt.pk}/": 200,
        f"/applications/{ref}/edit/": 403,
        f"/applications/{ref}/receipt/": 403,
        f"/reports/applications/{ref}/pdf/": 200,
        "/reports/download/?period=2026&format=csv": 403,
        "/reports/authorities/?period=2026&format=csv&full=1": 403,
        "/api/v1/applications/": 200,
        f"/api/v1/applications/{ref}/": 200,
        **{f"/api/v1/applications/{ref}/sections/{key}/": 200 for key in "ABCDEGH"},
        f"/api/v1/documents/?application={ref}": 200,
        "/api/v1/reviews/": 200,
        f"/api/v1/reviews/{dave_pledge.pk}/": 200,
        f"/api/v1/reviews/{bob_pledge.pk}/": 404,
        "/api/v1/receipts/": 200,
        f"/api/v1/receipts/{receipt.pk}/": 200,
        "/api/v1/allocations/": 200,
        "/api/v1/payments/": 200,
        f"/api/v1/payments/{dave_payment.pk}/": 200,
        "/api/v1/reports/figures/?period=2026": 403,
    }
    problems = {}
    for url, status in expected.items():
        response = client.get(url)
        text = body(response, tmp_path)
        if response.status_code != status or leaks(text):
            problems[url] = (response.status_code, leaks(text))
    assert not problems
    # The masked forms are there: the page is not simply empty.
    page = client.get(f"/applications/{ref}/").content.decode()
    assert CHILD_ID[:6] + "********" + CHILD_ID[-4:] in page
    assert "*" * 12 + ACCOUNT[-4:] in page
    api = client.get(f"/api/v1/applications/{ref}/").json()
    assert api["sections"]["A"]["id_number"] == CHILD_ID[:6] + "********" + CHILD_ID[-4:]
    assert api["sections"]["G"]["account_number"].endswith(ACCOUNT[-4:])


def test_the_entering_member_and_the_secretariat_see_the_note_where_they_may(client, people, case):
    """The other side of the test above, so that it can fail: member 1 reads its own note."""
    ref = case["application"].reference
    client.force_login(people["bob"])
    assert NOTE in client.get(f"/applications/{ref}/").content.decode()
    review = client.get(f"/api/v1/reviews/{case['bob_pledge'].pk}/").json()
    assert NOTE in [event["internal_note"] for event in review["events"]]


def test_numbers_are_masked_for_the_entering_member_too_until_revealed(
    client, people, case, tmp_path
):
    ref = case["application"].reference
    client.force_login(people["alice"])
    page = client.get(f"/applications/{ref}/").content.decode()
    assert not leaks(page, numbers=(*IDS, ACCOUNT), note=False)  # its own member's note
    assert "显示完整号码" in page or "Show full numbers" in page
    assert not AccessRecord.objects.filter(view="reveal").exists()

    revealed = client.post(f"/applications/{ref}/reveal/")
    assert revealed.status_code == 200
    text = revealed.content.decode()
    assert all(number in text for number in (*IDS, ACCOUNT))
    record = AccessRecord.objects.get(view="reveal")
    assert record.user == people["alice"] and record.application == case["application"]
    assert record.detail.startswith("page:") and "g1_id_number" in record.detail
    # One response only: the next page view is masked again.
    again = client.get(f"/applications/{ref}/").content.decode()
    assert not leaks(again, numbers=IDS, note=False)
    # The PDF likewise: masked, full on request (recorded).
    pdf = body(client.get(f"/reports/applications/{ref}/pdf/"), tmp_path)
    assert not leaks(pdf, numbers=(*IDS, ACCOUNT), note=False)
    full = body(client.get(f"/reports/applications/{ref}/pdf/?full=1"), tmp_path)
    assert CHILD_ID in full and ACCOUNT in full
    assert AccessRecord.objects.filter(view="reveal", detail__startswith="pdf:").count() == 1


def test_the_reveal_is_a_post_with_csrf(people, case):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(people["alice"])
    ref = case["application"].reference
    assert client.get(f"/applications/{ref}/reveal/").status_code == 405
    assert client.post(f"/applications/{ref}/reveal/").status_code == 403  # no CSRF token
    assert not AccessRecord.objects.filter(view="reveal").exists()


def test_a_pledging_member_may_reveal_the_bank_account_only(client, people, case, tmp_path):
    ref = case["application"].reference
    client.force_login(people["dave"])
    page = client.post(f"/applications/{ref}/reveal/").content.decode()
    assert ACCOUNT in page
    assert not leaks(page, numbers=IDS)
    pledge = client.post(f"/pledges/{case['dave_pledge'].pk}/reveal/").content.decode()
    assert ACCOUNT in pledge and DAVE_ACCOUNT in pledge
    api = client.get(f"/api/v1/applications/{ref}/reveal/").json()
    assert api["account_number"] == ACCOUNT
    assert api["id_number"] is None and api["g1_id_number"] is None
    pdf = body(client.get(f"/reports/applications/{ref}/pdf/?full=1"), tmp_path)
    assert ACCOUNT in pdf and not leaks(pdf, numbers=IDS)
    views = sorted(AccessRecord.objects.filter(user=people["dave"]).values_list("view", flat=True))
    assert views.count("reveal") == 3 and views.count("api-reveal") == 1


def test_a_member_without_a_pledge_cannot_reveal_anything(client, people, case, tmp_path):
    ref = case["application"].reference
    client.force_login(case["erin"])
    assert client.get(f"/applications/{ref}/").status_code == 200
    refused = [
        client.post(f"/applications/{ref}/reveal/"),
        client.get(f"/api/v1/applications/{ref}/reveal/"),
        client.get(f"/reports/applications/{ref}/pdf/?full=1"),
        client.post(f"/pledges/{case['dave_pledge'].pk}/reveal/"),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 404]
    assert not any(leaks(body(r, tmp_path)) for r in refused)
    assert not AccessRecord.objects.filter(view__in=["reveal", "api-reveal"]).exists()


def test_the_payment_form_takes_the_masked_g04_account_when_left_empty(client, people, case):
    application, pledge = case["application"], case["bob_pledge"]
    client.force_login(people["bob"])
    page = client.get(f"/pledges/{pledge.pk}/").content.decode()
    assert ACCOUNT not in page and "*" * 12 + ACCOUNT[-4:] in page
    bills.allocation_create(
        review=pledge, receipt=case["receipt"], amount=Decimal(1000), by=people["bob"]
    )
    response = client.post(
        f"/pledges/{pledge.pk}/pay/",
        {
            "paid_on": TODAY.isoformat(),
            "amount": "1000",
            "payee_kind": application.payee_kind,
            "payee_name": "北京儿童医院",
            "bank_name": "中国银行",
            "account_number": "",
            "method": "bank_transfer",
        },
    )
    assert response.status_code == 302
    assert Payment.objects.filter(review=pledge).order_by("pk").last().account_number == ACCOUNT


# --- encryption at rest -------------------------------------------------------------------------


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_no_table_holds_a_number_in_plain_text(case):
    assert Child.objects.get(pk=case["application"].child_id).id_number == CHILD_ID
    for model in apps.get_app_config("cases").get_models():
        for row in raw(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}"):  # noqa: S608
            assert not leaks(str(row), note=False), model


def test_the_stored_value_is_ciphertext_that_decrypts_back(case):
    child_id = case["application"].child_id
    [(stored, digest)] = raw(
        "SELECT id_number, id_number_hash FROM cases_child WHERE id = %s", [child_id]
    )
    assert stored.startswith("v1$" + crypto.current_key_id() + "$")
    assert CHILD_ID not in stored
    assert crypto.decrypt(stored, context="cases_child.id_number") == CHILD_ID
    assert digest == crypto.keyed_hash(CHILD_ID) and len(digest) == 64
    # The same number is stored differently each time (a fresh nonce) ...
    again = crypto.encrypt(CHILD_ID, context="cases_child.id_number")
    assert again != stored
    # ... and its ciphertext opens in its own column only, and not once changed.
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(stored, context="cases_guardian.id_number")
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, context="cases_child.id_number")
    [(account,)] = raw(
        "SELECT account_number FROM cases_application WHERE id = %s", [case["application"].pk]
    )
    assert ACCOUNT not in account
    assert crypto.decrypt(account, context="cases_application.account_number") == ACCOUNT


def test_exact_search_goes_through_the_keyed_hash(client, people, case):
    child = Child.objects.get(pk=case["application"].child_id)
    typed = " " + CHILD_ID[:6] + " " + CHILD_ID[6:].lower().replace("x", "ｘ")  # full width
    assert Child.objects.get(id_number_hash=crypto.keyed_hash(typed)) == child
    assert Guardian.objects.filter(id_number_hash=crypto.keyed_hash(GUARDIAN_1_ID)).count() == 1
    client.force_login(people["alice"])
    page = client.get("/applications/", {"q": CHILD_ID.lower()})
    assert [a.reference for a in page.context["page"]] == [case["application"].reference]
    with pytest.raises(FieldError, match="id_number_hash"):
        list(Child.objects.filter(id_number=CHILD_ID))
    with pytest.raises(FieldError):
        list(Child.objects.filter(id_number__startswith="110105"))
    assert Child.objects.filter(id_number="").count() == 0


def test_a_partial_save_cannot_leave_the_hash_behind(case):
    child = Child.objects.get(pk=case["application"].child_id)
    child.id_number = "110105201803101236"
    with pytest.raises(ValueError, match="id_number_hash"):
        child.save(update_fields=["id_number"])
    child.save(update_fields=["id_number", "id_number_hash"])
    assert Child.objects.filter(id_number_hash=crypto.keyed_hash("110105201803101236")).exists()


def test_a_new_key_encrypts_while_the_old_one_still_decrypts(settings, case):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    old_id = crypto.current_key_id()
    settings.FIELD_ENCRYPTION_KEYS = ["q" * 43 + "=", old_key]
    assert crypto.current_key_id() != old_id
    application = Application.objects.get(pk=case["application"].pk)
    assert application.account_number == ACCOUNT  # written under the old key
    call_command("reencrypt_fields", stdout=io.StringIO())
    for table, column, _hash in reencrypt_fields.encrypted_columns():
        quoted = connection.ops.quote_name(column)
        stored = raw(f"SELECT {quoted} FROM {table} WHERE {quoted} <> ''")  # noqa: S608
        assert stored and {value.split("$")[1] for (value,) in stored} == {
            crypto.current_key_id()
        }, table
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key dropped
    assert Application.objects.get(pk=application.pk).account_number == ACCOUNT
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(crypto.DecryptionError, match="no configured key"):
        Application.objects.get(pk=application.pk)


def test_a_new_hash_key_needs_the_hashes_refreshed(settings, case):
    settings.FIELD_HASH_KEY = "n" * 40
    assert not Child.objects.filter(id_number_hash=crypto.keyed_hash(CHILD_ID)).exists()
    call_command("reencrypt_fields", stdout=io.StringIO())
    assert Child.objects.filter(id_number_hash=crypto.keyed_hash(CHILD_ID)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_can_be_reversed():
    from django.db.migrations.executor import MigrationExecutor

    before = [("cases", "0008_consent_withdrawal_and_anonymisation")]

    def migrate(targets=None):
        executor = MigrationExecutor(connection)
        executor.migrate(targets or executor.loader.graph.leaf_nodes())
        return executor

    try:
        old = migrate(before).loader.project_state(before).apps
        child = old.get_model("cases", "Child").objects.create(id_number=CHILD_ID)
        migrate()
        [(stored, digest)] = raw(
            "SELECT id_number, id_number_hash FROM cases_child WHERE id = %s", [child.pk]
        )
        assert stored.startswith("v1$") and digest == crypto.keyed_hash(CHILD_ID)
        assert Child.objects.get(pk=child.pk).id_number == CHILD_ID
        migrate(before)
        assert raw("SELECT id_number FROM cases_child WHERE id = %s", [child.pk]) == [(CHILD_ID,)]
    finally:
        migrate()


def test_a_masked_number_sent_back_in_a_patch_keeps_the_stored_one(client, people):
    from cases.intake import services
    from tests.test_workflow import fill

    draft = fill(services.application_create(by=people["alice"]), people["alice"])
    client.force_login(people["alice"])
    url = f"/api/v1/applications/{draft.reference}/sections/A/"
    section = client.get(url).json()
    assert section["id_number"] == CHILD_ID[:6] + "********" + CHILD_ID[-4:]
    changed = client.patch(
        url, {**section, "address": "北京市海淀区某路 2 号"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.json()
    child = Child.objects.get(pk=draft.child_id)
    assert child.id_number == CHILD_ID and child.address == "北京市海淀区某路 2 号"
    # A masked value that is not the stored number's is checked as typed, and refused.
    wrong = client.patch(url, {"id_number": "110105********0000"}, content_type="application/json")
    assert wrong.status_code == 400
    assert Child.objects.get(pk=draft.child_id).id_number == CHILD_ID


def test_a_mistyped_number_kept_in_a_draft_is_encrypted_too(client, people):
    from cases.intake import services
    from tests.test_workflow import querydict

    alice = people["alice"]
    draft = services.application_create(by=alice)
    typo = CHILD_ID[:-1] + ("1" if CHILD_ID[-1] == "0" else "0")  # a wrong check character
    result = services.section_save(
        application=draft,
        section="A",
        data=querydict({"id_type": "resident_id", "id_number": typo}),
        by=alice,
    )
    assert "id_number" in result.form.errors
    [(pending,)] = raw("SELECT pending_input FROM cases_application WHERE id = %s", [draft.pk])
    assert typo not in str(pending) and "v1$" in str(pending)
    client.force_login(alice)
    assert typo in client.get(f"/applications/{draft.reference}/edit/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_ciphertext_that_the_restored_database_decrypts(
    data,  # noqa: F811 - the fixture of tests/test_backup_restore.py
    media,  # noqa: F811
    tmp_path,
    request,
):
    import dj_database_url

    backup = tmp_path / "backup"
    call_command("backup_data", output=str(backup))
    if connection.vendor == "sqlite":  # pg_dump's custom format is compressed: not searchable
        assert CHILD_ID.encode() not in (backup / "database.sqlite3").read_bytes()
    target = restore_target(tmp_path, request)
    call_command(
        "restore_data",
        input=str(backup),
        database_url=target,
        media_root=str(tmp_path / "restored-media"),
    )
    config = dj_database_url.parse(target)
    if connection.vendor == "sqlite":
        import sqlite3

        restored = sqlite3.connect(config["NAME"])
    else:
        import psycopg

        restored = psycopg.connect(
            dbname=config["NAME"], host=config["HOST"], port=config["PORT"], user=config["USER"]
        )
    try:
        cursor = restored.cursor()
        cursor.execute("SELECT id_number, id_number_hash FROM cases_child")
        [(stored, digest)] = cursor.fetchall()
    finally:
        restored.close()
    assert stored.startswith("v1$") and CHILD_ID not in stored
    assert crypto.decrypt(stored, context="cases_child.id_number") == CHILD_ID
    assert digest == crypto.keyed_hash(CHILD_ID)
