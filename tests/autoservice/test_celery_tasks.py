"""The safety net runs: every task states time limits Celery accepts, the broker gives lost
work back within minutes, and every task beat schedules goes through a real Redis broker the
way beat sends it and is run by a real worker (not eagerly: that is how a global soft time
limit once silenced the outbox re-dispatch and the heartbeat for good)."""

from __future__ import annotations

import json
import re

import pytest
from celery import beat
from django.conf import settings

from autoservice.celery import app as celery_app
from tests.realstack import wait_for

PROJECT = (
    "autoservice.",
    "leads.",
    "booking.",
    "photoportal.",
    "smartcalc.",
    "optima.",
    "intake.",
    "webhooks.",
    "analytics.",
    "sms.",
    "messengers.",
    "campaigns.",
    "customers.",
)


def _project_tasks() -> dict:
    celery_app.loader.import_default_modules()  # what a worker imports at start
    return {name: task for name, task in celery_app.tasks.items() if name.startswith(PROJECT)}


def test_every_task_sets_a_soft_limit_below_its_own_hard_limit():
    tasks = _project_tasks()
    assert len(tasks) >= 10, sorted(tasks)
    for name, task in tasks.items():
        assert task.time_limit, f"{name} has no time_limit of its own"
        assert task.soft_time_limit, f"{name} has no soft_time_limit"
        assert task.soft_time_limit < task.time_limit, name


def test_broker_returns_unacknowledged_work_after_the_longest_task_and_within_minutes():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest = max(task.time_limit for task in _project_tasks().values())
    assert visibility > longest  # a living worker's task is never handed to a second one
    assert visibility <= 15 * 60  # a dead worker's task comes back in minutes, not an hour
    assert celery_app.conf.task_acks_late and celery_app.conf.task_reject_on_worker_lost


def test_every_task_has_an_explicit_queue_of_its_kind():
    """A new task must be given a queue on purpose: none lands on default unnoticed."""
    routes = settings.CELERY_TASK_ROUTES
    tasks = _project_tasks()
    unrouted = sorted(set(tasks) - set(routes))
    assert not unrouted, f"add these tasks to CELERY_TASK_ROUTES in settings.py: {unrouted}"
    assert not set(routes) - set(tasks), "a route names a task that does not exist"
    queues = {route["queue"] for route in routes.values()}
    assert queues == set(settings.CELERY_QUEUE_NAMES)
    assert celery_app.conf.task_default_queue == "default"
    for name in tasks:  # what Celery itself decides when the task is sent
        assert celery_app.amqp.router.route({}, name)["queue"].name == routes[name]["queue"]
    kinds = {
        "autoservice.tasks.outbox_deliver": "notifications",
        "webhooks.tasks.webhook_deliver": "notifications",
        "leads.tasks.process_photo": "photos",
        "optima.tasks.run_search": "suppliers",
        "optima.tasks.place_supplier_orders": "suppliers",
        "analytics.tasks.refresh_facts": "exports",
        "autoservice.tasks.personal_data_retention": "exports",
        "autoservice.tasks.worker_heartbeat": "default",
    }
    for name, queue in kinds.items():
        assert routes[name]["queue"] == queue, name


def test_notification_tasks_give_their_worker_back_within_a_minute():
    """The notification queue's limit: a hung CRM or SMS gateway holds a slot at most 60 s,
    so a few of them cannot stop the shop's e-mails for long."""
    tasks = _project_tasks()
    for name, route in settings.CELERY_TASK_ROUTES.items():
        if route["queue"] == "notifications":
            assert tasks[name].time_limit <= 60, name


def test_the_procfile_starts_a_worker_for_every_queue():
    from tests.realstack import procfile_commands

    served = []
    for name, command in procfile_commands().items():
        if name.startswith("worker"):
            served += re.search(r"--queues (\S+)", command).group(1).split(",")
    assert sorted(served) == sorted(settings.CELERY_QUEUE_NAMES)


def test_every_scheduled_task_exists():
    tasks = _project_tasks()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in tasks, name


@pytest.mark.timeout(120)
def test_every_task_beat_schedules_is_accepted_by_a_real_broker_and_run(
    broker, start_worker, client
):
    _project_tasks()  # beat imports the task modules at start, and so sends through them
    scheduler = beat.Scheduler(app=celery_app, lazy=True)
    for name, options in settings.CELERY_BEAT_SCHEDULE.items():
        entry = scheduler.Entry(name=name, app=celery_app, **options)
        # Exactly beat's path: it raises SchedulingError when Celery refuses the message.
        scheduler.apply_async(entry, advance=False)

    worker = start_worker()
    for options in settings.CELERY_BEAT_SCHEDULE.values():
        done = re.compile(rf"Task {re.escape(options['task'])}\[[^\]]+\] succeeded in")
        wait_for(
            lambda done=done: done.search(worker.processes.log("worker")),
            seconds=60,
            what=f"the worker ran {options['task']}",
            context=worker.log,
        )
    assert "ERROR" not in worker.processes.log("worker"), worker.log()

    # The heartbeat arrived through the broker, so the stack reports ready.
    response = client.get("/healthz/ready")
    body = json.loads(response.content)
    assert body["worker"]["state"] == "ok", body
    assert response.status_code == 200, body
