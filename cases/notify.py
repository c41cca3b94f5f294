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
from django.utils.translation import gettext

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


def status_page_url() -> str:
    """The family status page's absolute address (SITE_URL): families read it in a text."""
    return f"{settings.SITE_URL}/status/"


def family_text(text: str, *, reference: str, submitted: bool = True) -> str:
    """A text to a family that carries the way back (issue 17): it names the reference and
    the status page's address, where the reference and the guardian's phone open it.
    Callers build `text` in Chinese (translation.override("zh-hans"))."""
    if reference not in text:
        text = f"{reference}: {text}"
    if not submitted:  # a draft: the status page finds it once the caseworker submits it
        way_back = gettext(
            "Once the application is submitted, see its status at %(url)s with reference "
            "%(reference)s and this phone number."
        )
    else:
        way_back = gettext(
            "See the status at %(url)s with reference %(reference)s and this phone number."
        )
    return text + " " + way_back % {"url": status_page_url(), "reference": reference}


def email_staff(user, subject: str, body: str) -> None:
    if not user.email:
        logger.info("no e-mail address for %s: %s", user.get_username(), subject)
        return
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # a mail server down must not break the decision, already committed
        logger.exception("e-mail to %s failed: %s", user.get_username(), subject)
