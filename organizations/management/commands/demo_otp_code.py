from base64 import b32decode

from django.core.management.base import BaseCommand
from django_otp.oath import TOTP

from organizations.management.commands.load_demo import DEMO_OTP_SECRET


class Command(BaseCommand):
    help = (
        "Print the current 6-digit code of the demo key (load_demo's demo users), for trying "
        "the demo without an authenticator app. Each code is accepted once per user."
    )

    def handle(self, *args, **options):
        totp = TOTP(b32decode(DEMO_OTP_SECRET))
        self.stdout.write(f"{totp.token():06d}")
