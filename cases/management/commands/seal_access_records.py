from django.core.management.base import BaseCommand

from cases import audit


class Command(BaseCommand):
    help = "Seal new access records into the tamper-evident chain (run every minute)."

    def handle(self, *args, **options):
        sealed = audit.seal()
        self.stdout.write(f"sealed {sealed} access record(s)")
