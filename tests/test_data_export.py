"""A guardian's data-access request (PIPL art. 45) answered with one download: everything
held about the child and the guardians, for the entering member and the secretariat only."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.utils import translation

from cases import audit
from cases.bills import services as bills
from cases.intake import services
from cases.models import AccessRecord
from cases.privacy import data_export
from cases.review import services as workflow
from tests.intake_data import PDF_BYTES, SECTIONS
from tests.test_api_cases import Api
from tests.test_consent_and_retention import RECEIPT, upload, withdraw
from tests.test_workflow import as_user, project, review_of, submitted

pytestmark = pytest.mark.django_db

INTERNAL = "内部备注：家访印象良好"


@pytest.fixture
def application(people):
    application = submitted(people["alice"])
    upload(application, people["alice"], content=PDF_BYTES + b"% the certificate")
    review = workflow.review_approve(
        review=review_of(application, 2),
        project=project("P04"),
        amount=Decimal(10000),
        by=people["dave"],
        note=INTERNAL,
    )
    receipt = bills.receipt_record(application=application, by=people["dave"], **RECEIPT)
    bills.allocation_create(
        review=review, receipt=receipt, amount=Decimal(4000), note="", by=people["dave"]
    )
    audit.access_record(application=application, user=people["carol"], view="detail")
    return application


def unzip(response) -> dict[str, bytes]:
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_entering_member_downloads_everything_held_about_the_family(
    client, people, application
):
    as_user(client, people["alice"])
    response = client.get(f"/applications/{application.reference}/data-export/")
    assert response.status_code == 200
    assert application.reference in response["Content-Disposition"]
    files = unzip(response)
    assert set(files) >= {data_export.DATA_FILE, data_export.README_FILE}
    text = files[data_export.DATA_FILE].decode()
    data = json.loads(text)
    assert len(data) == 7
    for value in (
        application.reference,
        SECTIONS["A"]["name"],
        application.child.id_number,  # in full: it is the family's own
        SECTIONS["A"]["address"],
        SECTIONS["B"]["g1_name"],
        SECTIONS["B"]["g2_phone"],
        SECTIONS["E"]["aid1_source"],
        SECTIONS["D"]["diagnosis_text"],
        RECEIPT["patient_number"],
        "10000.00",  # member 2's pledge
        "4000.00",  # its allocation
        "carol",  # the access record: who saw the child's data
    ):
        assert value in text, value
    assert INTERNAL not in text  # the members' internal notes are not in it
    documents = [name for name in files if name.startswith(data_export.DOCUMENT_FOLDER + "/")]
    assert len(documents) == 1
    assert files[documents[0]] == PDF_BYTES + b"% the certificate"
    assert application.reference in files[data_export.README_FILE].decode()
    assert AccessRecord.objects.filter(
        application=application, user=people["alice"], view="data-export"
    ).exists()


def test_the_secretariat_downloads_it_in_the_browser_and_the_entering_member_by_the_api(
    client, people, application
):
    as_user(client, people["sam"])
    assert client.get(f"/applications/{application.reference}/data-export/").status_code == 200
    response = Api(client, people["bob"]).get(f"/applications/{application.reference}/data-export/")
    assert response.status_code == 200
    assert SECTIONS["A"]["name"] in unzip(response)[data_export.DATA_FILE].decode()
    assert AccessRecord.objects.filter(view="data-export").count() == 2


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_another_members_staff_are_refused_the_export(client, people, application, who):
    as_user(client, people[who])
    assert client.get(f"/applications/{application.reference}/data-export/").status_code == 403
    api = Api(client, people[who]).get(f"/applications/{application.reference}/data-export/")
    assert api.status_code == 403
    assert not AccessRecord.objects.filter(view="data-export").exists()


def test_another_members_staff_are_refused_after_a_withdrawal_too(client, people, application):
    withdraw(application, people["alice"])
    as_user(client, people["dave"])
    assert client.get(f"/applications/{application.reference}/data-export/").status_code == 403
    # The entering member still answers the family's request.
    as_user(client, people["alice"])
    assert client.get(f"/applications/{application.reference}/data-export/").status_code == 200


def test_a_draft_is_not_found_by_another_member(client, people):
    draft = services.application_create(by=people["alice"])
    as_user(client, people["carol"])
    assert client.get(f"/applications/{draft.reference}/data-export/").status_code == 404
    response = Api(client, people["carol"]).get(f"/applications/{draft.reference}/data-export/")
    assert response.status_code == 404


def test_a_family_without_an_account_is_refused(client, application):
    response = client.get(f"/applications/{application.reference}/data-export/")
    assert response.status_code == 302 and "/login" in response["Location"]
    api = Api(client, None).get(f"/applications/{application.reference}/data-export/")
    assert api.status_code in (401, 403)
    assert not AccessRecord.objects.filter(view="data-export").exists()


def test_the_access_record_in_it_holds_sealed_and_unsealed_records_oldest_first(
    people, application, tmp_path, settings
):
    """The look-up indexes hold sealed records only (issue 18): the export reads the two
    parts apart and merges them, so the family sees every view, in the order they were."""
    settings.ACCESS_CHECKPOINT_FILE = tmp_path / "access-checkpoints.jsonl"
    audit.access_record(application=application, user=people["bob"], view="detail")
    audit.seal()  # carol's view of the fixture, bob's, and the views before them, sealed
    audit.access_record(application=application, user=people["dave"], view="detail")
    unsealed = AccessRecord.objects.filter(application=application, chain_seq__isnull=True)
    assert unsealed.count() == 1
    # The unsealed one's time between the sealed ones': a concatenation would misplace it.
    sealed = list(
        AccessRecord.objects.filter(application=application, chain_seq__isnull=False)
        .order_by("at", "pk")
        .values_list("at", flat=True)
    )
    assert len(sealed) >= 2
    unsealed.update(at=sealed[-2] + (sealed[-1] - sealed[-2]) / 2)
    with translation.override("en"):
        records = data_export._access_record(application)
    whos = [record["Who"].split("（")[0] for record in records]
    assert whos[-3:] == ["carol", "dave", "bob"]
    assert len(whos) == AccessRecord.objects.filter(application=application).count()
    times = [record["When"] for record in records]
    assert times == sorted(times)
