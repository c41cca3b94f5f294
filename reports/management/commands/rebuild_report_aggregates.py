"""`manage.py rebuild_report_aggregates`: the alliance report's kept aggregates, built again.

Run it from cron (deploy/aid-alliance.cron) on the worker host: the report reads them while
nothing has changed since (reports/aggregates.py), and the live tables otherwise.
"""

from django.core.management.base import BaseCommand

from reports import aggregates
from reports.models import AggregateStamp


class Command(BaseCommand):
    help = "Rebuild the alliance report's aggregates (reports/aggregates.py) in one transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Rebuild even when nothing changed since."
        )

    def handle(self, *args, **options):
        if not options["force"] and aggregates.is_fresh():
            self.stdout.write("Report aggregates are fresh: nothing changed since the rebuild.")
            return
        counts = aggregates.rebuild()
        stamp = AggregateStamp.objects.get()
        rows = ", ".join(f"{name} {count}" for name, count in counts.items())
        self.stdout.write(f"Report aggregates rebuilt in {stamp.seconds:.1f} s ({rows} rows).")
