from django.core.management.base import BaseCommand, CommandError

from organizations import tokens
from organizations.models import ApiToken, User
from organizations.second_factor import os_account


class Command(BaseCommand):
    help = (
        "Make an API token for a staff user (a member's system) and print it once: only its "
        "hash is kept. Recorded as an account event."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Which system uses it.")
        parser.add_argument("--scope", required=True, choices=ApiToken.Scope.values)
        parser.add_argument(
            "--days", type=int, default=None, help="Days until it expires (API_TOKEN_DAYS)."
        )

    def handle(self, *args, username, name, scope, days, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        token, secret = tokens.api_token_create(
            user=user,
            name=name[:100],
            scope=scope,
            days=days,
            by=None,
            note=f"manage.py create_api_token, as {os_account()}",
        )
        self.stdout.write(
            f"Token for {username} ({token.get_scope_display()}, expires "
            f"{token.expires_at:%Y-%m-%d}). Shown once: {secret}"
        )
