"""Write a report file, the same as the web download (reports.services.report_write).

    python manage.py export_report --period 2026-Q4 --format pdf --output report.pdf
    python manage.py export_report --period 2026 --format xlsx --output authorities.xlsx \\
        --kind authorities --user secretariat [--full-ids]

The report to authorities holds personal data: --user names the secretariat member the
access record is written for (standard.md §5), as it would be for a download.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from organizations.models import User
from reports import services
from reports.models import ReportRun
from reports.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = "Write the alliance report (PDF, CSV, XLSX) or the report to authorities to a file."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026-11, 2026-Q4 or 2026.")
        parser.add_argument("--format", required=True, choices=ReportRun.Format.values)
        parser.add_argument("--output", required=True, type=Path, help="The file to write.")
        parser.add_argument(
            "--kind", choices=ReportRun.Kind.values, default=ReportRun.Kind.ALLIANCE
        )
        parser.add_argument(
            "--user", help="A secretariat user: needed for the report to authorities."
        )
        parser.add_argument("--full-ids", action="store_true", help="Full ID numbers.")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans")

    def handle(self, *args, period, format, output, kind, user, full_ids, language, **options):
        try:
            parsed = parse_period(period)
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        by = self._user(user, kind)
        try:
            with translation.override(language), output.open("wb") as target:
                services.report_write(
                    kind=kind, period=parsed, fmt=format, target=target, by=by, full_ids=full_ids
                )
        except (services.ReportError, PermissionDenied) as exc:
            output.unlink(missing_ok=True)
            raise CommandError(str(exc) or "Only the secretariat exports reports.") from None
        self.stdout.write(f"Wrote {output} ({output.stat().st_size} bytes).")

    @staticmethod
    def _user(username: str | None, kind: str):
        if username:
            found = User.objects.filter(username=username).first()
            if found is None or not services.may_export(found):
                raise CommandError(f"{username!r} is not a secretariat user or administrator.")
            return found
        if kind == ReportRun.Kind.AUTHORITIES:
            raise CommandError("The report to authorities needs --user (for the access record).")
        # The alliance report holds no personal data: no access record, any exporter.
        return _Operator()


class _Operator:
    """Whoever runs manage.py on the server: may write the alliance report's figures."""

    is_authenticated = True
    is_superuser = True
