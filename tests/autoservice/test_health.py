import json
import time

from django.core.cache import cache

from autoservice.health import HEARTBEAT_KEY
from autoservice.tasks import worker_heartbeat


def test_healthz_reports_database_broker_and_worker(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(HEARTBEAT_KEY)
    body = json.loads(client.get("/healthz").content)
    assert body["database"] == "ok"
    assert body["broker"] == "ok"  # the real Redis of the test run
    assert body["worker"]["state"] == "no heartbeat"


def test_worker_heartbeat_makes_the_worker_ok(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker_heartbeat()
    body = json.loads(client.get("/healthz").content)
    assert body["worker"]["state"] == "ok"


def test_stale_heartbeat_is_reported(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.set(HEARTBEAT_KEY, time.time() - 3600)
    body = json.loads(client.get("/healthz").content)
    assert body["worker"]["state"] == "stale"


def test_broker_down_is_reported_not_fatal(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content)["broker"].startswith("down")


def test_embedded_default_reports_inline(client, db, settings):
    settings.REDIS_URL = None
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body = json.loads(client.get("/healthz").content)
    assert body["broker"] == "inline"
    assert body["worker"] == {"state": "inline"}
