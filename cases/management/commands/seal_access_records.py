import logging
import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from cases import audit

logger = logging.getLogger("cases.audit")


class Command(BaseCommand):
    help = (
        "Seal new access records into the tamper-evident chain, once, or with --loop every "
        "SECONDS until stopped (SIGTERM, SIGINT) or until the process that started it ends."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="keep running and seal every SECONDS (what make run and the sealer unit do)",
        )

    def handle(self, *args, loop=None, **options):
        if loop is None:
            try:
                sealed = audit.seal()
            except audit.ChainBroken as error:
                raise CommandError(f"access record chain BROKEN: {error}") from None
            self.stdout.write(f"sealed {sealed} access record(s)")
            return
        if loop <= 0:
            raise CommandError("--loop needs a number of seconds above 0")
        self._loop(loop)

    def _loop(self, seconds: float) -> None:
        stop = threading.Event()
        handlers = {
            number: signal.signal(number, lambda *_: stop.set())
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        # A loop left behind when its starter was killed outright (make run's gunicorn by
        # SIGKILL) notices it was handed to another parent and ends with it.
        parent = os.getppid()
        self.stdout.write(f"sealing access records every {seconds:g} s")
        try:
            while not stop.is_set() and os.getppid() == parent:
                self._seal_once()
                stop.wait(seconds)
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)
        self.stdout.write("sealing loop stopped")

    def _seal_once(self) -> None:
        """One run; a failure is logged and the next run tries again, so a database restart
        or a full disk never ends sealing for good."""
        try:
            sealed = audit.seal()
        except audit.ChainBroken as error:
            logger.error("access record chain BROKEN: %s", error)
            self.stderr.write(f"access record chain BROKEN: {error}")
        except (DatabaseError, OSError) as error:
            logger.exception("sealing access records failed")
            self.stderr.write(f"sealing access records failed: {error}")
            if isinstance(error, DatabaseError) and not connection.in_atomic_block:
                connection.close()  # the next run reconnects
        else:
            if sealed:
                self.stdout.write(f"sealed {sealed} access record(s)")
