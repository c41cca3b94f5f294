"""The application's history (ApplicationEvent): its kinds, and the one function that
writes a row. Every service that changes an application calls `record_event`; the
history shows `ApplicationEvent.Action(kind).label`, never the stored value."""

from __future__ import annotations

from cases.models import Application, ApplicationEvent

Action = ApplicationEvent.Action


def record_event(
    *,
    application: Application,
    by,
    kind: Action,
    section: str = "",
    changes: dict | None = None,
    note: str = "",
) -> ApplicationEvent:
    """One history row, with the acting user (None for the system, e.g. retention)."""
    return ApplicationEvent.objects.create(
        application=application,
        actor=by,
        action=Action(kind),
        section=section,
        changes=changes or {},
        note=note[:300],
    )
