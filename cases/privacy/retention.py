"""Retention: the personal data of long-closed applications is anonymised (PIPL art. 19, 47).

`manage.py anonymise_closed` runs `anonymise_closed()`. An application closed or withdrawn
longer ago than the retention period (settings.RETENTION_DAYS, five years unless set) loses
everything that names or reaches the child and the family: names, ID numbers, phones,
addresses, bank accounts, free-text notes, the diagnosis as written, hospitals, and the
documents (rows and stored files).

Kept, so that the alliance report's figures (reports.selectors.report_figures) stay exactly
the same: the member, disease category, ICD code, the child record's identity (children
aided are distinct children) and its province (household and hospital region cut to the
province, the level the reports use), sex and year of birth, every date and state, amounts
(estimate, coverage, other aid, household income), decline reasons, pledges, receipts'
amounts, allocations and payments (money paid stays traceable in the members' accounts).

One child record serves all of the child's applications (Child ← Application). It is
anonymised with the child's last application: while another application of the child is
not anonymised (open, a draft, or closed more recently), the child record stays whole, so
that application and the child's cumulative caps are untouched.

Idempotent (anonymised applications are skipped), in batches, each batch one transaction
with its applications locked; files are deleted only after the batch commits.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases import events
from cases.models import (
    Allocation,
    Application,
    ApplicationEvent,
    Child,
    Document,
    Guardian,
    Lead,
    LeadEvent,
    MemberReview,
    OtherAid,
    Payment,
    Receipt,
    ReviewEvent,
    private_storage,
)
from reports import aggregates as report_aggregates

BATCH = 200
LEAD_BATCH = 5000  # ids per statement when call-back requests are anonymised
CLOSED = (Application.Status.CLOSED, Application.Status.WITHDRAWN)
# Review notes that are the system's words, not a person's: kept on anonymisation.
SYSTEM_NOTES = set(ReviewEvent.SystemNote.values)

logger = logging.getLogger(__name__)


@dataclass
class RetentionRun:
    due: int = 0
    anonymised: int = 0
    children: int = 0
    documents: int = 0
    batches: int = 0


def due_for_anonymisation(*, older_than_days: int, now=None):
    """Closed or withdrawn applications past the retention period, not yet anonymised."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    return (
        Application.objects.filter(status__in=CLOSED, anonymised_at__isnull=True)
        .alias(ended=Coalesce("closed_at", "updated_at"))
        .filter(ended__lt=cutoff)
    )


def province_code(region: str) -> str:
    """A GB/T 2260 code cut to its province: 110105 -> 110000."""
    return f"{region[:2]}0000" if len(region or "") >= 2 else ""


def anonymise_closed(
    *, older_than_days: int, by, dry_run: bool = False, batch: int = BATCH, now=None
) -> RetentionRun:
    now = now or timezone.now()
    due = due_for_anonymisation(older_than_days=older_than_days, now=now)
    run = RetentionRun(due=due.count())
    if dry_run:
        run.documents = Document.objects.filter(application__in=due).count()
        return run
    last = 0
    while ids := list(due.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]):
        last = ids[-1]
        files: list[str] = []
        with transaction.atomic():
            # Locked, then checked again: an application reopened or anonymised by a run at
            # the same moment since the ids were read is left alone.
            locked = list(
                due.filter(pk__in=ids).select_for_update().order_by("pk").select_related("child")
            )
            for application in locked:
                files += _anonymise(application, by=by, now=now, days=older_than_days, run=run)
            transaction.on_commit(lambda names=tuple(files): _delete_files(names))
        run.batches += 1
    return run


def _delete_files(names) -> None:
    """After the commit: a file that cannot be deleted is logged by name and the others go
    on (its row is gone, so the log is where an operator finds it)."""
    storage = private_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("retention: could not delete stored file %s", name)


def _anonymise(application: Application, *, by, now, days: int, run: RetentionRun) -> list[str]:
    pk = application.pk
    # ID and account numbers are written through the model (never .update()): their keyed
    # hashes are set on save and must go with them (cases.crypto).
    for guardian in Guardian.objects.filter(application_id=pk):
        guardian.name = guardian.id_number = guardian.phone = guardian.occupation = ""
        guardian.save()
    OtherAid.objects.filter(application_id=pk).update(source="")

    documents = list(Document.objects.filter(application_id=pk))
    Receipt.objects.filter(scan__in=documents).update(scan=None)
    files = [document.file.name for document in documents if document.file.name]
    Document.objects.filter(pk__in=[document.pk for document in documents]).delete()
    run.documents += len(documents)

    reviews = MemberReview.objects.filter(application_id=pk)
    reviews.update(requested_items="", override_reason="")
    review_events = ReviewEvent.objects.filter(review__application_id=pk)
    review_events.exclude(note__in=SYSTEM_NOTES).update(note="")
    review_events.update(internal_note="")
    Receipt.objects.filter(application_id=pk).update(patient_number="")
    Allocation.objects.filter(review__application_id=pk).update(note="")
    payments = Payment.objects.filter(review__application_id=pk)
    payments.update(note="")
    for payment in payments.filter(payee_kind=Application.PayeeKind.GUARDIAN):
        payment.payee_name = payment.bank_name = payment.account_number = ""
        payment.save(update_fields=["payee_name", "bank_name", "account_number"])

    history = list(ApplicationEvent.objects.filter(application_id=pk))
    for event in history:
        # Which fields changed stays; what they held goes.
        event.changes = {name: ["", ""] for name in event.changes or {}}
        event.note = ""
    ApplicationEvent.objects.bulk_update(history, ["changes", "note"], batch_size=500)

    for name in (
        "income_source",
        "assets_debts",
        "diagnosis_text",
        "diagnosing_hospital",
        "treating_hospital",
        "department",
        "bank_name",
        "account_name",
        "account_number",
        "consent_withdrawal_note",
    ):
        setattr(application, name, "")
    application.hospital_region = province_code(application.hospital_region)
    application.pending_input = {}
    application.anonymised_at = now
    application.save()
    run.anonymised += 1

    # Section A is the application's own record (cases.models.ChildIdentity): the child's
    # newer applications keep theirs until their own retention period ends.
    child = Child.objects.select_for_update().get(pk=application.child_id)
    child.name = child.id_type = child.id_number = child.ethnicity = child.address = ""
    child.household_region = province_code(child.household_region)
    if child.dob is not None:
        child.dob = date(child.dob.year, 1, 1)
    child.save()
    run.children += 1
    events.record_event(
        application=application,
        by=by,
        kind=events.Action.ANONYMISED,
        note=f"retention period {days} days",
    )
    report_aggregates.refresh(application)  # the figures stay: the province is kept
    return files


# --- call-back requests (issue 17) ---------------------------------------------------------


def anonymise_leads(*, older_than_days: int, dry_run: bool = False, now=None) -> int:
    """Call-back requests untouched for longer than the period (settings.LEAD_RETENTION_DAYS)
    lose the family's name, phone and note, and their history's notes; the member, the
    province, the illness, the states and dates stay. Whatever became of a request: an
    application opened from it holds its own copy of the data under its own retention.
    One statement each, so safe to run twice or at once."""
    now = now or timezone.now()
    due = Lead.objects.filter(
        anonymised_at__isnull=True, updated_at__lt=now - timedelta(days=older_than_days)
    )
    if dry_run:
        return due.count()
    with transaction.atomic():
        ids = list(due.select_for_update().values_list("pk", flat=True))
        # In batches: a statement takes at most 65,535 parameters (psycopg 3's server-side
        # binding), and a long outage can leave more requests than that due at once.
        for batch in itertools.batched(ids, LEAD_BATCH):
            LeadEvent.objects.filter(lead_id__in=batch).update(note="")
            # .update(): updated_at stays the last real change.
            Lead.objects.filter(pk__in=batch).update(name="", phone="", note="", anonymised_at=now)
    return len(ids)
