import time

from celery import shared_task
from django.core.cache import cache

from .health import HEARTBEAT_KEY


@shared_task(ignore_result=True, time_limit=10)
def worker_heartbeat() -> None:
    """Run by beat: proves to /healthz that a worker takes tasks. Idempotent by nature."""
    cache.set(HEARTBEAT_KEY, time.time(), timeout=3600)
