"""Liveness, readiness and metrics: readiness means the delivery path works end to end."""

import datetime as dt
import json
import time

from django.core.cache import cache
from django.utils import timezone

from autoservice.health import HEARTBEAT_KEY
from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_put
from autoservice.tasks import worker_heartbeat


def _ready(client):
    response = client.get("/healthz/ready")
    return response.status_code, json.loads(response.content)


def _old_undelivered(shop, key="late", minutes=10) -> OutboxMessage:
    message = outbox_put(shop=shop, kind="tests.health_probe", dedupe_key=key, payload={})
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.PENDING, created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    return message


def test_liveness_answers_without_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")
    assert (response.status_code, json.loads(response.content)) == (200, {"status": "alive"})


def test_readiness_reports_database_broker_worker_and_outbox(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(HEARTBEAT_KEY)
    status, body = _ready(client)
    assert body["database"] == "ok"
    assert body["broker"] == "ok"  # the real Redis of the test run
    assert body["worker"]["state"] == "no heartbeat"
    assert body["outbox"]["state"] == "ok"
    assert status == 503  # no worker has proven it takes tasks
    assert client.get("/healthz").status_code == 503  # the old address is readiness


def test_worker_heartbeat_makes_the_stack_ready(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker_heartbeat()
    status, body = _ready(client)
    assert body["worker"]["state"] == "ok"
    assert (status, body["status"]) == (200, "ready")


def test_stale_heartbeat_is_not_ready(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.set(HEARTBEAT_KEY, time.time() - 3600)
    status, body = _ready(client)
    assert (status, body["worker"]["state"]) == (503, "stale")


def test_broker_down_is_not_ready_but_alive(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker_heartbeat()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    status, body = _ready(client)
    assert status == 503
    assert body["broker"].startswith("down")
    assert client.get("/healthz/live").status_code == 200


def test_embedded_default_reports_inline_and_is_ready(client, db, settings):
    settings.REDIS_URL = None
    settings.CELERY_TASK_ALWAYS_EAGER = True
    status, body = _ready(client)
    assert body["broker"] == "inline"
    assert body["worker"] == {"state": "inline"}
    assert status == 200


def test_readiness_turns_503_past_the_threshold_and_back_after_draining(client, shop, settings):
    settings.OUTBOX_ALERT_SECONDS = 300
    fresh = _old_undelivered(shop, "fresh", minutes=1)
    status, body = _ready(client)
    assert status == 200
    assert body["outbox"]["undelivered"] == 1

    late = _old_undelivered(shop, "late", minutes=6)
    status, body = _ready(client)
    assert status == 503
    assert body["outbox"]["state"] == "delayed"
    assert 355 <= body["outbox"]["oldest_undelivered_age_seconds"] <= 365
    assert body["outbox"]["alert_after_seconds"] == 300

    OutboxMessage.objects.filter(pk__in=[fresh.pk, late.pk]).update(status=OutboxStatus.SENT)
    status, body = _ready(client)
    assert (status, body["outbox"]["undelivered"]) == (200, 0)


def test_metrics_report_the_backlog_in_prometheus_text(client, shop, settings):
    settings.OUTBOX_ALERT_SECONDS = 300
    _old_undelivered(shop, minutes=10)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    figures = dict(
        line.split(" ", 1) for line in response.content.decode().splitlines() if line[0] != "#"
    )
    assert figures["autoservice_outbox_undelivered"] == "1"
    assert 595 <= float(figures["autoservice_outbox_oldest_undelivered_age_seconds"]) <= 605
    assert figures["autoservice_ready"] == "0"
    assert figures["autoservice_database_up"] == "1"


def test_metrics_ask_for_the_token_when_one_is_set(client, db, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert ok.status_code == 200
    assert b"autoservice_ready" in ok.content
