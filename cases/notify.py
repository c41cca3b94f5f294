"""Notifications: e-mail to staff, and a notifier for families behind one interface.

Everything here is called from transaction.on_commit: nothing is sent for a change
that did not happen.
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger("aid_alliance.notify")


class FamilyNotifier:
    """Sends a short text to a guardian's phone. Production plugs in an SMS gateway."""

    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class LoggingNotifier(FamilyNotifier):
    """The default: writes the message to the log instead of sending it."""

    sent: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
        logger.info("family notice to %s: %s", masked, text)
        LoggingNotifier.sent.append((phone, text))


@cache
def family_notifier() -> FamilyNotifier:
    return import_string(settings.FAMILY_NOTIFIER)()


def email_staff(user, subject: str, body: str) -> None:
    if not user.email:
        logger.info("no e-mail address for %s: %s", user.get_username(), subject)
        return
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # a mail server down must not break the decision, already committed
        logger.exception("e-mail to %s failed: %s", user.get_username(), subject)
