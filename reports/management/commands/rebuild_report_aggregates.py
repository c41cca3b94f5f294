"""`manage.py rebuild_report_aggregates`: the alliance report's kept aggregates, built again.

Run it once when installing (until then the report reads the live tables), and to repair
the aggregates after rows were changed outside the services (reports/aggregates.py): the
services keep them exact from then on. `--check` compares them with the live figures.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import aggregates
from reports.models import AggregateStamp
from reports.periods import CHINA, PeriodError, parse_period
from reports.selectors import live_report_figures, report_figures


class Command(BaseCommand):
    help = "Rebuild the alliance report's aggregates (reports/aggregates.py) in one transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            nargs="?",
            const="",
            metavar="PERIOD",
            help="Compare the kept figures of a period (default: this year) with the live "
            "ones; no rebuild.",
        )

    def handle(self, *args, **options):
        if options["check"] is not None:
            today = timezone.localtime(timezone.now(), CHINA)
            try:
                period = parse_period(options["check"] or str(today.year))
            except PeriodError as exc:
                raise CommandError(str(exc)) from None
            if not aggregates.is_kept():
                raise CommandError("The report aggregates are not built yet.")
            now = timezone.now()
            if report_figures(period, now=now) != live_report_figures(period, now=now):
                raise CommandError(f"The kept figures of {period.code} differ from the live ones.")
            self.stdout.write(f"The kept figures of {period.code} equal the live ones.")
            return
        counts = aggregates.rebuild()
        stamp = AggregateStamp.objects.get()
        rows = ", ".join(f"{name} {count}" for name, count in counts.items())
        self.stdout.write(f"Report aggregates rebuilt in {stamp.seconds:.1f} s ({rows} rows).")
