"""The platform's periodic and delivery tasks.

Every task of the project states its own `time_limit` and a smaller `soft_time_limit`
(tests/autoservice/test_celery_tasks.py checks each one and sends every task beat schedules
through a real broker): a task without them would inherit the global limit, and a soft
limit above a task's hard one makes Celery refuse to send it at all.
"""

import time

from celery import shared_task
from django.core.cache import cache

from .health import HEARTBEAT_KEY


@shared_task(ignore_result=True, time_limit=10, soft_time_limit=5)
def worker_heartbeat() -> None:
    """Run by beat: proves to /healthz that beat schedules and a worker takes tasks."""
    cache.set(HEARTBEAT_KEY, time.time(), timeout=3600)


# Below OUTBOX_LEASE_SECONDS, so that a row is never taken from a living worker; the soft
# limit leaves time to record a timed-out attempt as failed (it is retried with backoff).
@shared_task(ignore_result=True, time_limit=40, soft_time_limit=30)
def outbox_deliver(message_id: int) -> str:
    from .outbox import outbox_deliver_now

    return outbox_deliver_now(message_id)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=5)
def outbox_dispatch() -> int:
    from .outbox import outbox_dispatch as dispatch

    return dispatch()


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=240)
def access_log_prune() -> int:
    """Run daily by beat: the access log older than ACCESS_LOG_RETENTION_DAYS goes."""
    from .access import access_log_prune as prune

    return prune()


# Retention (152-FZ): one act per shop for each run that destroyed something. Each shop's
# run is one transaction; a run cut short is finished by the next one (idempotent).
@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def personal_data_retention() -> int:
    from .personal_data import retention_run

    return len(retention_run())


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=240)
def personal_data_withdrawn_consents() -> int:
    from .personal_data import withdrawn_consents_run

    return len(withdrawn_consents_run())
