"""The issue's promise on real processes: a Celery worker (its own Redis, the test
database) sends an SMS through the fake SMSC, is killed (SIGKILL) after the gateway accepted
the message and before it could record that, and a second worker delivers the same outbox
row: it asks SMSC by our message id, finds it, and sends nothing more. The driver gets
exactly one SMS. SMS.ru cannot be asked by an id of ours: there the row ends «неизвестно»,
and nothing is sent twice either."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_dispatch
from sms import services
from sms.models import SmsMessage, SmsSettings, SmsStatus
from tests.factories import ShopFactory
from tests.realstack import wait_for
from tests.sms.fake_gateway import FakeGateway

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("gateway", "outcome"), [("smsc", SmsStatus.SENT), ("smsru", SmsStatus.UNKNOWN)]
)
def test_an_sms_is_sent_once_across_a_worker_killed_after_the_gateway_accepted(
    broker, start_worker, processes, monkeypatch, gateway, outcome
):
    with FakeGateway(gateway, mode="slow_after_accept", slow_seconds=60) as fake:
        monkeypatch.setenv("SMSC_BASE_URL", fake.base)
        monkeypatch.setenv("SMSRU_BASE_URL", fake.base)
        monkeypatch.setenv("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
        monkeypatch.setenv("SMS_TIMEOUT_SECONDS", "45")
        shop = ShopFactory()
        SmsSettings.objects.create(
            shop=shop,
            gateway=gateway,
            login="shop-login",
            password="s3cr3t",
            api_key="F2D79B58-A5A2",
            enabled=True,
        )
        sms = services.sms_send(
            shop=shop,
            phone="+79161234567",
            text="Ваш автомобиль готов",
            purpose="ready",
            dedupe_key="realstack-1",
        )  # committed (transactional test): its task waits in Redis for a worker
        row = OutboxMessage.objects.get(kind=services.SEND, payload__sms_id=sms.pk)

        first = start_worker()
        wait_for(lambda: fake.accepted, seconds=40, what="SMSC accepted the SMS", context=first.log)
        # The gateway has it; the worker waits for the answer: killed now.
        processes.kill(processes.started[-1])
        row.refresh_from_db()
        assert row.status == OutboxStatus.SENDING
        sms.refresh_from_db()
        assert sms.status == SmsStatus.QUEUED and sms.gateway_id == ""
        assert cache.get(f"sms:inflight:{sms.pk}")  # the mark the killed worker left

        # The lease runs out (as 60 s later), beat queues the row again, a new worker takes it.
        fake.mode = "ok"
        OutboxMessage.objects.filter(pk=row.pk).update(
            lease_until=timezone.now() - dt.timedelta(seconds=1)
        )
        second = start_worker()
        assert outbox_dispatch() == 1
        wait_for(
            lambda: SmsMessage.objects.get(pk=sms.pk).status == outcome,
            seconds=40,
            what="the second worker recorded the SMS",
            context=second.log,
        )
        row.refresh_from_db()
        assert row.status == OutboxStatus.SENT and row.attempts == 2
        assert len(fake.sends()) == 1  # one SMS to the driver
        if gateway == "smsc":
            asked = [s for s in fake.seen if s.path == "/sys/status.php"]
            assert [s.form["id"] for s in asked] == [str(sms.pk)]
            assert not cache.get(f"sms:inflight:{sms.pk}")
