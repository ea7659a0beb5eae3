import time

from celery import shared_task
from django.core.cache import cache

from .health import HEARTBEAT_KEY


@shared_task(ignore_result=True, time_limit=10)
def worker_heartbeat() -> None:
    """Run by beat: proves to /healthz that a worker takes tasks. Idempotent by nature."""
    cache.set(HEARTBEAT_KEY, time.time(), timeout=3600)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=50)
def outbox_deliver(message_id: int) -> str:
    from .outbox import outbox_deliver_now

    return outbox_deliver_now(message_id)


@shared_task(ignore_result=True, time_limit=60)
def outbox_dispatch() -> int:
    from .outbox import outbox_dispatch as dispatch

    return dispatch()
