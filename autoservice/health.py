"""/healthz: database, broker and worker state as JSON.

200 when the database answers. The broker and the worker are reported; on the embedded
default (no Redis, tasks inline) they are "inline" and not required.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

HEARTBEAT_KEY = "worker-heartbeat"


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down", with its class for operators
        return f"down: {exc.__class__.__name__}"
    return "ok"


def _broker() -> str:
    if not settings.REDIS_URL:
        return "inline"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError as exc:
        return f"down: {exc.__class__.__name__}"
    return "ok"


def _worker() -> dict[str, object]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"state": "inline"}
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"state": f"unknown: {exc.__class__.__name__}"}
    if beat is None:
        return {"state": "no heartbeat"}
    age = round(time.time() - float(beat), 1)
    state = "ok" if age <= settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS else "stale"
    return {"state": state, "heartbeat_age_seconds": age}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    body = {"database": database, "broker": _broker(), "worker": _worker()}
    return JsonResponse(body, status=200 if database == "ok" else 503)
