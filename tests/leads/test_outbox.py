"""The outbox rules, through the services: one e-mail per new lead, retries with backoff,
failures that roll back their writes, and a dispatcher that neither races nor blocks."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable

import kombu.pools
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from autoservice import outbox
from autoservice.celery import app as celery_app
from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import (
    DISPATCH_GRACE,
    HANDLERS,
    MAX_ATTEMPTS,
    outbox_deliver_now,
    outbox_dispatch,
    outbox_due,
    outbox_put,
    register_handler,
)
from autoservice.push import push_publish
from leads.models import Channel, EventKind, LeadEvent
from leads.services import NOTIFY_NEW_LEAD, LeadInput, lead_create
from tests.factories import ShopFactory

TEST_KIND = "tests.outbox_probe"


def _lead(shop, phone="+79123456789"):
    lead, _created = lead_create(
        shop=shop,
        channel=Channel.PHOTO,
        data=LeadInput(
            customer_name="Анна Смирнова", phone=phone, vehicle_make="Kia", vehicle_model="Rio"
        ),
    )
    return lead


def _put(shop, key, kind=TEST_KIND, **payload) -> OutboxMessage:
    return outbox_put(shop=shop, kind=kind, dedupe_key=key, payload=payload)


def _reset_broker_pools() -> None:
    # Publishing goes through kombu's process-wide pools, keyed by broker URL, which the app
    # also caches: close and forget them all, so the next publish connects to the broker_url
    # set now (closing only the app's pool would leave a closed pool in kombu's registry).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def notified_shop(db):
    return ShopFactory(notification_emails="a@x.ru, b@x.ru")


@pytest.fixture
def eager_celery():
    """Tasks run inline, whatever CELERY_TASK_ALWAYS_EAGER the run was started with."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield celery_app
    celery_app.conf.task_always_eager = saved


@pytest.fixture
def dead_broker():
    """The Celery app publishes to a port where nothing listens (Redis is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and nothing will listen on it
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    celery_app.conf.task_always_eager = False
    _reset_broker_pools()
    yield celery_app
    celery_app.conf.update(saved)
    _reset_broker_pools()


class Probe:
    """A test-only handler: records what it delivered, or writes and then raises."""

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.error: Exception | None = None
        self.writes: Callable[[OutboxMessage], object] | None = None

    def __call__(self, message: OutboxMessage) -> None:
        if self.writes is not None:
            self.writes(message)
        if self.error is not None:
            raise self.error
        self.delivered.append(message.pk)


@pytest.fixture
def probe():
    """A Probe registered for TEST_KIND during the test only."""
    handler = register_handler(TEST_KIND)(Probe())
    yield handler
    HANDLERS.pop(TEST_KIND, None)


# --- the new-lead e-mail -------------------------------------------------------------


def test_new_lead_sends_one_russian_email_to_every_shop_address(
    notified_shop, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = _lead(notified_shop)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["a@x.ru", "b@x.ru"]
    assert email.subject.startswith(f"Новая заявка №{lead.number}: Анна Смирнова")
    assert f"Новая заявка №{lead.number}" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert f"Новая заявка №{lead.number}" in html
    assert email.extra_headers["Message-ID"] == f"<lead-new-{lead.pk}@127.0.0.1>"
    [notified] = LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED)
    assert "a@x.ru, b@x.ru" in notified.text
    message = OutboxMessage.objects.get(kind=NOTIFY_NEW_LEAD, payload__lead_id=lead.pk)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert message.sent_at is not None


def _delivery(callbacks: list) -> list:
    """The on-commit callbacks that deliver: the live push to open staff pages (a hint
    published after every shop event when Redis is configured) is not one of them."""
    return [c for c in callbacks if getattr(c, "func", None) is not push_publish]


def test_new_lead_of_shop_without_notification_emails_writes_no_outbox_message(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _lead(shop)

    assert not OutboxMessage.objects.exists()
    assert _delivery(callbacks) == []
    assert mail.outbox == []


def test_new_lead_email_waits_for_the_commit(notified_shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = _lead(notified_shop)

    message = OutboxMessage.objects.get(dedupe_key=f"lead-new:{lead.pk}")
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert len(_delivery(callbacks)) == 1
    assert mail.outbox == []


def test_rolled_back_lead_leaves_no_outbox_message(notified_shop):
    with pytest.raises(RuntimeError), transaction.atomic():
        _lead(notified_shop)
        raise RuntimeError("the request failed after the lead was written")

    assert not OutboxMessage.objects.exists()


def test_putting_the_same_dedupe_key_twice_keeps_one_message(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = _put(shop, "same-key", n=1)
        second = _put(shop, "same-key", n=2)

    assert first.pk == second.pk
    assert OutboxMessage.objects.get().payload == {"n": 1}
    assert len(callbacks) == 1


def test_delivering_the_same_message_twice_sends_one_email(notified_shop):
    lead = _lead(notified_shop)
    message = OutboxMessage.objects.get(dedupe_key=f"lead-new:{lead.pk}")

    assert outbox_deliver_now(message.pk) == "sent"
    assert outbox_deliver_now(message.pk) == "skipped"

    assert len(mail.outbox) == 1
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).count() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


# --- failures and retries --------------------------------------------------------------


def test_failing_handler_is_retried_with_growing_backoff_then_marked_failed(shop, probe):
    probe.error = ConnectionRefusedError("SMTP-сервер недоступен")
    message = _put(shop, "failing")
    delays: list[int] = []

    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = timezone.now()
        assert outbox_deliver_now(message.pk) == "failed"
        message.refresh_from_db()
        assert message.attempts == attempt
        assert message.last_error == "ConnectionRefusedError: SMTP-сервер недоступен"
        assert message.next_attempt_at > before
        delays.append(round((message.next_attempt_at - before).total_seconds()))
        expected = OutboxStatus.FAILED if attempt == MAX_ATTEMPTS else OutboxStatus.PENDING
        assert message.status == expected

    assert delays[0] >= 30
    assert delays == sorted(delays)
    assert delays[1] > delays[0]
    assert max(delays) <= 3600  # capped at an hour
    # Failed for good: neither delivered again nor dispatched again.
    assert outbox_deliver_now(message.pk) == "skipped"
    assert outbox_due(now=timezone.now() + dt.timedelta(days=1)) == []
    assert probe.delivered == []


def test_message_retried_after_a_failure_is_delivered_and_keeps_its_attempts(shop, probe):
    probe.error = TimeoutError("timed out")
    message = _put(shop, "flaky")
    assert outbox_deliver_now(message.pk) == "failed"

    probe.error = None
    assert outbox_deliver_now(message.pk) == "sent"

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    assert message.last_error == "TimeoutError: timed out"
    assert probe.delivered == [message.pk]


def test_failing_handler_leaves_none_of_its_writes(shop, probe):
    lead = _lead(shop)
    events_before = LeadEvent.objects.filter(lead=lead).count()

    probe.writes = lambda message: LeadEvent.objects.create(
        lead=lead, kind=EventKind.NOTIFIED, text="half-sent"
    )
    probe.error = RuntimeError("mail server hung up")
    message = _put(shop, "partial", lead_id=lead.pk)

    assert outbox_deliver_now(message.pk) == "failed"

    assert LeadEvent.objects.filter(lead=lead).count() == events_before
    assert not LeadEvent.objects.filter(kind=EventKind.NOTIFIED).exists()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)


def test_message_of_unknown_kind_fails_with_a_named_error(shop):
    message = _put(shop, "orphan", kind="tests.nobody_handles_this")

    assert outbox_deliver_now(message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.last_error == "LookupError: no outbox handler for 'tests.nobody_handles_this'"


# --- the dispatcher --------------------------------------------------------------------


def test_due_ignores_messages_younger_than_the_grace(shop):
    message = _put(shop, "fresh")

    assert outbox_due(now=message.created_at) == []
    assert outbox_due(now=message.created_at + DISPATCH_GRACE - dt.timedelta(seconds=1)) == []
    assert outbox_due(now=message.created_at + DISPATCH_GRACE) == [message.pk]


def test_due_ignores_messages_waiting_for_their_next_attempt(shop):
    message = _put(shop, "backing-off")
    retry_at = message.created_at + dt.timedelta(minutes=5)
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=retry_at)

    assert outbox_due(now=retry_at - dt.timedelta(seconds=1)) == []
    assert outbox_due(now=retry_at) == [message.pk]


def test_due_ignores_sent_and_failed_messages(shop):
    sent, failed, pending = (_put(shop, key) for key in ("sent", "failed", "pending"))
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED)

    assert outbox_due(now=timezone.now() + DISPATCH_GRACE) == [pending.pk]


def test_dispatch_queues_every_due_message_and_returns_the_count(shop, probe, eager_celery):
    due = [_put(shop, f"due-{n}") for n in range(3)]
    young = _put(shop, "young")
    later = max(m.created_at for m in due) + DISPATCH_GRACE
    OutboxMessage.objects.filter(pk=young.pk).update(created_at=later)

    assert outbox_dispatch(now=later) == 3

    assert sorted(probe.delivered) == sorted(m.pk for m in due)
    assert outbox_dispatch(now=later) == 0  # sent messages are never queued again
    young.refresh_from_db()
    assert young.status == OutboxStatus.PENDING


@pytest.mark.timeout(30)
def test_dispatch_stops_at_the_first_broker_error(shop, probe, dead_broker, monkeypatch):
    messages = [_put(shop, f"stuck-{n}") for n in range(3)]
    tried: list[int] = []
    enqueue = outbox.outbox_enqueue
    monkeypatch.setattr(outbox, "outbox_enqueue", lambda pk: tried.append(pk) or enqueue(pk))
    now = max(m.created_at for m in messages) + DISPATCH_GRACE

    assert outbox_dispatch(now=now) == 0

    assert len(tried) == 1
    assert tried[0] in {m.pk for m in messages}
    for message in messages:
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert probe.delivered == []


# --- concurrency (committed data, a second connection) ---------------------------------


@pytest.mark.timeout(30)
def test_lead_created_while_the_broker_is_down_keeps_its_message_pending(
    transactional_db, dead_broker
):
    shop = ShopFactory(notification_emails="a@x.ru")

    lead = _lead(shop)  # commits; the on-commit publish fails

    message = OutboxMessage.objects.get(dedupe_key=f"lead-new:{lead.pk}")
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert mail.outbox == []


@pytest.mark.timeout(30)
def test_message_locked_by_another_worker_is_skipped_without_waiting(
    second_connection, dead_broker
):
    shop = ShopFactory(notification_emails="a@x.ru")
    lead = _lead(shop)
    message = OutboxMessage.objects.get(dedupe_key=f"lead-new:{lead.pk}")
    with second_connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM autoservice_outboxmessage WHERE id = %s FOR UPDATE", [message.pk]
        )

    started = time.monotonic()
    assert outbox_deliver_now(message.pk) == "skipped"
    assert time.monotonic() - started < 5, "waited for the other worker's lock"
    assert mail.outbox == []

    second_connection.rollback()  # the other worker gave up (or died)
    assert outbox_deliver_now(message.pk) == "sent"
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
