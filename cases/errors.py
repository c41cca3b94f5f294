"""The refusals every feature's services raise; the adapters map them to a message on the
page or to HTTP (cases.api_base.api_exception_handler)."""

from __future__ import annotations

from django.utils.translation import gettext as _


class ApplicationError(Exception):
    """A change refused by a rule of the standard; the message is for the caseworker (409)."""


class WorkflowError(ApplicationError):
    """A transition refused by the workflow's rules (HTTP 409 in the API). `field`, when
    given, is the form field the page shows the message beside."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAllowed(ApplicationError):
    """The user may not make this change (a 403 or 404 for the views)."""


class DuplicateApplication(ApplicationError):
    """Submission refused: the child already has an open application in this disease
    category (§2). `match` is what the caseworker may be told of it (selectors'
    PossibleMatch: the member always; the application only when shared with them)."""

    code = "duplicate_application"

    def __init__(self, message, *, match):
        super().__init__(message)
        self.match = match


class IncompleteApplication(ApplicationError):
    """Submission refused: a section is not complete or not valid yet. The page lists every
    field in error (cases.intake.selectors.submission_errors), the API too."""


class InvalidInput(WorkflowError):
    """A value of the request refused before anything changed: a message at `field` on the
    page, a 400 naming the field in the API."""

    def __init__(self, message, *, field: str):
        super().__init__(message, field=field)


def consent_withdrawn_refusal() -> str:
    """Why a submission or routing is refused after the guardian withdrew consent."""
    return _(
        "The guardian has withdrawn consent to sharing: this application can no longer be "
        "submitted or routed to the members. A new application needs the guardian's new consent."
    )
