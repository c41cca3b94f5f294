from django.core.management.base import BaseCommand, CommandError

from cases import audit


class Command(BaseCommand):
    help = (
        "Verify the access record's chain against its head and the latest checkpoint, and "
        "that no record waits too long to be sealed; exits with an error naming the problem."
    )

    def handle(self, *args, **options):
        result = audit.verify()
        if not result.intact:
            where = f" at place {result.at_seq}" if result.at_seq is not None else ""
            raise CommandError(
                f"access record chain BROKEN{where}: {result.problem} "
                f"({result.checked} record(s) verified before it)"
            )
        checkpoint = (
            f"; matches the checkpoint at place {result.checkpoint_seq} ({result.checkpoint_at})"
            if result.checkpoint_seq is not None
            else "; no checkpoint yet (nothing sealed)"
        )
        self.stdout.write(
            f"access record chain intact: {result.checked} sealed record(s), "
            f"{result.unsealed} not sealed yet{checkpoint}"
        )
