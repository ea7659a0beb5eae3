"""Publishing a task never hangs the caller when Redis is down or silent."""

from __future__ import annotations

import socket

import pytest
from celery import Celery
from django.conf import settings


def _app_with_broker(url: str) -> Celery:
    app = Celery("autoservice-test", set_as_current=False)
    app.config_from_object(settings, namespace="CELERY")
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    return app


@pytest.mark.timeout(30)
def test_publish_with_redis_down_raises_instead_of_hanging():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = _app_with_broker(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(Exception) as excinfo:
        app.send_task("autoservice.tasks.worker_heartbeat")
    assert "connect" in str(excinfo.value).lower() or "refused" in str(excinfo.value).lower()


@pytest.mark.timeout(30)
def test_publish_to_a_silent_broker_times_out():
    # A server that accepts the connection and never answers: the worst case for a web request.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        app = _app_with_broker(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        with pytest.raises(Exception) as excinfo:
            app.send_task("autoservice.tasks.worker_heartbeat")
        assert "timeout" in repr(excinfo.value).lower() or "timed out" in str(excinfo.value)
    finally:
        silent.close()


def test_beat_schedules_the_worker_heartbeat():
    from autoservice.celery import app

    assert "autoservice.tasks.worker_heartbeat" in {
        entry["task"] for entry in app.conf.beat_schedule.values()
    }
