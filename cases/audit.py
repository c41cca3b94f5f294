"""The access record made tamper-evident: sealing into one chain, and verifying it (§5).

Records are written by every page view (cases.services.access_record) without waiting for
anyone: sealing is a separate step (`manage.py seal_access_records`, run every minute by the
worker or cron) so that page views never queue behind one global lock. The sealer takes
the chain's head row lock, gives each unsealed record, in id order, the next place in the
chain and an HMAC over its fields and the previous hash. The key comes from the
environment (ACCESS_CHAIN_KEY, else SECRET_KEY): someone who can write the database but
does not hold the key cannot recompute the chain after editing a record.

A record committed late (its id lower than records already sealed) is simply sealed in
the next run: the chain's order is the sealing order, kept in ``chain_seq``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from cases.models import AccessChainHead, AccessRecord

BATCH = 5000
_FIELDS = ("pk", "application_id", "user_id", "at", "view", "detail")


def _digest(seq: int, pk, application_id, user_id, at, view, detail, previous: str) -> str:
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    message = f"{seq}|{pk}|{application_id}|{user_id}|{stamp}|{view}|{detail}|{previous}"
    key = getattr(settings, "ACCESS_CHAIN_KEY", "") or settings.SECRET_KEY
    return salted_hmac(
        "aid_alliance.access-chain", message, secret=key, algorithm="sha256"
    ).hexdigest()


def seal(*, batch: int = BATCH) -> int:
    """Seal every unsealed record; returns how many. Another sealer running: returns 0."""
    AccessChainHead.objects.get_or_create(pk=1)
    sealed = 0
    while True:
        with transaction.atomic():
            head = AccessChainHead.objects.select_for_update(skip_locked=True).filter(pk=1).first()
            if head is None:
                return sealed  # another sealer holds the chain; it will seal these too
            rows = list(
                AccessRecord.objects.filter(chain_seq__isnull=True)
                .order_by("pk")
                .only("application_id", "user_id", "at", "view", "detail")[:batch]
            )
            if not rows:
                return sealed
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


@dataclass
class Verification:
    checked: int
    unsealed: int
    problem: str = ""
    at_seq: int | None = None

    @property
    def intact(self) -> bool:
        return not self.problem


def verify() -> Verification:
    """Walk the chain from its start: every place filled, every hash right, the end where the
    head says. Streams the records, so it runs in constant memory."""
    head = AccessChainHead.objects.filter(pk=1).first()
    expected_seq, previous, checked = 0, "0" * 64, 0
    rows = (
        AccessRecord.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values_list("chain_seq", "chain_hash", *_FIELDS)
        .iterator(chunk_size=BATCH)
    )
    unsealed = AccessRecord.objects.filter(chain_seq__isnull=True).count()
    for seq, chain_hash, pk, application_id, user_id, at, view, detail in rows:
        expected_seq += 1
        if seq != expected_seq:
            return Verification(checked, unsealed, "missing record(s) before this place", seq)
        digest = _digest(seq, pk, application_id, user_id, at, view, detail, previous)
        if not hmac.compare_digest(digest, chain_hash):
            return Verification(checked, unsealed, "record changed, or hash rewritten", seq)
        previous = digest
        checked += 1
    last_seq = head.last_seq if head else 0
    last_hash = head.last_hash if head else "0" * 64
    if expected_seq != last_seq or previous != last_hash:
        return Verification(checked, unsealed, "the end of the chain was cut off", expected_seq)
    return Verification(checked, unsealed)
