from base64 import b32decode
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations import second_factor, services
from organizations.models import Hospital, MemberOrganization, User

DIRECTORY_FILE = Path(__file__).resolve().parents[2] / "data" / "demo-directory.yaml"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the documented demo password, refused with DEBUG off
# The documented second-factor key of the demo users who need one (reviewers, the
# secretariat, admin), as public as the demo password: add it to an authenticator app, or
# print the current code with `manage.py demo_otp_code`.
DEMO_OTP_SECRET = "AIDALLIANCEDEMOAAIDALLIANCEDEMOA"  # noqa: S105


class Command(BaseCommand):
    help = (
        "Load the demo directory (8 members, 8 categories, 24 projects, 11 hospitals) and "
        "demo users."
    )

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
            "{rule_versions} rule versions, {hospitals} hospitals created.".format(**created)
        )
        if no_users:
            return
        new_users = self._demo_users()
        self.stdout.write(f"Demo users: {len(new_users)} created (password: {DEMO_PASSWORD}).")
        devices = self._demo_devices(new_users)
        self.stdout.write(
            f"Second factor: {devices} demo device(s) added. Reviewers, secretariat and admin "
            f"enter a code from an authenticator app with the key {DEMO_OTP_SECRET}, or the "
            "one `python manage.py demo_otp_code` prints."
        )

    def _wanted(self) -> list[tuple]:
        wanted = [("admin", "", None, True), ("secretariat", User.Role.SECRETARIAT, None, False)]
        for member in MemberOrganization.objects.order_by("number"):
            for role in (User.Role.CASEWORKER, User.Role.REVIEWER):
                wanted.append((f"m{member.number}-{role}", role, member, False))
        # Hospital staff of two demo hospitals (issue 17): h-bch, h-scmc.
        for hospital in Hospital.objects.filter(code__in=["bch", "scmc"]).order_by("code"):
            wanted.append((f"h-{hospital.code}", User.Role.HOSPITAL_STAFF, hospital, False))
        return wanted

    def _demo_users(self) -> list[str]:
        """Create the demo users who do not exist yet; their names."""
        existing = set(User.objects.values_list("username", flat=True))
        created = []
        for username, role, place, is_superuser in self._wanted():
            if username in existing:
                continue
            at_hospital = role == User.Role.HOSPITAL_STAFF
            services.user_create(
                by=None,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                organization=None if at_hospital else place,
                hospital=place if at_hospital else None,
                is_superuser=is_superuser,
            )
            created.append(username)
        return created

    def _demo_devices(self, usernames: list[str]) -> int:
        """A device with the demo key for each demo user created by this run who needs one:
        never for an account that existed before (a real `admin` must not get a key that
        is printed in the README)."""
        users = User.objects.filter(username__in=usernames).exclude(
            Exists(TOTPDevice.objects.filter(user=OuterRef("pk")))
        )
        key = b32decode(DEMO_OTP_SECRET).hex()
        devices = [
            TOTPDevice(user=user, name="demo", key=key, confirmed=True)
            for user in users
            if second_factor.required_by_role(user)
        ]
        TOTPDevice.objects.bulk_create(devices)
        return len(devices)
