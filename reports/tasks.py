"""Background work through Django's tasks framework (settings.TASKS).

With the immediate backend (the default) a task runs inside the request that enqueued it;
with TASKS_BACKEND=database it waits in the database until `manage.py db_worker` claims it.
Arguments are JSON: the run's id, never a model instance. The work itself is
reports.services.run_execute; asking for it (run_request) is here, beside the task, so
that services never imports this module back.
"""

from django.tasks import task
from django.utils import translation

from reports import services
from reports.models import ReportRun
from reports.periods import Period


@task()
def generate_report(run_id: int) -> str:
    return services.run_execute(run_id=run_id)


def run_request(*, kind: str, period: Period, fmt: str, by, full_ids: bool = False) -> ReportRun:
    """Ask for a report file to be made by a task; the browser follows its progress.

    The run's row is committed before the task is enqueued (views run in autocommit), so a
    worker on another machine always finds it.
    """
    services.check_request(kind, fmt, full_ids, by)
    run = ReportRun.objects.create(
        kind=kind,
        period=period.code,
        format=fmt,
        full_ids=full_ids,
        language=translation.get_language() or "zh-hans",
        requested_by=by,
    )
    result = generate_report.enqueue(run.pk)
    # The immediate backend has run the task already and saved the run: keep its fields.
    ReportRun.objects.filter(pk=run.pk).update(task_id=str(result.id)[:64])
    run.refresh_from_db()
    return run
