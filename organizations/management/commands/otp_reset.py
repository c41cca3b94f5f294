from django.core.management.base import BaseCommand, CommandError

from organizations import second_factor
from organizations.models import User


class Command(BaseCommand):
    help = (
        "Remove a staff user's second-factor devices (a lost phone): they set up a new one at "
        "their next login. Recorded as an account event."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--note", default="", help="Why, for the record (e.g. the ticket of the request)."
        )

    def handle(self, *args, username, note, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        removed = second_factor.reset(user=user, by=None, note=note)
        self.stdout.write(
            f"Second factor of {username} reset: {removed} device(s) removed; "
            "they set up a new one at their next login."
        )
