"""Anonymise applications closed or withdrawn longer ago than the retention period.

    python manage.py anonymise_closed [--older-than-days N] [--dry-run] [--by USERNAME]

What goes and what stays: cases/privacy/retention.py. Call-back requests untouched for
LEAD_RETENTION_DAYS lose the family's name, phone and note in the same run. Safe to run
again (or from cron): anonymised applications are skipped.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.privacy import retention
from organizations.models import User


class Command(BaseCommand):
    help = "Anonymise applications closed or withdrawn longer ago than the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Closed or withdrawn more than this many days ago "
            "(default: settings.RETENTION_DAYS).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be anonymised."
        )
        parser.add_argument(
            "--by",
            default=None,
            help="The secretariat user named in the history (default: settings.RETENTION_ACTOR).",
        )
        parser.add_argument(
            "--batch", type=int, default=retention.BATCH, help="Applications per transaction."
        )

    def handle(self, *args, older_than_days=None, dry_run=False, by=None, batch=None, **options):
        days = settings.RETENTION_DAYS if older_than_days is None else older_than_days
        if days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1.")
        actor = None
        if not dry_run:
            username = by or settings.RETENTION_ACTOR
            if not username:
                raise CommandError(
                    "Name the secretariat user the history records: --by USERNAME "
                    "(or set RETENTION_ACTOR)."
                )
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None or not (actor.is_secretariat or actor.is_superuser):
                raise CommandError(f"{username!r} is not an active secretariat user.")
        run = retention.anonymise_closed(
            older_than_days=days, by=actor, dry_run=dry_run, batch=batch or retention.BATCH
        )
        if dry_run:
            self.stdout.write(
                f"Dry run: {run.due} applications closed more than {days} days ago would be "
                f"anonymised ({run.documents} documents deleted)."
            )
        else:
            self.stdout.write(
                f"Anonymised {run.anonymised} applications closed more than {days} days ago "
                f"({run.children} child records, {run.documents} documents deleted) "
                f"in {run.batches} batches."
            )
        # Call-back requests from the pre-check have their own, shorter period (issue 17).
        lead_days = settings.LEAD_RETENTION_DAYS
        leads = retention.anonymise_leads(older_than_days=lead_days, dry_run=dry_run)
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{leads} call-back requests untouched for more "
            f"than {lead_days} days {'would be' if dry_run else 'were'} anonymised."
        )
