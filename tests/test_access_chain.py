"""The access record is tamper-evident once sealed, and the secretariat can search it (§5)."""

import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from cases import audit
from cases.models import AccessChainHead, AccessRecord
from tests.test_workflow import as_user, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoints(settings, tmp_path):
    """The checkpoint file, outside the database's reach: each test has its own."""
    settings.ACCESS_CHECKPOINT_FILE = tmp_path / "var" / "access-checkpoints.jsonl"
    return settings.ACCESS_CHECKPOINT_FILE


def checkpoint_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def records(people):
    application = submitted(people["alice"])
    for view in ("detail", "edit", "receipt", "document", "pdf"):
        audit.access_record(application=application, user=people["bob"], view=view)
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
    audit.access_record(application=records, user=people["dave"], view="detail")
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


def rechain(key, settings, tmp_path):
    """What someone with write access to the database would do to hide an edit: recompute
    every hash and the head, with the key they have. The checkpoint file is out of their
    reach: their sealing writes its checkpoints elsewhere."""
    real, checkpoints = settings.ACCESS_CHAIN_KEY, settings.ACCESS_CHECKPOINT_FILE
    settings.ACCESS_CHAIN_KEY = key
    settings.ACCESS_CHECKPOINT_FILE = tmp_path / "the-attackers-own.jsonl"
    settings.ACCESS_CHECKPOINT_FILE.unlink(missing_ok=True)
    AccessRecord.objects.update(chain_seq=None, chain_hash="")
    AccessChainHead.objects.all().delete()
    audit.seal()
    settings.ACCESS_CHAIN_KEY, settings.ACCESS_CHECKPOINT_FILE = real, checkpoints


def test_an_edit_hidden_by_recomputing_the_chain_needs_the_key(records, settings, tmp_path):
    audit.seal()
    AccessRecord.objects.filter(chain_seq=2).update(view="edit2")
    rechain("a guessed key of at least thirty-two characters", settings, tmp_path)
    assert not audit.verify().intact
    # Even with the real key the recomputed chain no longer matches the checkpoint written
    # when the record was sealed.
    rechain(settings.ACCESS_CHAIN_KEY, settings, tmp_path)
    result = audit.verify()
    assert not result.intact and "checkpoint" in result.problem


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
    # session, user with its second-factor device, count, the page's unsealed and sealed
    # records with their application and user (audit.records_matching: each part by its own
    # index), chain head
    with django_assert_num_queries(6):
        client.get("/access-records/")


def test_only_the_secretariat_reads_the_access_record(client, people):
    assert client.get("/access-records/").status_code == 302
    for name in ("alice", "bob", "dave"):
        assert as_user(client, people[name]).get("/access-records/").status_code == 403


# --- truncation, resets and records left unsealed (issue 14, finding 3) -------------------


def seal_twice(people, records):
    """Two seals that advance the chain: 5 records, then 2 more (places 6 and 7)."""
    audit.seal()
    for view in ("detail", "pdf"):
        audit.access_record(application=records, user=people["dave"], view=view)
    audit.seal()


def test_deleting_the_newest_records_and_moving_the_head_back_fails_verification(people, records):
    seal_twice(people, records)
    earlier = AccessRecord.objects.get(chain_seq=5)
    AccessRecord.objects.filter(chain_seq__gt=5).delete()
    AccessChainHead.objects.filter(pk=1).update(last_seq=5, last_hash=earlier.chain_hash)
    result = audit.verify()
    assert not result.intact
    assert "place 5" in result.problem and "checkpoint" in result.problem
    assert "place 7" in result.problem
    with pytest.raises(CommandError, match="records were deleted from the end"):
        verify_command()


def test_deleting_every_record_and_resetting_the_head_fails_verification(people, records):
    seal_twice(people, records)
    AccessRecord.objects.all().delete()
    AccessChainHead.objects.filter(pk=1).update(last_seq=0, last_hash="0" * 64, sealed_at=None)
    result = audit.verify()
    assert not result.intact and "no sealed record" in result.problem
    with pytest.raises(CommandError, match="checkpoint"):
        verify_command()
    # Deleting the head row too changes nothing.
    AccessChainHead.objects.all().delete()
    assert not audit.verify().intact


def test_after_a_reset_the_sealer_refuses_to_build_a_new_chain_over_the_cut(people, records):
    """Otherwise new records would grow a fresh chain past the checkpoint's place, and the
    latest checkpoint would then match a chain that lost its first records."""
    seal_twice(people, records)
    AccessRecord.objects.all().delete()
    AccessChainHead.objects.all().delete()
    audit.access_record(application=records, user=people["dave"], view="detail")
    with pytest.raises(audit.ChainBroken, match="checkpoint at place 7"):
        audit.seal()
    assert AccessRecord.objects.get().chain_seq is None
    with pytest.raises(CommandError, match="not sealing"):
        call_command("seal_access_records", stdout=StringIO())


def test_records_left_unsealed_longer_than_the_limit_fail_verification(settings, people, records):
    settings.ACCESS_UNSEALED_MAX_SECONDS = 300
    audit.seal()
    audit.access_record(application=records, user=people["dave"], view="detail")
    # A record a moment old is waiting for the next run: that is normal.
    assert audit.verify().intact
    late = AccessRecord.objects.filter(chain_seq__isnull=True)
    assert late.update(at=timezone.now() - timedelta(minutes=6)) == 1
    result = audit.verify()
    assert not result.intact and result.unsealed == 1
    assert "not sealed for more than 300 seconds" in result.problem
    with pytest.raises(CommandError, match="is the sealer running"):
        verify_command()


def test_a_normal_run_passes_and_checks_the_latest_checkpoint(people, records, checkpoints):
    seal_twice(people, records)
    result = audit.verify()
    assert result.intact and result.checked == 7 and result.checkpoint_seq == 7
    assert "checkpoint at place 7" in verify_command()


def test_each_seal_that_advances_the_chain_appends_a_checkpoint(people, records, checkpoints):
    assert not checkpoints.exists()
    audit.seal()
    audit.seal()  # nothing new: no line
    audit.access_record(application=records, user=people["dave"], view="detail")
    audit.seal()
    lines = checkpoint_lines(checkpoints)
    head = AccessChainHead.objects.get()
    assert [line["seq"] for line in lines] == [5, 6]
    assert lines[-1]["hash"] == head.last_hash
    assert lines[-1]["at"] == head.sealed_at.isoformat()
    assert lines[0]["hash"] == AccessRecord.objects.get(chain_seq=5).chain_hash


def test_a_missing_checkpoint_file_after_sealing_fails_verification(records, checkpoints):
    audit.seal()
    checkpoints.unlink()
    result = audit.verify()
    assert not result.intact and "is missing" in result.problem
    assert str(checkpoints) in result.problem


def test_nothing_sealed_yet_and_no_checkpoint_file_verifies(records, checkpoints):
    result = audit.verify()
    assert result.intact and result.unsealed == 5 and not checkpoints.exists()


def test_the_sealing_loop_seals_until_it_is_told_to_stop(records, checkpoints):
    """The command `make run` and the sealer unit start: sealing every interval, until
    SIGTERM (systemd's stop, or gunicorn ending under make run)."""
    stop = threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGTERM))
    stop.start()
    out = StringIO()
    try:
        call_command("seal_access_records", loop=0.1, stdout=out)
    finally:
        stop.cancel()
    assert not AccessRecord.objects.filter(chain_seq__isnull=True).exists()
    assert [line["seq"] for line in checkpoint_lines(checkpoints)] == [5]
    assert "stopped" in out.getvalue()
    # Its SIGTERM handler was only for the loop: pytest's own handlers are back.
    assert signal.getsignal(signal.SIGTERM) is not None


def test_the_chains_head_is_shown_to_the_secretariat(client, people, records):
    audit.seal()
    head = AccessChainHead.objects.get()
    as_user(client, people["sam"])
    page = client.get("/access-records/").content.decode()
    assert "#5" in page and head.last_hash[:12] in page
    dashboard = client.get("/reports/").content.decode()
    assert "#5" in dashboard and head.last_hash[:12] in dashboard


# --- where the sealer runs: make run (gunicorn's master) and deploy/ (a unit) -------------

ROOT = Path(__file__).resolve().parents[1]


def test_the_sealer_unit_loops_with_options_the_command_accepts_and_comes_with_the_worker():
    unit = (ROOT / "deploy" / "aid-alliance-sealer.service").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M)[1])
    assert command[1:3] == ["manage.py", "seal_access_records"]
    sealer = load_command_class("cases", "seal_access_records")
    options = sealer.create_parser("manage.py", "seal_access_records").parse_args(command[3:])
    assert 0 < options.loop <= 60 and "Restart=always" in unit
    assert "StateDirectory=aid-alliance" in unit  # where ACCESS_CHECKPOINT_FILE points
    worker = (ROOT / "deploy" / "aid-alliance-worker.service").read_text(encoding="utf-8")
    assert re.search(r"^Wants=.*aid-alliance-sealer\.service", worker, re.M)
    assert "Also=aid-alliance-sealer.service" in worker
    env = (ROOT / "deploy" / "aid-alliance.env.example").read_text(encoding="utf-8")
    assert "ACCESS_CHECKPOINT_FILE=/var/lib/aid-alliance/" in env


def test_make_run_serves_with_the_config_that_starts_the_sealer():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run = re.search(r"^run:.*?(?=^\S)", makefile, re.M | re.S)[0]
    assert re.search(r"GUNICORN_ACCESS_SEAL_SECONDS=[1-9]", run)
    assert "exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py" in run


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="gunicorn and its sealer share the test database with this process: PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_gunicorns_master_runs_the_sealer_and_stops_it_when_it_stops(records, tmp_path):
    """What `make run` does, with a short interval: the records are sealed and checkpointed
    without anyone running a command, and no sealer outlives the server."""
    from tests.test_multi_server import _free_port, _server_env

    checkpoints = tmp_path / "checkpoints.jsonl"
    log = tmp_path / "gunicorn.log"
    env = _server_env(GUNICORN_ACCESS_SEAL_SECONDS="0.2", ACCESS_CHECKPOINT_FILE=str(checkpoints))
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603
            [ROOT / ".venv" / "bin" / "gunicorn", "-c", "deploy/gunicorn.conf.py"]
            + ["aid_alliance.wsgi", "--bind", f"127.0.0.1:{_free_port()}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while AccessRecord.objects.filter(chain_seq__isnull=True).exists():
                assert time.monotonic() < deadline, log.read_text()
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
            while not checkpoints.exists():  # appended just after the commit
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=60)
    sealer = int(re.search(r"access record sealer started \(pid (\d+)\)", log.read_text())[1])
    stat = Path(f"/proc/{sealer}/stat")
    assert not stat.exists() or stat.read_text().split(") ")[1][0] == "Z"  # gone, or a zombie
    assert [line["seq"] for line in checkpoint_lines(checkpoints)] == [5]


# --- writing the records: one INSERT, committed without the WAL wait on its own (issue 18) ----


def test_a_page_views_record_holds_who_what_and_the_detail(people, records):
    application = records
    audit.access_record(
        application=application, user=people["sam"], view="discard", detail="x" * 300
    )
    audit.access_record_list(applications=[application.pk], user=people["bob"], view="inbox")
    audit.access_record_list(applications=[], user=people["bob"], view="inbox")  # nothing
    rows = list(
        AccessRecord.objects.filter(view__in=("discard", "inbox")).values_list(
            "application_id", "user_id", "view", "detail", "chain_seq", "chain_hash"
        )
    )
    assert sorted(rows) == sorted(
        [
            (application.pk, people["sam"].pk, "discard", "x" * 200, None, ""),
            (application.pk, people["bob"].pk, "inbox", "", None, ""),
        ]
    )


def test_without_constraints_in_the_database_django_still_keeps_the_records_whole(people, records):
    """0021 dropped the two foreign keys of the access record (issue 18); the ORM still
    refuses to delete a user who has records and deletes an application's with it."""
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        people["bob"].delete()
    assert AccessRecord.objects.filter(user=people["bob"]).count() == 5
    pk = records.pk
    records.delete()
    assert not AccessRecord.objects.filter(application_id=pk).exists()


def test_the_secretariat_finds_records_sealed_or_not_newest_first_across_pages(
    client, people, monkeypatch
):
    """The look-up indexes hold sealed records only (issue 18); a search reads the unsealed
    ones apart and merges them in: none is left out, none is shown twice, and the order is
    the time order whichever part a record is in."""
    application = submitted(people["alice"])
    start = timezone.now() - timedelta(hours=1)
    made = []
    for n in range(7):
        audit.access_record(application=application, user=people["bob"], view="detail")
        made.append(AccessRecord.objects.latest("pk"))
        if n in (1, 4):
            audit.seal()  # records 0-1 and 2-4 sealed, 5-6 not
    # Their times interleave across the parts: the newest sealed is later than an unsealed.
    for record, minutes in zip(made, (1, 3, 5, 8, 9, 7, 2), strict=True):
        AccessRecord.objects.filter(pk=record.pk).update(at=start + timedelta(minutes=minutes))
    assert [r.chain_seq is not None for r in AccessRecord.objects.order_by("pk")] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    newest_first = [made[i].pk for i in (4, 3, 5, 2, 1, 6, 0)]
    as_user(client, people["sam"])
    monkeypatch.setattr("cases.privacy.audit_views.PAGE_SIZE", 3)
    shown = []
    for number in (1, 2, 3):
        response = client.get("/access-records/", {"view": "detail", "page": number})
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 7
        shown += [record.pk for record in response.context["page"]]
    monkeypatch.undo()
    assert shown == newest_first
    page = client.get("/access-records/", {"username": "bob"}).content.decode()
    assert page.count(application.reference) == 7
    assert client.get("/access-records/", {"view": "edit"}).context["page"].paginator.count == 0


def test_the_look_up_indexes_hold_sealed_records_and_serve_each_part_of_a_search():
    """A page view's records go into the table, its id's index and the sealer's index only;
    the searches' indexes are partial (sealed records), and each part of a search can be
    read through an index, without reading the table through."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AccessRecord._meta.db_table)
    full = sorted(
        tuple(info["columns"])
        for name, info in constraints.items()
        if (info["index"] or info["unique"])
        and not info["primary_key"]
        and name not in {i.name for i in AccessRecord._meta.indexes if i.condition is not None}
        and name not in {c.name for c in AccessRecord._meta.constraints}
    )
    assert full == []  # no index but the partial ones and the primary key
    partial = {index.name: index.condition for index in AccessRecord._meta.indexes}
    assert partial.pop("cases_access_unsealed_at") == Q(chain_seq__isnull=True)
    assert set(partial.values()) == {Q(chain_seq__isnull=False)}
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for lookups in (
            {},
            {"view": "detail"},
            {"user_id": 1},
            {"application_id": 1},
            {"at__gte": timezone.now()},
        ):
            for which in (audit.SEALED, audit.UNSEALED):
                part = audit.Matching(lookups, ())._part(which).order_by("-at", "-pk")
                sql, params = part[:50].values_list("at", "pk").query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan" not in plan, (lookups, plan)


def test_a_record_sealed_between_a_searchs_two_reads_is_shown_once(people, monkeypatch):
    """The unsealed part is read first: a record the sealer seals before the sealed part is
    read is in both parts, and shown once. Read the other way round it would be in neither."""
    application = submitted(people["alice"])
    for view in ("detail", "edit", "pdf"):
        audit.access_record(application=application, user=people["bob"], view=view)
    everyone = sorted(AccessRecord.objects.values_list("pk", flat=True), reverse=True)
    part = audit.Matching._part

    calls = []

    def sealed_meanwhile(self, which, order=()):
        calls.append(which)
        if len(calls) == 2:
            audit.seal()  # after the first part's read, before the second's
        return part(self, which, order)

    monkeypatch.setattr(audit.Matching, "_part", sealed_meanwhile)
    shown = audit.records_matching()[0:50]
    assert [record.pk for record in shown] == everyone
    assert AccessRecord.objects.filter(chain_seq__isnull=True).count() == 0  # all sealed now
    monkeypatch.undo()
    AccessRecord.objects.update(chain_seq=None, chain_hash="")  # unsealed again: one part
    oldest = audit.records_matching(application=application).oldest_first()
    assert [record.pk for record in oldest] == sorted(
        AccessRecord.objects.filter(application=application).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("far", [10_000, 3])
def test_every_slice_of_a_search_is_the_whole_tables_slice(people, monkeypatch, far):
    """Sealed and unsealed records in any mix, their times interleaved and some equal across
    the parts: every slice a page can ask for, from the first to past the end, holds the
    records ORDER BY -at, -pk gives it over the whole table, and oldest_first every record
    ORDER BY at, pk gives. Far pages skip sealed records in the database (one page of each
    part read), and still land on the right rows; past audit._FAR records (here 3, in the
    second run), the database sorts both parts together."""
    monkeypatch.setattr(audit, "_FAR", far)
    application = submitted(people["alice"])
    AccessRecord.objects.all().delete()
    start = timezone.now() - timedelta(days=1)
    for n in range(23):
        audit.access_record(application=application, user=people["bob"], view="detail")
        record = AccessRecord.objects.latest("pk")
        sealed = n % 3 != 1 and n not in (20, 21)  # an unsealed one every third, two at the end
        AccessRecord.objects.filter(pk=record.pk).update(
            at=start + timedelta(minutes=(n * 7) % 11),  # times out of order, some equal
            chain_seq=n + 1 if sealed else None,
        )
    newest = list(AccessRecord.objects.order_by("-at", "-pk").values_list("pk", flat=True))
    assert len(set(AccessRecord.objects.values_list("at", flat=True))) < len(newest)
    matching = audit.records_matching(view="detail")
    assert matching.count() == len(newest) == 23
    for size in (1, 4, 10):
        for first in range(0, 26):
            shown = [record.pk for record in matching[first : first + size]]
            assert shown == newest[first : first + size], (first, size)
    oldest = list(AccessRecord.objects.order_by("at", "pk").values_list("pk", flat=True))
    assert [record.pk for record in matching.oldest_first()] == oldest
