"""Issue 10 (PIPL): the guardian withdraws consent to sharing (art. 15), and the retention
command anonymises long-closed applications with the report's figures unchanged."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from cases.bills import services as bills
from cases.intake import services
from cases.models import (
    AccessRecord,
    Allocation,
    Application,
    ApplicationEvent,
    Child,
    Document,
    Guardian,
    MemberReview,
    OtherAid,
    Payment,
    Receipt,
    ReviewEvent,
    private_storage,
)
from cases.privacy import retention
from cases.review import services as workflow
from reports.periods import CHINA, parse_period
from reports.selectors import report_figures
from tests.intake_data import PDF_BYTES, SECTIONS
from tests.test_api_cases import Api
from tests.test_workflow import as_user, fill, messages_of, project, review_of, submitted

pytestmark = pytest.mark.django_db

NOTE = "监护人书面申请撤回（2026-12-02 来电并寄回签字函）"
TODAY = timezone.localdate()
RECEIPT = {
    "code": "11010124",
    "number": "0099887766",
    "check_code": "8a3f21",
    "hospital": "北京儿童医院",
    "issued_on": TODAY - timedelta(days=3),
    "kind": "inpatient",
    "patient_number": "ZY2026-4711",
    "total": Decimal("50000"),
    "insurance_fund": Decimal("30000"),
    "co_payment": Decimal("12000"),
    "self_paid": Decimal("8000"),
}


@pytest.fixture
def english():
    """Services speak the active language (Chinese by default); these tests read English."""
    with translation.override("en"):
        yield


@pytest.fixture
def application(people):
    return submitted(people["alice"])


@pytest.fixture
def pledged(people, application):
    """Member 2 (dave) has approved 10000 with an internal note; member 3 is in review."""
    review = workflow.review_approve(
        review=review_of(application, 2),
        project=project("P04"),
        amount=Decimal(10000),
        by=people["dave"],
        note="内部备注：家访印象良好",
    )
    return review


def withdraw(application, by, note=NOTE):
    return workflow.consent_withdraw(application=application, by=by, note=note)


def upload(application, by, doc_type="diagnosis_certificate", content=PDF_BYTES):
    return services.document_upload(
        application=application,
        doc_type=doc_type,
        flag="",
        upload=SimpleUploadedFile("诊断证明.pdf", content, content_type="application/pdf"),
        by=by,
    )


# --- withdrawing consent ------------------------------------------------------------------


def test_withdrawal_ends_the_other_members_open_reviews_and_keeps_decisions(
    people, application, pledged
):
    withdraw(application, people["alice"])
    application.refresh_from_db()
    assert application.consent_withdrawn_at is not None
    assert application.consent_withdrawal_note == NOTE
    states = dict(application.reviews.values_list("member__number", "state"))
    assert states[1] == "pending"  # the entering member's own review goes on
    assert states[2] == "approved"  # what was done before stays (art. 15)
    assert {states[n] for n in range(3, 9)} == {"withdrawn"}
    ended = ReviewEvent.objects.filter(
        review__application=application, to_state="withdrawn", note=workflow.CONSENT_WITHDRAWN_NOTE
    )
    assert ended.count() == 6
    assert set(ended.values_list("actor__username", flat=True)) == {"alice"}
    event = ApplicationEvent.objects.get(application=application, action="consent_withdrawn")
    assert (event.actor.username, event.section, event.note) == ("alice", "H", NOTE)


def test_the_secretariat_may_record_a_withdrawal_but_not_another_member(people, application):
    with pytest.raises(workflow.NotAllowed):
        withdraw(application, people["carol"])
    with pytest.raises(workflow.NotAllowed):
        withdraw(application, people["dave"])
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is None
    withdraw(application, people["sam"])
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is not None


@pytest.mark.parametrize("note", ["", "   "])
def test_a_withdrawal_needs_the_note_of_how_the_guardian_withdrew(
    people, application, note, english
):
    with pytest.raises(workflow.WorkflowError, match="how the guardian withdrew"):
        withdraw(application, people["alice"], note=note)
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is None


def test_a_draft_or_an_earlier_withdrawal_is_refused(people, application, english):
    draft = services.application_create(by=people["alice"])
    with pytest.raises(workflow.WorkflowError, match="untick consent H01"):
        withdraw(draft, people["alice"])
    withdraw(application, people["alice"])
    with pytest.raises(workflow.WorkflowError, match="already recorded"):
        withdraw(application, people["bob"])


def test_submitting_or_routing_again_after_a_withdrawal_is_refused(people, application, english):
    withdraw(application, people["alice"])
    reviews = MemberReview.objects.filter(application=application).count()
    Application.objects.filter(pk=application.pk).update(status=Application.Status.DRAFT)
    with pytest.raises(services.ApplicationError, match="can no longer be submitted or routed"):
        services.application_submit(application=application, by=people["alice"])
    with pytest.raises(workflow.WorkflowError, match="can no longer be submitted or routed"):
        workflow.route(Application.objects.get(pk=application.pk), by=people["alice"])
    assert MemberReview.objects.filter(application=application).count() == reviews


def test_the_browser_page_confirms_and_records_the_withdrawal(client, people, application):
    as_user(client, people["alice"])
    url = f"/applications/{application.reference}/withdraw-consent/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="confirm"' in page.content.decode()
    refused = client.post(url, {"note": "", "confirm": "on"})
    assert refused.status_code == 400
    assert "how the guardian withdrew" in refused.context["form"].errors["note"][0]
    unconfirmed = client.post(url, {"note": NOTE})
    assert unconfirmed.status_code == 400
    assert unconfirmed.context["form"].errors["confirm"]
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is None
    done = client.post(url, {"note": NOTE, "confirm": "on"})
    assert done.status_code == 302
    assert any("no longer see" in m for m in messages_of(done))
    assert Application.objects.get(pk=application.pk).consent_withdrawal_note == NOTE
    again = client.post(url, {"note": NOTE, "confirm": "on"})
    assert again.status_code == 400
    assert "already recorded" in again.context["form"].errors["note"][0]


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_the_withdrawal_page_refuses_other_members(client, people, application, who):
    as_user(client, people[who])
    url = f"/applications/{application.reference}/withdraw-consent/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"note": NOTE, "confirm": "on"}).status_code == 403
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is None


def test_the_withdrawal_page_sends_a_visitor_without_an_account_to_log_in(client, application):
    response = client.post(
        f"/applications/{application.reference}/withdraw-consent/", {"note": NOTE, "confirm": "on"}
    )
    assert response.status_code == 302 and "/login" in response["Location"]
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is None


def test_the_api_records_a_withdrawal_for_the_owner_and_the_secretariat(client, people):
    first, second = submitted(people["alice"]), submitted(people["alice"], sequence="457")
    response = Api(client, people["bob"]).post(
        f"/applications/{first.reference}/withdraw-consent/", {"note": NOTE}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["consent_withdrawn_at"] and not response.json()["personal_data_withheld"]
    missing = Api(client, people["sam"]).post(
        f"/applications/{second.reference}/withdraw-consent/", {}
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "note"
    ok = Api(client, people["sam"]).post(
        f"/applications/{second.reference}/withdraw-consent/", {"note": NOTE}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_the_api_refuses_a_withdrawal_by_another_member(client, people, application, who):
    response = Api(client, people[who]).post(
        f"/applications/{application.reference}/withdraw-consent/", {"note": NOTE}
    )
    assert response.status_code == 403
    assert Application.objects.get(pk=application.pk).consent_withdrawn_at is None


# --- what each member sees after a withdrawal ---------------------------------------------

PERSONAL = [
    SECTIONS["A"]["name"],
    SECTIONS["B"]["g1_name"],
    SECTIONS["B"]["g1_phone"],
    SECTIONS["A"]["address"],
    SECTIONS["D"]["diagnosis_text"],
]


def test_another_member_sees_the_reference_the_member_the_banner_and_its_own_pledge(
    client, people, application, pledged
):
    withdraw(application, people["alice"])
    as_user(client, people["dave"])
    page = client.get(f"/applications/{application.reference}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert application.reference in html
    assert application.member.name_en in html  # English page: English name
    day = timezone.localtime(Application.objects.get(pk=application.pk).consent_withdrawn_at)
    assert f"The guardian has withdrawn consent to sharing ({day:%Y-%m-%d})" in html
    assert "10,000" in html  # its own pledge, for its accounts
    assert f"/pledges/{pledged.pk}/" in html
    for value in PERSONAL:
        assert value not in html
    # Every member sees the banner: the entering member and the secretariat, with the data.
    for who in ("alice", "sam"):
        as_user(client, people[who])
        html = client.get(f"/applications/{application.reference}/").content.decode()
        assert "The guardian has withdrawn consent to sharing" in html
        assert SECTIONS["A"]["name"] in html


def test_the_inbox_and_the_list_show_the_banner_and_hide_the_name_from_other_members(
    client, people, application, pledged
):
    withdraw(application, people["alice"])
    as_user(client, people["dave"])
    inbox = client.get("/inbox/").content.decode()
    assert application.reference in inbox
    assert "The guardian has withdrawn consent to sharing" in inbox
    assert SECTIONS["A"]["name"] not in inbox
    payments = client.get("/payments/").content.decode()
    assert application.reference in payments
    assert SECTIONS["A"]["name"] not in payments
    as_user(client, people["bob"])  # the entering member's inbox: banner and name
    inbox = client.get("/inbox/").content.decode()
    assert "The guardian has withdrawn consent to sharing" in inbox
    assert SECTIONS["A"]["name"] in inbox
    as_user(client, people["alice"])
    listing = client.get("/applications/").content.decode()
    assert "The guardian has withdrawn consent to sharing" in listing


def test_other_members_are_refused_every_page_with_the_childs_data(
    client, people, application, pledged
):
    document = upload(application, people["alice"])
    withdraw(application, people["alice"])
    as_user(client, people["dave"])
    reference = application.reference
    assert client.get(f"/documents/{document.pk}/").status_code == 403
    assert client.get(f"/reports/applications/{reference}/pdf/").status_code == 403
    assert client.get(f"/applications/{reference}/receipts/new/").status_code == 403
    pledge = client.get(f"/pledges/{pledged.pk}/")
    assert pledge.status_code == 200
    assert SECTIONS["A"]["name"] not in pledge.content.decode()
    # The entering member and the secretariat still read them.
    as_user(client, people["alice"])
    assert client.get(f"/documents/{document.pk}/").status_code == 200
    as_user(client, people["sam"])
    assert client.get(f"/reports/applications/{reference}/pdf/").status_code == 200


def test_the_api_withholds_the_childs_data_from_other_members(client, people, application, pledged):
    document = upload(application, people["alice"])
    withdraw(application, people["alice"])
    dave = Api(client, people["dave"])
    reference = application.reference
    body = dave.get(f"/applications/{reference}/").json()
    assert body["personal_data_withheld"] is True
    assert body["consent_withdrawn_at"]
    assert not any(body["sections"]["A"].values()) and body["documents"] == []
    assert [review["member"] for review in body["reviews"]] == [pledged.member.short_name]
    assert body["reviews"][0]["amount"] == "10000.00"
    text = str(body)
    for value in PERSONAL:
        assert value not in text
    assert dave.get(f"/applications/{reference}/sections/A/").status_code == 403
    assert dave.get(f"/documents/{document.pk}/").status_code == 403
    assert dave.get(f"/documents/{document.pk}/file/").status_code == 403
    assert dave.get("/documents/", application=reference).json()["results"] == []
    listed = [row["reference"] for row in dave.get("/applications/").json()["results"]]
    assert reference not in listed  # a member lists its own; the routed ones are in its inbox
    inbox = {row["reference"]: row for row in dave.get("/reviews/").json()["results"]}
    assert inbox[reference]["child_name"] == "" and inbox[reference]["consent_withdrawn_at"]
    assert dave.get(f"/reviews/{pledged.pk}/").json()["child_name"] == ""
    # The entering member's API still has it all.
    alice = Api(client, people["alice"])
    own = alice.get(f"/applications/{reference}/").json()
    assert own["personal_data_withheld"] is False
    assert own["sections"]["A"]["name"] == SECTIONS["A"]["name"]
    row = alice.get("/applications/").json()["results"][0]
    assert (row["reference"], row["child_name"]) == (reference, SECTIONS["A"]["name"])
    assert row["consent_withdrawn_at"] == own["consent_withdrawn_at"]


def test_an_approved_pledge_may_still_be_paid_after_a_withdrawal(people, application, pledged):
    receipt = bills.receipt_record(application=application, by=people["bob"], **RECEIPT)
    withdraw(application, people["alice"])
    bills.allocation_create(
        review=pledged, receipt=receipt, amount=Decimal(5000), note="", by=people["dave"]
    )
    bills.payment_record(
        review=MemberReview.objects.get(pk=pledged.pk),
        by=people["dave"],
        paid_on=TODAY,
        payee_kind="hospital",
        payee_name="北京儿童医院",
        bank_name="工商银行",
        account_number="6222020200112233",
        amount=Decimal(5000),
        method="bank_transfer",
        bank_reference="TX-9",
    )
    assert MemberReview.objects.get(pk=pledged.pk).paid_total == Decimal(5000)


# --- retention: anonymising long-closed applications ------------------------------------------

PERIODS = ["2025", "2026", "2025-Q1", "2025-Q4", "2026-Q2", "2026-Q3", "2026-Q4", "2026-06"]
PERIODS += ["2026-09", "2026-10", "2026-11", "2025-11"]


def figures_of(periods, now):
    return {code: report_figures(parse_period(code), now=now) for code in periods}


def everything_stored(application_ids) -> str:
    """Every value of every row that belongs to these applications, as text (through the
    models, so encrypted numbers are compared as they read)."""
    rows = []
    for model, lookup in (
        (Application, "pk__in"),
        (Guardian, "application_id__in"),
        (OtherAid, "application_id__in"),
        (Document, "application_id__in"),
        (ApplicationEvent, "application_id__in"),
        (MemberReview, "application_id__in"),
        (ReviewEvent, "review__application_id__in"),
        (Receipt, "application_id__in"),
        (Allocation, "review__application_id__in"),
        (Payment, "review__application_id__in"),
        (AccessRecord, "application_id__in"),
    ):
        rows += list(model.objects.filter(**{lookup: application_ids}).values())
    children = Application.objects.filter(pk__in=application_ids).values("child_id")
    rows += list(Child.objects.filter(pk__in=children).values())
    return repr(rows)


def personal_values(applications) -> set[str]:
    """What names or reaches the child and the family. A hospital's account (payee G01 the
    hospital) is the hospital's, kept on the member's payments; free texts are checked
    field by field (a generated diagnosis is a disease's name, also in the eligibility)."""
    values = set()
    for application in applications:
        child = application.child
        values |= {child.name, child.id_number, child.address}
        if application.payee_kind == Application.PayeeKind.GUARDIAN:
            values |= {application.account_number, application.account_name}
        for guardian in application.guardians.all():
            values |= {guardian.name, guardian.id_number, guardian.phone}
    return {value for value in values if value and len(value) >= 2}


def test_anonymising_keeps_every_report_figure_and_leaves_no_personal_value(people):
    call_command(
        "generate_demo_cases",
        "--count=160",
        "--seed=7",
        "--until=2026-11-20",
        "--i-know-this-is-demo",
        stdout=io.StringIO(),
    )
    now = datetime(2026, 12, 1, 12, tzinfo=CHINA)
    days = 60
    # Besides the few the generator closes, a third of the older submitted applications
    # (with their pledges, receipts and payments) were closed two months after submission.
    older = Application.objects.filter(
        status=Application.Status.SUBMITTED, submitted_at__lt=now - timedelta(days=days + 90)
    ).order_by("pk")
    for application in list(older)[::3]:
        Application.objects.filter(pk=application.pk).update(
            status=Application.Status.CLOSED,
            closing_reason=Application.ClosingReason.TREATMENT_ENDED,
            closed_at=application.submitted_at + timedelta(days=60),
        )
    due = list(
        retention.due_for_anonymisation(older_than_days=days, now=now).select_related("child")
    )
    assert len(due) >= 30, "the generated data has applications closed long enough ago"
    assert Payment.objects.filter(review__application__in=due).exists()
    assert Receipt.objects.filter(application__in=due).exists()
    kept = Application.objects.exclude(pk__in=[a.pk for a in due]).filter(
        status=Application.Status.SUBMITTED
    )
    kept_before = everything_stored([a.pk for a in kept])
    secrets = personal_values(due)
    assert len(secrets) > 100
    before = figures_of(PERIODS, now)
    assert sum(f.received for f in before.values()) > 0

    run = retention.anonymise_closed(older_than_days=days, by=people["sam"], batch=7, now=now)

    assert run.anonymised == len(due) and run.batches == -(-len(due) // 7)
    assert figures_of(PERIODS, now) == before
    stored = everything_stored([a.pk for a in due])
    leaks = [value for value in secrets if value in stored]
    assert not leaks
    assert everything_stored([a.pk for a in kept]) == kept_before
    for application in Application.objects.filter(pk__in=[a.pk for a in due]):
        assert application.anonymised_at == now
        texts = ("diagnosis_text", "assets_debts", "income_source", "treating_hospital")
        assert all(getattr(application, name) == "" for name in texts)
        assert application.events.filter(action="anonymised", actor=people["sam"]).exists()
    # Once more: nothing is left to do, nothing changes.
    again = retention.anonymise_closed(older_than_days=days, by=people["sam"], now=now)
    assert again.anonymised == 0 and again.due == 0
    assert everything_stored([a.pk for a in due]) == stored


def _close_long_ago(application, by, years=6):
    workflow.application_close(application=application, reason="treatment_ended", by=by)
    then = timezone.now() - timedelta(days=365 * years)
    Application.objects.filter(pk=application.pk).update(closed_at=then)


def test_what_an_anonymised_application_keeps_and_loses(
    people, application, pledged, django_capture_on_commit_callbacks
):
    alice = people["alice"]
    document = upload(application, alice)
    scan = SimpleUploadedFile("票据.pdf", PDF_BYTES + b"%scan", content_type="application/pdf")
    receipt = bills.receipt_record(application=application, by=people["bob"], scan=scan, **RECEIPT)
    stored_files = [document.file.name, receipt.scan.file.name]
    assert all(private_storage().exists(name) for name in stored_files)
    withdraw(application, alice)
    _close_long_ago(application, alice)

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        call_command("anonymise_closed", "--by=sam", stdout=out)  # the default: five years
    assert "Anonymised 1 applications" in out.getvalue()

    application.refresh_from_db()
    child = Child.objects.get(pk=application.child_id)
    assert application.anonymised_at is not None
    assert (child.name, child.id_number, child.address, child.ethnicity) == ("", "", "", "")
    assert child.household_region == "110000" and child.dob == date(2018, 1, 1)
    assert child.sex == "male"
    assert (application.account_number, application.account_name) == ("", "")
    assert (application.diagnosis_text, application.consent_withdrawal_note) == ("", "")
    assert application.hospital_region == "110000"
    assert (application.icd, application.category.code) == ("C91.0", "LEUK")
    assert application.estimated_cost == Decimal(200000)
    assert set(application.guardians.values_list("name", "phone", "id_number")) == {("", "", "")}
    assert list(application.guardians.values_list("relationship", flat=True)) == [
        "father",
        "mother",
    ]
    assert not Document.objects.filter(application=application).exists()
    assert not any(private_storage().exists(name) for name in stored_files)
    receipt.refresh_from_db()
    assert receipt.scan_id is None and receipt.patient_number == ""
    assert (receipt.total, receipt.self_paid) == (Decimal(50000), Decimal(8000))
    review = MemberReview.objects.get(pk=pledged.pk)
    assert (review.state, review.amount) == ("approved", Decimal(10000))
    assert not ReviewEvent.objects.filter(review=review).exclude(internal_note="").exists()
    # The history keeps which fields changed, not what they held.
    saved = application.events.filter(action="section_saved", section="A").first()
    assert saved.changes and all(change == ["", ""] for change in saved.changes.values())


def test_the_same_childs_newer_application_keeps_its_own_record(people):
    alice = people["alice"]
    old = submitted(alice)
    _close_long_ago(old, alice)
    newer = fill(services.application_create(by=alice), alice)
    services.application_link_child(application=newer, other=old, by=alice)
    newer = services.application_submit(application=Application.objects.get(pk=newer.pk), by=alice)
    assert Child.objects.get(pk=newer.child_id).identity_id == old.child.identity_id
    newer_before = everything_stored([newer.pk])
    newer_child_before = Child.objects.filter(pk=newer.child_id).values().get()

    run = retention.anonymise_closed(older_than_days=365 * 5, by=people["sam"])

    assert (run.anonymised, run.children) == (1, 1)
    assert Application.objects.get(pk=old.pk).anonymised_at is not None
    assert set(Guardian.objects.filter(application=old).values_list("name", flat=True)) == {""}
    # The old application's section A goes; the newer one's own copy stays whole.
    assert Child.objects.get(pk=old.child_id).name == ""
    assert Child.objects.filter(pk=newer.child_id).values().get() == newer_child_before
    assert everything_stored([newer.pk]) == newer_before
    assert Application.objects.get(pk=newer.pk).anonymised_at is None
    assert list(Guardian.objects.filter(application=newer).values("name", "phone")) == [
        {"name": SECTIONS["B"]["g1_name"], "phone": SECTIONS["B"]["g1_phone"]},
        {"name": SECTIONS["B"]["g2_name"], "phone": SECTIONS["B"]["g2_phone"]},
    ]
    _close_long_ago(newer, alice)
    run = retention.anonymise_closed(older_than_days=365 * 5, by=people["sam"])
    assert (run.anonymised, run.children) == (1, 1)
    assert Child.objects.get(pk=newer.child_id).name == ""


def test_recently_closed_and_open_applications_are_left_alone(people, application):
    alice = people["alice"]
    other = submitted(alice, sequence="457")
    workflow.application_withdraw(application=other, by=alice)
    run = retention.anonymise_closed(older_than_days=30, by=people["sam"])
    assert run.anonymised == 0
    assert not Application.objects.filter(anonymised_at__isnull=False).exists()


def test_a_dry_run_counts_and_changes_nothing(people, application):
    _close_long_ago(application, people["alice"])
    before = everything_stored([application.pk])
    out = io.StringIO()
    call_command("anonymise_closed", "--dry-run", "--older-than-days=1000", stdout=out)
    assert "Dry run: 1 applications" in out.getvalue()
    assert everything_stored([application.pk]) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than-days=0", "--by=sam"], "at least 1"),
        (["--by=alice"], "not an active secretariat user"),
        (["--by=nobody"], "not an active secretariat user"),
        ([], "--by USERNAME"),
    ],
)
def test_the_command_refuses_bad_arguments(people, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("anonymise_closed", *args, stdout=io.StringIO())


def test_after_a_withdrawal_only_pledging_members_keep_the_receipts(client, people, pledged):
    from tests.test_bills import RECEIPT
    from tests.test_workflow import reviewer_of

    application = pledged.application
    receipt = bills.receipt_record(application=application, by=people["bob"], **RECEIPT)
    erin = reviewer_of(3, "erin")  # member 3 was routed the application, pledged nothing
    client.force_login(erin)
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 200
    assert client.get("/api/v1/receipts/").json()["count"] == 1
    withdraw(application, people["alice"])
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 404
    assert client.get("/api/v1/receipts/").json()["count"] == 0
    client.force_login(people["dave"])  # member 2 pays its pledge against it
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 200
    assert client.get("/api/v1/receipts/").json()["count"] == 1
