from django.core.management.base import BaseCommand

from cases.review import services as workflow


class Command(BaseCommand):
    help = "Expire member reviews with no decision within their member's time limit."

    def handle(self, *args, **options):
        expired = workflow.reviews_expire()
        self.stdout.write(f"{expired} reviews expired.")
