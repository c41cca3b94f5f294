"""The access record is tamper-evident once sealed, and the secretariat can search it (§5)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases import audit, services
from cases.models import AccessChainHead, AccessRecord
from tests.test_workflow import as_user, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(people):
    application = submitted(people["alice"])
    for view in ("detail", "edit", "receipt", "document", "pdf"):
        services.access_record(application=application, user=people["bob"], view=view)
    return application


def verify_command() -> str:
    out = StringIO()
    call_command("verify_access_records", stdout=out)
    return out.getvalue()


def test_sealing_chains_every_record_and_the_chain_verifies(records):
    total = AccessRecord.objects.count()
    assert audit.seal() == total
    assert audit.seal() == 0  # nothing new
    seqs = list(AccessRecord.objects.order_by("chain_seq").values_list("chain_seq", flat=True))
    assert seqs == list(range(1, total + 1))
    result = audit.verify()
    assert result.intact and result.checked == total and result.unsealed == 0
    assert f"intact: {total} sealed" in verify_command()


def test_records_written_later_join_the_chain_in_the_next_run(people, records):
    audit.seal()
    services.access_record(application=records, user=people["dave"], view="detail")
    assert audit.verify().unsealed == 1
    assert audit.seal() == 1
    assert audit.verify().intact


def test_an_edited_record_breaks_the_chain_where_it_was_changed(records):
    audit.seal()
    third = AccessRecord.objects.get(chain_seq=3)
    AccessRecord.objects.filter(pk=third.pk).update(view="nothing-to-see")
    result = audit.verify()
    assert not result.intact and result.at_seq == 3
    with pytest.raises(CommandError, match="BROKEN at place 3"):
        verify_command()


def test_a_deleted_record_breaks_the_chain(records):
    audit.seal()
    AccessRecord.objects.filter(chain_seq=2).delete()
    result = audit.verify()
    assert (result.intact, result.at_seq) == (False, 3)
    assert "missing" in result.problem


def test_a_cut_off_end_is_found(records):
    audit.seal()
    last = AccessChainHead.objects.get().last_seq
    AccessRecord.objects.filter(chain_seq=last).delete()
    result = audit.verify()
    assert not result.intact and "cut off" in result.problem


def rechain(key, settings):
    """What someone with write access to the database would do to hide an edit: recompute
    every hash and the head, with the key they have."""
    real = settings.ACCESS_CHAIN_KEY
    settings.ACCESS_CHAIN_KEY = key
    AccessRecord.objects.update(chain_seq=None, chain_hash="")
    AccessChainHead.objects.all().delete()
    audit.seal()
    settings.ACCESS_CHAIN_KEY = real


def test_an_edit_hidden_by_recomputing_the_chain_needs_the_key(records, settings):
    audit.seal()
    AccessRecord.objects.filter(chain_seq=2).update(view="edit2")
    rechain("a guessed key of at least thirty-two characters", settings)
    assert not audit.verify().intact
    # Only with the real key does the recomputed chain verify: the key is what protects it.
    rechain(settings.ACCESS_CHAIN_KEY, settings)
    assert audit.verify().intact


def test_the_seal_command(records):
    out = StringIO()
    call_command("seal_access_records", stdout=out)
    assert f"sealed {AccessRecord.objects.count()}" in out.getvalue()


def test_the_secretariat_searches_the_access_record(
    client, people, records, django_assert_num_queries
):
    audit.seal()
    as_user(client, people["sam"])
    response = client.get(
        "/access-records/", {"reference": records.reference.lower(), "username": "bob"}
    )
    assert response.status_code == 200
    assert {r.view for r in response.context["page"]} == {
        "detail",
        "edit",
        "receipt",
        "document",
        "pdf",
    }
    response = client.get("/access-records/", {"view": "pdf"})
    assert [r.view for r in response.context["page"]] == ["pdf"]
    response = client.get("/access-records/", {"reference": "not-a-reference"})
    assert response.context["form"].errors["reference"]
    # session, user, second-factor device, count, page (with application and user), chain head
    with django_assert_num_queries(6):
        client.get("/access-records/")


def test_only_the_secretariat_reads_the_access_record(client, people):
    assert client.get("/access-records/").status_code == 302
    for name in ("alice", "bob", "dave"):
        assert as_user(client, people[name]).get("/access-records/").status_code == 403
