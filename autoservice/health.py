"""Health for machines: liveness, readiness and metrics.

- `/healthz/live`: the web process answers. Point the load balancer and the process
  supervisor here: a broker outage must not take the drivers' forms offline, because the
  outbox keeps everything they send.
- `/healthz/ready` (and `/healthz`): the whole delivery path works. 503 when the database
  does not answer, when (on the full stack) the broker is down or no worker heartbeat has
  arrived lately, or when an undelivered notification is older than OUTBOX_ALERT_SECONDS.
  Monitoring alerts on it.
- `/metrics`: the same figures in the Prometheus text format, the depth of each Celery
  queue, and the histograms and counters of autoservice/metrics.py (supplier answers, photo
  processing, first response to a lead, requests by view).

On the embedded default (no Redis, tasks inline) the broker and the worker are "inline" and
not required.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from .metrics import exposition

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


def _outbox() -> dict[str, object]:
    from .outbox import outbox_backlog

    backlog = outbox_backlog()
    age = backlog.oldest_age_seconds
    return {
        "state": "delayed" if backlog.delayed else "ok",
        "undelivered": backlog.undelivered,
        "oldest_undelivered_age_seconds": None if age is None else round(age, 1),
        "alert_after_seconds": settings.OUTBOX_ALERT_SECONDS,
        "failed_last_7_days": backlog.failed_recently,
    }


def readiness() -> tuple[bool, dict[str, object]]:
    database = _database()
    body: dict[str, object] = {"database": database, "broker": _broker(), "worker": _worker()}
    ready = database == "ok"
    if ready:
        body["outbox"] = _outbox()
        ready = body["outbox"]["state"] == "ok"
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        ready = ready and body["broker"] == "ok" and body["worker"]["state"] == "ok"
    body["status"] = "ready" if ready else "not ready"
    return ready, body


@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


@never_cache
def healthz_ready(request: HttpRequest) -> JsonResponse:
    ready, body = readiness()
    return JsonResponse(body, status=200 if ready else 503)


def _metric(lines: list[str], name: str, help_text: str, value: float | None) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines.append(f"{name} {'NaN' if value is None else value}")


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization", "") != f"Bearer {token}":
        return HttpResponse("unauthorized\n", status=401, content_type="text/plain")
    ready, body = readiness()
    lines: list[str] = []
    _metric(lines, "autoservice_ready", "1 when /healthz/ready answers 200.", int(ready))
    _metric(
        lines,
        "autoservice_database_up",
        "1 when the database answers.",
        int(body["database"] == "ok"),
    )
    outbox = body.get("outbox") or {}
    _metric(
        lines,
        "autoservice_outbox_undelivered",
        "Notifications not delivered yet.",
        outbox.get("undelivered"),
    )
    _metric(
        lines,
        "autoservice_outbox_oldest_undelivered_age_seconds",
        "Age of the oldest undelivered notification (0 when none).",
        outbox.get("oldest_undelivered_age_seconds") or (0 if outbox else None),
    )
    _metric(
        lines,
        "autoservice_outbox_failed_7d",
        "Notifications given up on in 7 days.",
        outbox.get("failed_last_7_days"),
    )
    worker = body["worker"]
    _metric(
        lines,
        "autoservice_worker_heartbeat_age_seconds",
        "Seconds since a worker ran the heartbeat beat schedules.",
        worker.get("heartbeat_age_seconds"),
    )
    depths = queue_depths()
    if depths:
        lines += [
            "# HELP autoservice_celery_queue_length Tasks waiting in a Celery queue.",
            "# TYPE autoservice_celery_queue_length gauge",
        ]
    for queue, depth in depths.items():
        lines.append(f'autoservice_celery_queue_length{{queue="{queue}"}} {depth}')
    text = "\n".join(lines) + "\n"
    return HttpResponse(
        text.encode() + exposition(), content_type="text/plain; version=0.0.4; charset=utf-8"
    )


# kombu's Redis transport keeps a queue's messages of priority p>0 under "<queue>\x06\x16<p>".
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def _queue_names() -> list[str]:
    from .celery import app

    names = {app.conf.task_default_queue, *getattr(settings, "CELERY_QUEUE_NAMES", ())}
    names.update(queue.name for queue in app.conf.task_queues or ())
    return sorted(names)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each Celery queue (Redis LLEN); nothing without a Redis broker."""
    broker_url = settings.CELERY_BROKER_URL or ""
    if settings.CELERY_TASK_ALWAYS_EAGER or not broker_url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=1, socket_timeout=1)
    depths: dict[str, int] = {}
    try:
        with client.pipeline(transaction=False) as pipe:
            names = _queue_names()
            for name in names:
                pipe.llen(name)
                for step in _PRIORITY_STEPS:
                    pipe.llen(f"{name}{_PRIORITY_SEP}{step}")
            counts = pipe.execute()
    except redis.RedisError:
        return {}  # the broker being down is autoservice_ready 0 already
    finally:
        client.close()
    per_queue = 1 + len(_PRIORITY_STEPS)
    for index, name in enumerate(names):
        depths[name] = sum(counts[index * per_queue : (index + 1) * per_queue])
    return depths
