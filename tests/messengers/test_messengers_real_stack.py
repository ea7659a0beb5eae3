"""The issue's promise on real processes: a Celery worker (started as the Procfile starts it,
its own redis-server) delivers a new lead to the fake Telegram and MAX servers on loopback;
the worker is killed with SIGKILL while the Telegram request is in flight and a MAX message
waits in the queue; a 429 with retry_after is honoured by the worker, which retries on its
own once the wait is over.

What "exactly once" means here, honestly: every row is written once (dedupe key) and marked
sent once, and a message that was queued or claimed but not yet sent when the worker died is
sent exactly once. The one message whose request was in flight at the kill cannot be known
delivered (Telegram and MAX have no idempotency key and cannot be asked): the in-flight mark
the dead worker left in Redis makes the next worker record «неизвестно, дошло ли» on the
lead's timeline instead of sending it again. So each chat gets at most one copy, never two:
  t0 lead committed, rows queued → t1 worker claims the Telegram row, sets the mark, the
  request reaches the fake (held) → t2 SIGKILL → t3 new worker sends the MAX row → t4 the
  lease runs out, beat queues the Telegram row → t5 the mark is found: nothing sent, noted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_dispatch, outbox_enqueue
from leads.models import Channel, EventKind, LeadEvent
from leads.services import LeadInput, lead_create
from messengers.delivery import inflight_key
from messengers.models import ChatLink, MessengerBot
from messengers.services import SEND
from tests.factories import MembershipFactory, ShopFactory
from tests.messengers.fake_bots import FakeBot
from tests.realstack import REDIS_SERVER, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),  # committed data, so that the worker sees it
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="redis-server is not installed"),
]


def _setup(telegram: FakeBot, max_bot: FakeBot, monkeypatch):
    # The worker reads these from its environment, as in production.
    monkeypatch.setenv("TELEGRAM_API_BASE", telegram.base)
    monkeypatch.setenv("MAX_API_BASE", max_bot.base)
    monkeypatch.setenv("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
    shop = ShopFactory()
    MessengerBot.objects.create(shop=shop, kind="telegram", token=telegram.token, enabled=True)
    MessengerBot.objects.create(shop=shop, kind="max", token=max_bot.token, enabled=True)
    advisor = MembershipFactory(shop=shop, user__first_name="Иван", user__last_name="Сидоров")
    ChatLink.objects.create(membership=advisor, kind="telegram", chat_id="1297094036")
    ChatLink.objects.create(membership=advisor, kind="max", chat_id="4005123")
    return shop


def _lead(shop):
    lead, _created = lead_create(
        shop=shop,
        channel=Channel.PHOTO,
        data=LeadInput(
            customer_name="Анна Смирнова",
            phone="+79123456789",
            vehicle_make="Kia",
            vehicle_model="Rio",
            description="Помят бампер",
        ),
    )
    return lead


@pytest.mark.timeout(120)
def test_a_new_lead_reaches_both_messengers_across_a_worker_kill(
    broker, start_worker, processes, monkeypatch
):
    with FakeBot("telegram", modes=["slow"], slow_seconds=60) as telegram, FakeBot("max") as mx:
        shop = _setup(telegram, mx, monkeypatch)
        worker = start_worker()
        lead = _lead(shop)  # committed: its two messages are queued in Redis
        tg_link = ChatLink.objects.get(kind="telegram")
        tg_row = OutboxMessage.objects.get(kind=SEND, payload__link_id=tg_link.pk)

        # The worker is mid-send to Telegram (the fake holds the request); MAX waits behind.
        wait_for(
            lambda: telegram.calls("sendMessage"),
            seconds=30,
            what="Telegram got the request",
            context=worker.log,
        )
        assert not mx.calls("messages")
        tg_row.refresh_from_db()
        assert tg_row.status == OutboxStatus.SENDING
        assert cache.get(inflight_key(tg_row))  # set before the request went out
        processes.kill(processes.started[-1])  # SIGKILL to the worker's process group

        worker = start_worker()
        wait_for(
            lambda: mx.calls("messages"),
            seconds=30,
            what="MAX got the message after the kill",
            context=worker.log,
        )

        # The killed worker's lease runs out (as in tests/leads/test_outbox_lease.py), beat's
        # dispatch queues the row again and the new worker sends it.
        OutboxMessage.objects.filter(pk=tg_row.pk).update(
            lease_until=timezone.now() - dt.timedelta(seconds=1)
        )
        assert outbox_dispatch() >= 1
        wait_for(
            lambda: OutboxMessage.objects.filter(kind=SEND, status=OutboxStatus.SENT).count() == 2,
            seconds=30,
            what="both rows sent",
            context=worker.log,
        )

    assert len(mx.calls("messages")) == 1  # queued at the kill: exactly once
    # In flight at the kill: the one request that reached the fake, never a second copy.
    assert len(telegram.calls("sendMessage") + telegram.calls("sendPhoto")) == 1
    assert mx.calls("messages")[0].body["text"].startswith(f"Новая заявка №{lead.number}")
    notified = LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED)
    assert list(notified.values_list("text", flat=True)) == [
        "уведомление в MAX отправлено: Иван Сидоров"
    ]
    (doubt,) = LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFY_FAILED)
    assert doubt.text.startswith("уведомление в Telegram для Иван Сидоров: неизвестно, дошло ли")
    tg_row.refresh_from_db()
    assert tg_row.attempts == 2 and tg_row.last_error.startswith("uncertain")
    assert not cache.get(inflight_key(tg_row))


@pytest.mark.timeout(120)
def test_the_worker_honours_a_429_retry_after(broker, start_worker, monkeypatch):
    with FakeBot("telegram", modes=["limit"]) as telegram, FakeBot("max") as mx:
        shop = _setup(telegram, mx, monkeypatch)
        ChatLink.objects.filter(kind="max").delete()
        worker = start_worker()
        _lead(shop)
        row = OutboxMessage.objects.get(kind=SEND)
        wait_for(
            lambda: OutboxMessage.objects.filter(pk=row.pk, not_before__isnull=False).exists(),
            seconds=30,
            what="the 429 recorded",
            context=worker.log,
        )
        row.refresh_from_db()
        assert row.status == OutboxStatus.PENDING and "retry after 5" in row.last_error
        # Queued again at once (a duplicate task, a dispatcher early): the worker skips it.
        assert outbox_enqueue(row.pk)
        wait_for(
            lambda: "succeeded" in worker.log() and "'skipped'" in worker.log(),
            seconds=30,
            what="the early copy skipped",
            context=worker.log,
        )
        assert len(telegram.calls("sendMessage")) == 1

        # The worker queued its own retry for when retry_after is over: no beat needed.
        wait_for(
            lambda: OutboxMessage.objects.filter(pk=row.pk, status=OutboxStatus.SENT).exists(),
            seconds=30,
            what="sent after retry_after",
            context=worker.log,
        )
    first, second = telegram.calls("sendMessage")
    assert second.at - first.at >= 5  # the documented retry_after of the fixture
    assert OutboxMessage.objects.get(pk=row.pk).sent_at >= row.not_before
