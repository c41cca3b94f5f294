"""Background work through Django's tasks framework (settings.TASKS).

With the immediate backend (the default) a task runs inside the request that enqueued it;
with TASKS_BACKEND=database it waits in the database until `manage.py db_worker` claims it.
Arguments are JSON: the run's id, never a model instance.
"""

from django.tasks import task

from reports import services


@task()
def generate_report(run_id: int) -> str:
    return services.run_execute(run_id=run_id)
