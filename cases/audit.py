"""The access record made tamper-evident: sealing into one chain, and verifying it (§5).

Records are written by every page view (cases.intake.services.access_record) without waiting for
anyone: sealing is a separate step (`manage.py seal_access_records --loop 30`, started by
`make run`'s gunicorn and by the worker host's sealer unit) so that page views never queue
behind one global lock. The sealer takes
the chain's head row lock, gives each unsealed record, in time order, the next place in the
chain and an HMAC over its fields and the previous hash. The key comes from the
environment (ACCESS_CHAIN_KEY, else SECRET_KEY): someone who can write the database but
does not hold the key cannot recompute the chain after editing a record.

A record committed late (its id lower than records already sealed) is simply sealed in
the next run: the chain's order is the sealing order, kept in ``chain_seq``.

The chain alone cannot show that its newest records were deleted and the head moved back
to an earlier record, or that everything was deleted and the head reset: what is left is a
valid chain. So each seal that advances the chain appends a checkpoint (place, hash, time)
to a file outside the database (ACCESS_CHECKPOINT_FILE), and both the verification and the
next seal compare the chain with the latest checkpoint.
"""

from __future__ import annotations

import functools
import heapq
import hmac
import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Count, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from aid_alliance import kept
from aid_alliance.compiled_reads import CompiledRead
from aid_alliance.kept import Kept
from cases.models import AccessChainHead, AccessRecord
from cases.models.application import SEALED, UNSEALED

BATCH = 5000
_FIELDS = ("pk", "application_id", "user_id", "at", "view", "detail")
_GENESIS = "0" * 64
# The sealer reads only the end of the checkpoint file: the latest lines are there.
_TAIL_BYTES = 8192


class ChainBroken(Exception):
    """The chain no longer reaches the latest checkpoint: sealing stops until someone looks."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str


def checkpoint_path() -> Path:
    return Path(settings.ACCESS_CHECKPOINT_FILE)


def _append_checkpoint(*, seq: int, digest: str, at) -> None:
    """One JSON line, written with one write() to a file opened O_APPEND and fsynced: lines of
    two sealers never mix, and a checkpoint reported written survives a crash."""
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"seq": seq, "hash": digest, "at": at.isoformat()}) + "\n"
    data = line.encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to the access checkpoint file {path}")
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse(line: str) -> Checkpoint | None:
    try:
        data = json.loads(line)
        return Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]))
    except (ValueError, KeyError, TypeError):
        return None  # a line torn by a crash mid-write, or not ours


def latest_checkpoint(*, tail_only: bool = False) -> Checkpoint | None:
    """The checkpoint with the highest place (sealers append after their commit, so two of
    them may append out of order); None when the file does not exist or holds none."""
    path = checkpoint_path()
    try:
        with path.open("rb") as file:
            if tail_only:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - _TAIL_BYTES))
            text = file.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    best = None
    for line in text.splitlines():
        checkpoint = _parse(line)
        if checkpoint and (best is None or checkpoint.seq >= best.seq):
            best = checkpoint
    return best


def _check_against(checkpoint: Checkpoint) -> None:
    """Before extending the chain: the record at the checkpoint's place still has its hash.
    Sealing on top of a cut-off chain would, once it grew past the checkpoint, bury the cut."""
    if checkpoint.seq == 0:
        return
    found = (
        AccessRecord.objects.filter(chain_seq=checkpoint.seq)
        .values_list("chain_hash", flat=True)
        .first()
    )
    if found is None or not hmac.compare_digest(found, checkpoint.hash):
        raise ChainBroken(
            f"the chain no longer matches the checkpoint at place {checkpoint.seq} "
            f"({checkpoint.at}): not sealing; run verify_access_records"
        )


def _digest(seq: int, pk, application_id, user_id, at, view, detail, previous: str) -> str:
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    message = f"{seq}|{pk}|{application_id}|{user_id}|{stamp}|{view}|{detail}|{previous}"
    key = getattr(settings, "ACCESS_CHAIN_KEY", "") or settings.SECRET_KEY
    return salted_hmac(
        "aid_alliance.access-chain", message, secret=key, algorithm="sha256"
    ).hexdigest()


def seal(*, batch: int = BATCH) -> int:
    """Seal every unsealed record; returns how many. Another sealer running: returns 0.

    Each batch that advances the chain appends a checkpoint after its commit (a checkpoint
    of a rolled-back batch would accuse an intact chain). Raises ChainBroken, sealing
    nothing, when the chain no longer reaches the latest checkpoint."""
    AccessChainHead.objects.get_or_create(pk=1)
    sealed = 0
    checked = False
    while True:
        with transaction.atomic():
            head = AccessChainHead.objects.select_for_update(skip_locked=True).filter(pk=1).first()
            if head is None:
                return sealed  # another sealer holds the chain; it will seal these too
            rows = list(
                AccessRecord.objects.filter(chain_seq__isnull=True)
                .order_by("at", "pk")  # the unsealed records' index, read backwards
                .only("application_id", "user_id", "at", "view", "detail")[:batch]
            )
            if not rows:
                return sealed
            if not checked:
                checkpoint = latest_checkpoint(tail_only=True)
                if checkpoint is not None:
                    _check_against(checkpoint)
                checked = True
            seq, previous = head.last_seq, head.last_hash
            for record in rows:
                seq += 1
                previous = _digest(
                    seq,
                    record.pk,
                    record.application_id,
                    record.user_id,
                    record.at,
                    record.view,
                    record.detail,
                    previous,
                )
                record.chain_seq, record.chain_hash = seq, previous
            AccessRecord.objects.bulk_update(rows, ["chain_seq", "chain_hash"], batch_size=1000)
            head.last_seq, head.last_hash, head.sealed_at = seq, previous, timezone.now()
            head.save()
            sealed += len(rows)
        _append_checkpoint(seq=head.last_seq, digest=head.last_hash, at=head.sealed_at)


@dataclass
class Verification:
    checked: int
    unsealed: int
    problem: str = ""
    at_seq: int | None = None
    checkpoint_seq: int | None = None
    checkpoint_at: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


def chain_head() -> AccessChainHead | None:
    return AccessChainHead.objects.filter(pk=1).first()


# The dashboard's line on the chain's head (issue 18): the row read by SQL compiled once per
# process, the line rendered once per head, language and time zone (it moves every 30 s).
_HEAD_FIELDS = ("last_seq", "last_hash", "sealed_at")
_HEAD_READ = CompiledRead(
    AccessChainHead,
    lambda pk: AccessChainHead.objects.filter(pk=pk).values_list(*_HEAD_FIELDS),
)
_HEAD_LINES = Kept(64)


def chain_head_html() -> str:
    """cases/_chain_head.html for the chain's head as it is now."""
    rows = _HEAD_READ.rows(1)
    head = AccessChainHead(pk=1, **dict(zip(_HEAD_FIELDS, rows[0], strict=True))) if rows else None
    key = kept.digest((rows, kept.surroundings()))
    return _HEAD_LINES.get_or_build(
        key, lambda: str(render_to_string("cases/_chain_head.html", {"head": head}))
    )


def _walk(result: Verification, checkpoint: Checkpoint | None):
    """The chain from its start: every place filled, every hash right. Returns the last
    place and hash, and the hash found at the checkpoint's place; sets result.problem at the
    first break. Streams the records, so it runs in constant memory."""
    expected_seq, previous, at_checkpoint = 0, _GENESIS, None
    rows = (
        AccessRecord.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values_list("chain_seq", "chain_hash", *_FIELDS)
        .iterator(chunk_size=BATCH)
    )
    for seq, chain_hash, pk, application_id, user_id, at, view, detail in rows:
        expected_seq += 1
        if seq != expected_seq:
            result.problem, result.at_seq = "missing record(s) before this place", seq
            break
        digest = _digest(seq, pk, application_id, user_id, at, view, detail, previous)
        if not hmac.compare_digest(digest, chain_hash):
            result.problem, result.at_seq = "record changed, or hash rewritten", seq
            break
        if checkpoint is not None and seq == checkpoint.seq:
            at_checkpoint = chain_hash
        previous = digest
        result.checked += 1
    return result.checked, previous, at_checkpoint


def _checkpoint_problem(checkpoint: Checkpoint, last_seq: int, at_checkpoint) -> str:
    recorded = f"the checkpoint of {checkpoint.at} recorded place {checkpoint.seq}"
    if checkpoint.seq > 0 and last_seq == 0:
        return (
            f"no sealed record is left, but {recorded}: the records were deleted and the "
            "chain reset"
        )
    if last_seq < checkpoint.seq:
        return (
            f"the chain ends at place {last_seq}, but {recorded}: records were deleted from "
            "the end and the head moved back"
        )
    if checkpoint.seq > 0 and (
        at_checkpoint is None or not hmac.compare_digest(at_checkpoint, checkpoint.hash)
    ):
        return (
            f"the record at place {checkpoint.seq} is not the one the checkpoint of "
            f"{checkpoint.at} recorded: the chain was rewritten up to there"
        )
    return ""


def verify(*, now=None) -> Verification:
    """The chain, its end against the head and the latest checkpoint, and how long records
    wait to be sealed. The first problem found is the one reported."""
    head = chain_head()
    checkpoint = latest_checkpoint()
    waiting = AccessRecord.objects.filter(chain_seq__isnull=True).aggregate(
        count=Count("pk"), oldest=Min("at")
    )
    result = Verification(0, waiting["count"])
    if checkpoint is not None:
        result.checkpoint_seq, result.checkpoint_at = checkpoint.seq, checkpoint.at
    last_seq, last_hash, at_checkpoint = _walk(result, checkpoint)
    if result.problem:
        return result
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else _GENESIS
    if last_seq != head_seq or last_hash != head_hash:
        result.problem, result.at_seq = "the end of the chain was cut off", last_seq
        return result
    if checkpoint is not None:
        result.problem = _checkpoint_problem(checkpoint, last_seq, at_checkpoint)
    elif last_seq > 0:
        result.problem = (
            f"the checkpoint file {checkpoint_path()} is missing, although {last_seq} "
            "record(s) were sealed: it was deleted or moved, or ACCESS_CHECKPOINT_FILE "
            "names another file than the sealer's (after an upgrade, the next seal writes it)"
        )
    if result.problem:
        return result
    limit = settings.ACCESS_UNSEALED_MAX_SECONDS
    now = now or timezone.now()
    if waiting["oldest"] is not None and waiting["oldest"] < now - timedelta(seconds=limit):
        late = AccessRecord.objects.filter(
            Q(chain_seq__isnull=True), at__lt=now - timedelta(seconds=limit)
        ).count()
        result.problem = (
            f"{late} record(s) not sealed for more than {limit} seconds (the oldest since "
            f"{waiting['oldest'].isoformat(timespec='seconds')}): is the sealer running "
            "(manage.py seal_access_records --loop 30)?"
        )
    return result


# --- reading the access record (§5) -----------------------------------------------------------


def records_matching(*, related: tuple[str, ...] = (), **lookups) -> Matching:
    """The records, sealed or not, that match, newest first; see Matching."""
    return Matching(lookups, related)


class Matching:
    """Access records that match, sealed or not, newest first, for a Paginator (`count()`
    and slices), or all of them oldest first (`oldest_first()`), with `related` loaded.

    The look-up indexes hold sealed records only (a page view writes two indexes, not seven;
    issue 18). So the sealed records are read through them, and the unsealed ones through
    the sealer's own index, each part in its order, and the two are merged here. The
    unsealed part is the last half-minute's records while the sealer runs; when it stops
    (ChainBroken, which verify_access_records reports), the part grows, and each search
    reads it through.

    A slice reads the unsealed part up to its end, then the sealed part from where the page
    can start whatever the unsealed records are (the database skips the sealed records
    before it, as the whole table's OFFSET did). One query of the two parts together (UNION
    ALL) sorted every record of both parts in PostgreSQL: 0.5 s for the first page at
    3,000,000 records. A page ending past the first 10,000 records (_FAR) is served that way
    all the same, its rows' ids only: slower, but the unsealed part, which may be large
    when the sealer has stopped, is not read into Python.

    The unsealed part is read first: a record the sealer seals between the two reads is then
    in both, and shown once, where the other way round it would be in neither. On a page
    past the first, such a record may move the page by one row."""

    def __init__(self, lookups, related):
        self.lookups, self.related = lookups, related

    def _records(self):
        # select_related() without fields would follow every relation.
        records = AccessRecord.objects.all()
        return records.select_related(*self.related) if self.related else records

    def _part(self, which: Q, order: tuple[str, ...] = ()):
        return self._records().filter(which, **self.lookups).order_by(*order)

    def count(self) -> int:
        sealed, unsealed = (self._part(which).values("pk") for which in (SEALED, UNSEALED))
        return sealed.union(unsealed, all=True).count()

    def __getitem__(self, cut: slice) -> list[AccessRecord]:
        if not isinstance(cut, slice) or cut.step is not None or cut.stop is None:
            raise TypeError("a slice with an end")
        start, stop = cut.start or 0, cut.stop
        if stop <= start:
            return []
        if stop > _FAR:  # both parts sorted together by the database: slow, but no part read
            keys = [self._part(which).values_list("at", "pk") for which in (SEALED, UNSEALED)]
            ids = keys[0].union(keys[1], all=True).order_by("-at", "-pk")[start:stop]
            found = self._records().order_by().in_bulk([pk for _at, pk in ids])
            return [found[pk] for _at, pk in ids if pk in found]
        unsealed = list(self._part(UNSEALED, _NEWEST)[:stop])
        # Sealed records this far down come before the page whatever the unsealed ones are.
        skip = max(0, start - len(unsealed))
        sealed = list(self._part(SEALED, _NEWEST)[max(0, skip - 1) : stop])
        before = skip
        if skip:
            if not sealed:
                return []  # fewer records than the page's start
            last_skipped = _order_key(sealed.pop(0))
            # The unsealed records newer than the last sealed one skipped are before the page
            # too; one read in both parts (the same record) was counted among the skipped.
            before += sum(1 for record in unsealed if _order_key(record) > last_skipped)
            unsealed = [record for record in unsealed if _order_key(record) < last_skipped]
        merged = _once(heapq.merge(unsealed, sealed, key=_order_key, reverse=True))
        return list(itertools.islice(merged, start - before, stop - before))

    def oldest_first(self) -> list[AccessRecord]:
        """Every record that matches, oldest first."""
        unsealed = list(self._part(UNSEALED, ("at", "pk")))
        sealed = list(self._part(SEALED, ("at", "pk")))
        return list(_once(heapq.merge(unsealed, sealed, key=_order_key)))


_NEWEST = ("-at", "-pk")
# A page ending further down than this many records is served by one query sorting both
# parts (Matching.__getitem__): each part's rows before it are not read into Python.
_FAR = 10_000


def _order_key(record: AccessRecord) -> tuple:
    return (record.at, record.pk)


def _once(merged):
    """The merged records with one read in both parts given once (it is next to itself)."""
    last = None
    for record in merged:
        if record.pk != last:
            yield record
        last = record.pk


# --- writing the access record (§5) -----------------------------------------------------------


def access_record(*, application, user, view: str, detail: str = "") -> None:
    """Record that `user` saw this application's personal data (§5 access record)."""
    _insert_records([getattr(application, "pk", application)], user=user, view=view, detail=detail)


def access_record_list(*, applications, user, view: str = "list") -> None:
    """One record per application shown on a list page (objects or their ids), in one
    INSERT."""
    ids = [getattr(application, "pk", application) for application in applications]
    if ids:
        _insert_records(ids, user=user, view=view)


def on_each_serve(applications, *, view: str, detail: str = "") -> Callable:
    """The access record of a page served again without its view (aid_alliance.
    replayed_pages): a callable given the request, recording what the page shows (objects
    or their ids) for the request's user on every serve."""
    return _OnEachServe(
        [getattr(application, "pk", application) for application in applications], view, detail
    )


class _OnEachServe:
    def __init__(self, ids: list, view: str, detail: str):
        self.ids, self.view, self.detail = ids, view, detail

    def __call__(self, request) -> None:
        if self.ids:
            _insert_records(self.ids, user=request.user, view=self.view, detail=self.detail)

    def with_the_reads(self, request, *, alias: str, when: str) -> list[tuple] | None:
        """The record as SQL written into the statement that compares the page's reads
        (replayed_pages._with_after): [(sql, params)] whose rows are written only `when`
        holds, [] for a page showing no child, None where it cannot be (not PostgreSQL, or
        records written to another database than the reads are read from)."""
        connection = connections[router.db_for_write(AccessRecord)]
        if connection.vendor != "postgresql" or connection.alias != alias:
            return None
        if not self.ids:
            return []
        insert = _insert_statement(connection.alias, connection.vendor, 0)
        return [
            (
                f"{insert} WHERE {when}",
                _insert_values(connection, self.ids, request.user, self.view, self.detail),
            )
        ]


@functools.cache
def _insert_statement(alias: str, vendor: str, rows: int) -> str:
    """The INSERT of `rows` records (one for any number on PostgreSQL), made once per
    process: quoting the names for each page view was Python spent again on every serve."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(AccessRecord._meta.get_field(name).column)
        for name in ("application", "user", "at", "view", "detail", "chain_hash")
    )
    table = quote(AccessRecord._meta.db_table)
    if vendor == "postgresql":
        # One short statement whatever the number of rows: the ids as one array. psycopg
        # parses a statement's placeholders once and keeps the result only for statements
        # of at most 50 parameters; the 25 rows of a list page as VALUES were 125, parsed
        # again on every serve (issue 18).
        rows_sql = "SELECT id, %s, %s, %s, %s, '' FROM unnest(%s::text::bigint[]) AS id"
        return f"INSERT INTO {table} ({columns}) {rows_sql}"  # noqa: S608 - names from the model, values as parameters
    rows_sql = ", ".join(["(%s, %s, %s, %s, %s, '')"] * rows)
    return f"INSERT INTO {table} ({columns}) VALUES {rows_sql}"  # noqa: S608 - names from the model, values as parameters


def _insert_records(ids: list, *, user, view: str, detail: str = "") -> None:
    """The rows are bulk_create's (every field but the chain's, which the sealer sets; one
    time for the page), written without building a model instance per row: that was a
    tenth of a list page's Python (issue 18).

    Each record's commit waits for the WAL flush, as every other commit does. Committing
    a page view's record without waiting (`synchronous_commit` off) was measured in issue
    18: 0.3 ms of a staff page on an idle disk, 3-5 ms on a busy one. It was dropped: a
    PostgreSQL crash would lose the records of its last moment, and §5's record of who saw
    a child's data must not have gaps that nobody can tell from a cut."""
    connection = connections[router.db_for_write(AccessRecord)]
    rows = 0 if connection.vendor == "postgresql" else len(ids)  # one for any number
    insert = _insert_statement(connection.alias, connection.vendor, rows)
    with connection.cursor() as cursor:
        cursor.execute(insert, _insert_values(connection, ids, user, view, detail))


def _insert_values(connection, ids: list, user, view: str, detail: str) -> list:
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    if connection.vendor == "postgresql":
        # The ids as one array, written as its text: psycopg dumps a list of ints element by
        # element in Python, a third of the insert's Python (issue 18).
        array = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
        return [user.pk, at, view, detail[:200], array]
    return [value for pk in ids for value in (pk, user.pk, at, view, detail[:200])]
