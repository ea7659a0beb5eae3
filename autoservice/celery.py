"""The Celery app, configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autoservice.settings")

app = Celery("autoservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# The request id, shop and lead of whoever queued a task follow it into the worker's logs
# (autoservice/logcontext.py).
@signals.before_task_publish.connect(weak=False)
def _publish_log_context(headers=None, **kwargs):
    from .logcontext import celery_headers_add

    celery_headers_add(headers)


@signals.task_prerun.connect(weak=False)
def _enter_log_context(task_id=None, task=None, **kwargs):
    from .logcontext import celery_task_enter

    celery_task_enter(task_id=task_id, task=task)


@signals.task_postrun.connect(weak=False)
def _leave_log_context(task_id=None, **kwargs):
    from .logcontext import celery_task_leave

    celery_task_leave(task_id=task_id)


@signals.after_setup_logger.connect(weak=False)
@signals.after_setup_task_logger.connect(weak=False)
def _worker_log_format(logger=None, **kwargs):
    from django.conf import settings

    from .logcontext import celery_logging_setup

    celery_logging_setup(logger, json_format=settings.LOG_FORMAT == "json")
