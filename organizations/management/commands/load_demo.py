from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organizations import services
from organizations.models import MemberOrganization, User

DIRECTORY_FILE = Path(__file__).resolve().parents[2] / "data" / "demo-directory.yaml"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the documented demo password, refused with DEBUG off


class Command(BaseCommand):
    help = "Load the demo directory (8 members, 8 categories, 24 projects) and demo users."

    def add_arguments(self, parser):
        parser.add_argument(
            "--i-know-this-is-demo",
            action="store_true",
            dest="demo_ok",
            help="Create the demo users even with DEBUG off (they share one known password).",
        )
        parser.add_argument(
            "--no-users", action="store_true", help="Load the directory only, no demo users."
        )

    @transaction.atomic
    def handle(self, *args, demo_ok=False, no_users=False, **options):
        if not no_users and not settings.DEBUG and not demo_ok:
            raise CommandError(
                "DEBUG is off: demo users share a known password. Pass --i-know-this-is-demo "
                "to create them anyway, or --no-users to load only the directory."
            )
        data = yaml.safe_load(DIRECTORY_FILE.read_text(encoding="utf-8"))
        created = services.directory_load(data=data)
        self.stdout.write(
            "Directory: {members} members, {categories} categories, {projects} projects, "
            "{rule_versions} rule versions created.".format(**created)
        )
        if no_users:
            return
        new_users = self._demo_users()
        self.stdout.write(f"Demo users: {new_users} created (password: {DEMO_PASSWORD}).")

    def _demo_users(self) -> int:
        wanted = [("admin", "", None, True), ("secretariat", User.Role.SECRETARIAT, None, False)]
        for member in MemberOrganization.objects.order_by("number"):
            for role in (User.Role.CASEWORKER, User.Role.REVIEWER):
                wanted.append((f"m{member.number}-{role}", role, member, False))
        existing = set(User.objects.values_list("username", flat=True))
        created = 0
        for username, role, member, is_superuser in wanted:
            if username in existing:
                continue
            services.user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                organization=member,
                is_superuser=is_superuser,
            )
            created += 1
        return created
