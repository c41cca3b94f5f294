"""Entering an application: drafts, validation at the field, submission, history."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cases import crypto, references
from cases.intake import services
from cases.models import AccessRecord, Application, ApplicationEvent, Child, ChildIdentity, Document
from tests.intake_data import CHILD_ID, PDF_BYTES, PNG_BYTES, SECTIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(people):
    return services.application_create(by=people["alice"])


def save(client, application, section, data):
    return client.post(f"/applications/{application.reference}/sections/{section}/", data)


def fill_all(client, application):
    for key, data in SECTIONS.items():
        response = save(client, application, key, data)
        assert response.status_code == 302, key
        application.refresh_from_db()
        assert not application.pending_input.get(key), (key, application.pending_input)


def test_a_caseworker_starts_a_draft_with_a_valid_reference(client, people):
    client.force_login(people["alice"])
    response = client.post("/applications/new/")
    application = Application.objects.get()
    assert response["Location"] == f"/applications/{application.reference}/edit/"
    assert references.is_valid_reference(application.reference)
    assert application.member == people["alice"].organization
    assert application.status == "draft"


def test_a_reference_drawn_twice_is_drawn_again(people, monkeypatch):
    first = services.application_create(by=people["alice"])
    draws = iter([first.reference, first.reference, "DB-2026-7K3M9" + "X"])
    monkeypatch.setattr(references, "new_reference", lambda year: next(draws))
    second = services.application_create(by=people["alice"])
    assert second.reference == "DB-2026-7K3M9X"
    assert Application.objects.count() == 2
    assert Child.objects.count() == 2


def test_the_secretariat_cannot_enter_applications(client, people):
    client.force_login(people["sam"])
    assert client.post("/applications/new/").status_code == 403
    assert not Application.objects.exists()


def test_a_complete_application_is_submitted(client, people, draft):
    client.force_login(people["alice"])
    fill_all(client, draft)
    response = client.post(f"/applications/{draft.reference}/submit/")
    assert response["Location"] == f"/applications/{draft.reference}/"
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.submitted_at
    assert draft.child.id_number == CHILD_ID and draft.child.household_region == "110105"
    assert draft.hospital_region == "110102"
    assert draft.treatment_plan == {"chemotherapy": "in_progress"}
    assert draft.coverage_total == 90000
    assert draft.account_number == "6217000012345678"
    assert [g.is_primary for g in draft.guardians.all()] == [True, False]
    assert draft.other_aid.get().amount == 5000
    assert draft.per_capita_income == 7500
    assert ApplicationEvent.objects.filter(application=draft, action="submitted").exists()
    receipt = client.get(f"/applications/{draft.reference}/receipt/").content.decode()
    assert draft.reference in receipt and "/status/" in receipt


def test_an_incomplete_draft_is_not_submitted_and_says_what_is_missing(client, people, draft):
    client.force_login(people["alice"])
    save(client, draft, "A", SECTIONS["A"])
    response = client.post(f"/applications/{draft.reference}/submit/", follow=True)
    draft.refresh_from_db()
    assert draft.status == "draft"
    html = response.content.decode()
    assert "监护人" in html or "Guardians" in html


def test_submission_needs_consent_h01(client, people, draft):
    client.force_login(people["alice"])
    fill_all(client, draft)
    save(client, draft, "H", {**SECTIONS["H"], "consent_sharing": ""})
    client.post(f"/applications/{draft.reference}/submit/")
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.consent_sharing


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("A", "id_number", CHILD_ID[:-1] + ("0" if CHILD_ID[-1] != "0" else "1")),
        ("A", "dob", "2018-03-11"),  # the ID number says 2018-03-10
        ("A", "sex", "female"),  # the ID number says male
        ("A", "dob", "2099-01-01"),
        ("B", "g1_phone", "12345"),
        ("B", "g1_phone", "23800138000"),
        ("C", "annual_income", "-5"),
        ("C", "annual_income", "12.345"),
        ("C", "household_size", "0"),
        ("D", "icd", "Q21.0"),  # a heart defect, not leukaemia
        ("D", "icd", "banana"),
        ("D", "diagnosis_date", "2017-01-01"),  # before birth
        ("E", "basic_insurance", "abc"),
        ("G", "account_number", "12AB"),
        ("H", "consent_date", "2099-01-01"),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_is_kept_as_typed(
    client, people, draft, section, field, value
):
    client.force_login(people["alice"])
    if section in ("B", "D"):
        save(client, draft, "A", SECTIONS["A"])
    data = {**SECTIONS[section], field: value}
    response = client.post(
        f"/applications/{draft.reference}/sections/{section}/", data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    draft.refresh_from_db()
    # Never a lost entry; a mistyped ID or bank number is kept encrypted (cases.crypto).
    pending = crypto.open_values(draft.pending_input[section], context=services.PENDING)
    assert pending[field] == value
    assert (value in str(draft.pending_input)) == (field not in services.MASKED_FIELDS)
    page = client.get(f"/applications/{draft.reference}/edit/")
    assert field in page.context["forms"][section].errors
    assert value in page.content.decode()


def test_a_draft_saves_at_any_completeness_without_shouting(client, people, draft):
    client.force_login(people["alice"])
    response = client.post(
        f"/applications/{draft.reference}/sections/A/", {"name": "王小明"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert not response.context["form"].errors  # empty required fields are not errors yet
    assert response.context["status"].state == "in_progress"
    assert ">填写中</span>" in response.content.decode()
    draft.child.refresh_from_db()
    assert draft.child.name == "王小明"


def test_each_saved_change_writes_history_with_masked_ids(client, people, draft):
    client.force_login(people["alice"])
    save(client, draft, "A", SECTIONS["A"])
    event = ApplicationEvent.objects.get(application=draft, action="section_saved")
    assert event.actor == people["alice"] and event.section == "A"
    assert event.changes["name"] == ["", "王小明"]
    assert CHILD_ID not in str(event.changes) and "********" in event.changes["id_number"][1]


def test_a_submitted_application_cannot_be_edited_as_a_draft(client, people, draft):
    client.force_login(people["alice"])
    fill_all(client, draft)
    client.post(f"/applications/{draft.reference}/submit/")
    response = save(client, draft, "A", {**SECTIONS["A"], "name": "改名"})
    assert response.status_code == 302
    draft.child.refresh_from_db()
    assert draft.child.name == "王小明"


def test_a_second_open_application_for_the_same_child_and_disease_is_refused(client, people):
    client.force_login(people["alice"])
    first = services.application_create(by=people["alice"])
    fill_all(client, first)
    client.post(f"/applications/{first.reference}/submit/")
    second = services.application_create(by=people["alice"])
    fill_all(client, second)
    duplicates = client.get(f"/applications/{second.reference}/edit/").context["duplicates"]
    assert [m.application.pk for m in duplicates] == [first.pk]
    assert duplicates[0].basis == ["id_number", "name_dob", "name_phone"]
    response = client.post(
        f"/applications/{second.reference}/link-child/{first.reference}/", follow=True
    )
    assert first.reference in response.content.decode()
    second.refresh_from_db()
    assert second.child.identity_id != first.child.identity_id
    response = client.post(f"/applications/{second.reference}/submit/", follow=True)
    second.refresh_from_db()
    assert second.status == "draft"
    assert first.reference in response.content.decode()


def test_linking_to_an_existing_child_joins_identities_and_keeps_each_record(client, people):
    client.force_login(people["alice"])
    first = services.application_create(by=people["alice"])
    fill_all(client, first)
    client.post(f"/applications/{first.reference}/submit/")
    second = services.application_create(by=people["alice"])
    save(client, second, "A", SECTIONS["A"])
    save(client, second, "D", {**SECTIONS["D"], "category": "LEUK"})
    # A different disease category may be open beside the first application.
    second.category = None
    second.save()
    old_identity = second.child.identity_id
    client.post(f"/applications/{second.reference}/link-child/{first.reference}/")
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.child.identity_id == first.child.identity_id
    assert second.child_id != first.child_id  # each application its own section A
    assert not ChildIdentity.objects.filter(pk=old_identity).exists()
    assert ApplicationEvent.objects.filter(
        application=second, action="child_linked", note=first.reference
    ).exists()
    # Editing the second application's section A never changes the first's.
    save(client, second, "A", {**SECTIONS["A"], "address": "另一个地址 1 号"})
    first.child.refresh_from_db()
    assert first.child.address == SECTIONS["A"]["address"]


def test_uploads_are_checked_by_their_bytes(client, people, draft):
    client.force_login(people["alice"])
    url = f"/applications/{draft.reference}/documents/"
    exe = SimpleUploadedFile("diagnosis.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")
    response = client.post(url, {"doc_type": "diagnosis_certificate", "file": exe}, follow=True)
    assert not Document.objects.exists()
    assert "PDF" in response.content.decode()
    good = SimpleUploadedFile("scan.bin", PDF_BYTES, "application/octet-stream")
    client.post(url, {"doc_type": "diagnosis_certificate", "file": good})
    document = Document.objects.get()
    assert document.content_type == "application/pdf" and document.sha256
    # Stored in the private folder, never where static or public media are served from.
    path = Path(document.file.path)
    assert path.is_relative_to(django_settings.PRIVATE_MEDIA_ROOT) and path.read_bytes()
    assert not path.is_relative_to(django_settings.STATIC_ROOT)
    assert not path.is_relative_to(django_settings.MEDIA_ROOT)


def test_oversized_uploads_are_refused_with_the_limit(client, people, draft, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    client.force_login(people["alice"])
    big = SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * 2048, "application/pdf")
    response = client.post(
        f"/applications/{draft.reference}/documents/",
        {"doc_type": "cost_estimate", "file": big},
        follow=True,
    )
    assert not Document.objects.exists()
    assert "MB" in response.content.decode()


def test_the_checklist_follows_the_application(client, people, draft):
    client.force_login(people["alice"])
    save(client, draft, "C", SECTIONS["C"])  # claims 低保
    page = client.get(f"/applications/{draft.reference}/edit/")
    missing = page.context["missing"]
    assert ("hardship_certificate", "dibao") in missing
    upload = SimpleUploadedFile("dibao.png", PNG_BYTES, "image/png")
    client.post(
        f"/applications/{draft.reference}/documents/",
        {"doc_type": "hardship_certificate", "flag": "dibao", "file": upload},
    )
    page = client.get(f"/applications/{draft.reference}/edit/")
    assert ("hardship_certificate", "dibao") not in page.context["missing"]


def test_documents_are_reviewed_with_a_reason_for_rejection(client, people, draft):
    client.force_login(people["bob"])
    client.post(
        f"/applications/{draft.reference}/documents/",
        {"doc_type": "cost_estimate", "file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
    )
    document = Document.objects.get()
    client.post(f"/documents/{document.pk}/review/", {"decision": "rejected", "reason": ""})
    document.refresh_from_db()
    assert document.status == "received"
    client.post(f"/documents/{document.pk}/review/", {"decision": "rejected", "reason": "不清晰"})
    document.refresh_from_db()
    assert document.status == "rejected" and document.reject_reason == "不清晰"
    assert document.reviewed_by == people["bob"]


def test_viewing_and_downloading_are_recorded(client, people, draft):
    client.force_login(people["alice"])
    client.post(
        f"/applications/{draft.reference}/documents/",
        {"doc_type": "cost_estimate", "file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
    )
    document = Document.objects.get()
    response = client.get(f"/documents/{document.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    client.force_login(people["sam"])
    client.get(f"/applications/{draft.reference}/")
    views = list(AccessRecord.objects.values_list("user__username", "view"))
    assert ("alice", "document") in views and ("sam", "detail") in views


def test_the_history_names_changed_fields_by_their_standard_code(client, people, draft):
    client.force_login(people["alice"])
    save(client, draft, "A", SECTIONS["A"])
    save(client, draft, "B", SECTIONS["B"])
    html = client.get(f"/applications/{draft.reference}/").content.decode()
    history = html.split("history-title")[-1]
    # By code and label, never by the field's name (issue 16, finding 5).
    with translation.override("zh-hans"):
        for section, name, code in (("A", "name", "A01"), ("B", "g1_phone", "B04")):
            label = str(services.section_form(draft, section).fields[name].label)
            assert (label if label.startswith(code) else f"{code} {label}") in history, label
    assert "g1_phone" not in history and "A01 name" not in history
    assert CHILD_ID not in history  # masked in the history
