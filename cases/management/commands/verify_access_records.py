from django.core.management.base import BaseCommand, CommandError

from cases import audit


class Command(BaseCommand):
    help = "Verify the access record's chain; exits with an error where it is broken."

    def handle(self, *args, **options):
        result = audit.verify()
        if not result.intact:
            raise CommandError(
                f"access record chain BROKEN at place {result.at_seq}: {result.problem} "
                f"({result.checked} record(s) verified before it)"
            )
        self.stdout.write(
            f"access record chain intact: {result.checked} sealed record(s), "
            f"{result.unsealed} not sealed yet"
        )
