"""The issue's promise on the real processes: gunicorn, the Celery worker and beat started
from the Procfile with a redis-server of the test's own, drivers sending the real photo form
over HTTP, advisors acting on their leads, and a webhook receiver on loopback that fails
every event 3 times before it takes it. Each event must be processed once (by
`webhook-id`), every request must carry a valid signature, and one lead's events must be
processed in the order they happened. The retry waits are shortened to 1 s for the test
(WEBHOOK_RETRY_DELAYS_SECONDS), beat dispatches every second (WEBHOOK_DISPATCH_SECONDS)."""

from __future__ import annotations

import json
import threading

import pytest

from autoservice.celery import app as celery_app
from leads.models import Lead, Status
from leads.services import lead_assign, lead_change_status
from tests.factories import MembershipFactory, ShopFactory
from tests.realstack import Driver, Stack, _jpeg, reset_broker_pools, wait_for
from tests.webhooks.docs import doc_verify
from tests.webhooks.receiver import Receiver
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)

FAILURES_PER_EVENT = 3
DRIVERS = 3


class FlakyCrm:
    """Fails each event 3 times, then takes it; processes each `webhook-id` once."""

    def __init__(self, secret: str):
        self.secret = secret
        self.verify = doc_verify()
        self.lock = threading.Lock()
        self.tries: dict[str, int] = {}
        self.processed: list[dict] = []
        self.bad_signatures: list[str] = []
        self.copies = 0

    def answer(self, _n, got) -> tuple[int, bytes]:
        try:
            event = self.verify(self.secret, got.headers, got.body)
        except (ValueError, KeyError) as exc:
            with self.lock:
                self.bad_signatures.append(f"{exc}: {got.headers}")
            return 400, b"bad signature"
        msg_id = got.headers["webhook-id"]
        with self.lock:
            self.tries[msg_id] = self.tries.get(msg_id, 0) + 1
            if self.tries[msg_id] <= FAILURES_PER_EVENT:
                return 503, b"CRM is busy"
            if any(seen["id"] == msg_id for seen in self.processed):
                self.copies += 1
                return 200, b"already processed"
            self.processed.append({"id": msg_id, **event})
        return 200, b"processed"


@pytest.mark.timeout(300)
def test_a_flaky_receiver_processes_every_event_once_signed_and_in_order_per_lead(
    processes, platform_consent_text, monkeypatch, settings
):
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS_SECONDS", "1,1,1,1,1,1")
    monkeypatch.setenv("WEBHOOK_DISPATCH_SECONDS", "1")
    monkeypatch.setenv("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
    shop = ShopFactory()
    advisor = MembershipFactory(shop=shop)
    crm_box: dict = {}
    with Receiver(lambda n, got: crm_box["crm"].answer(n, got)) as receiver:
        endpoint, secret = endpoint_create(
            shop=shop,
            url=receiver.url,
            events=["lead.created", "lead.assigned", "lead.status_changed"],
        )
        crm = crm_box["crm"] = FlakyCrm(secret)
        stack = Stack.launch(processes)
        # This process publishes to the stack's Redis too, as the web process does.
        settings.CELERY_BROKER_URL = stack.redis.url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
        celery_app.conf.broker_url = stack.redis.url
        celery_app.conf.task_always_eager = False
        reset_broker_pools()
        try:
            photo = _jpeg()
            for number in range(1, DRIVERS + 1):
                assert Driver(stack, shop.slug, number, photo).send() == 302
            leads = list(Lead.objects.filter(shop=shop).order_by("pk"))
            assert len(leads) == DRIVERS
            # The advisor takes each lead while its "created" event is still being refused.
            for lead in leads:
                lead_assign(lead=lead, assignee=advisor, by=advisor)
                lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
            expected = 3 * DRIVERS
            wait_for(
                lambda: len(crm.processed) >= expected,
                seconds=180,
                what=f"{expected} events processed by the flaky receiver",
                context=lambda: (
                    f"processed {len(crm.processed)}, tries {crm.tries}\n" + stack.logs()
                ),
            )
        finally:
            celery_app.conf.update(saved)
            reset_broker_pools()
    assert crm.bad_signatures == []
    ids = [event["id"] for event in crm.processed]
    assert len(ids) == len(set(ids)) == expected  # each event processed once
    assert all(tries == FAILURES_PER_EVENT + 1 for tries in crm.tries.values()), crm.tries
    for lead in leads:
        told = [e["type"] for e in crm.processed if e["data"]["lead_id"] == lead.pk]
        assert told == ["lead.created", "lead.assigned", "lead.status_changed"], told
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert "Sending due task webhooks-dispatch" in processes.log("beat")
    print(
        f"\n{expected} events for {DRIVERS} leads, each refused {FAILURES_PER_EVENT} times, "
        f"all processed once in order; {crm.copies} extra copies recognised by webhook-id; "
        f"{sum(crm.tries.values())} requests in all. "
        + json.dumps(crm.processed[0]["data"], ensure_ascii=False)
    )
