"""Queues by kind, proven on the real processes the Procfile starts (gunicorn, one Celery
worker per queue group, beat, a redis-server and an SMTP server of the test's own): while the
photo worker chews through a pile of big photos and every supplier thread waits on a
supplier that never answers, a driver's new request still reaches the shop's mailbox, and
the photo and supplier queues are still full when it does."""

from __future__ import annotations

import io
import re
import socket
import threading
from decimal import Decimal

import pytest
import redis
from PIL import Image

from autoservice.celery import app as celery_app
from leads.models import Lead, LeadPhoto
from leads.tasks import process_photo
from optima import services as optima_services
from optima.models import PricingSettings
from tests.factories import LeadPhotoFactory, ShopFactory, SupplierFactory
from tests.realstack import Driver, Stack, _jpeg, reset_broker_pools, wait_for
from tests.s3 import stored_replace

pytestmark = pytest.mark.django_db(transaction=True)

BIG_PHOTOS = 40  # process_photo tasks of a 24-megapixel photo, for one photo process
SEARCHES = 12  # three rounds of the supplier worker's 4 threads
SEARCH_DEADLINE_S = 25


class SilentSupplier:
    """A supplier that accepts the connection and never answers, as a hung API does."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _address = self.server.accept()
            except OSError:
                return  # closed at the end of the test
            self.held.append(conn)

    def __enter__(self) -> SilentSupplier:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()


def _ran(log: str, task: str) -> int:
    """How many tasks of this name the worker received (its banner lists every name once)."""
    return len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] received", log))


def _big_photo(shop) -> LeadPhoto:
    photo = LeadPhotoFactory(lead__shop=shop, state="processing")
    buffer = io.BytesIO()
    Image.effect_noise((6000, 4000), 60).convert("RGB").save(buffer, "JPEG", quality=90)
    # Through the storage: the stack's processes read it from the same folder or bucket.
    stored_replace(photo.original.name, buffer.getvalue())
    return photo


@pytest.mark.timeout(300)
def test_a_new_leads_email_arrives_while_photo_and_supplier_queues_are_saturated(
    processes, platform_consent_text, monkeypatch, settings
):
    monkeypatch.setenv("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
    media_root = processes.folder / "media"
    settings.MEDIA_ROOT = str(media_root)  # where the stack's workers read the photos
    shop = ShopFactory(notification_emails="priemka@example.ru")
    PricingSettings.objects.update_or_create(
        shop=shop, defaults={"search_deadline_s": Decimal(SEARCH_DEADLINE_S)}
    )
    big = _big_photo(shop)

    with SilentSupplier() as silent:
        SupplierFactory(shop=shop, base_url=silent.url, timeout_s=Decimal("30"))
        stack = Stack.launch(processes)
        assert stack.workers == [
            "worker_notify",
            "worker_photos",
            "worker_suppliers",
            "worker_default",
            "worker_exports",
        ]
        # This process publishes to the stack's Redis, as the web process does.
        settings.CELERY_BROKER_URL = stack.redis.url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
        celery_app.conf.broker_url = stack.redis.url
        celery_app.conf.task_always_eager = False
        reset_broker_pools()
        queues = redis.Redis.from_url(stack.redis.url)
        try:
            for _ in range(BIG_PHOTOS):
                process_photo.delay(big.pk)
            for number in range(SEARCHES):
                # Through the service, as the advisor's search page starts one.
                optima_services.search_start(shop=shop, by=None, numbers=[f"SILENT{number:03d}"])

            # Both workers are busy: a photo is being made, the supplier threads are waiting.
            wait_for(
                lambda: (
                    "leads.tasks.process_photo" in processes.log("worker_photos")
                    and processes.log("worker_suppliers").count("optima.tasks.run_search") >= 4
                ),
                seconds=60,
                what="the photo and supplier workers took their first tasks",
                context=stack.logs,
            )

            assert Driver(stack, shop.slug, 1, _jpeg()).send() == 302
            lead = Lead.objects.filter(shop=shop).exclude(pk=big.lead_id).get()
            wait_for(
                lambda: stack.smtp.lead_copies([lead.pk])[lead.pk],
                seconds=60,
                what="the new lead's e-mail reached the shop's mailbox",
                context=stack.logs,
            )
            # When it arrived, the other kinds of work were still waiting in their queues:
            # had the e-mail been queued behind them, it would not have been sent yet.
            waiting = {name: queues.llen(name) for name in ("photos", "suppliers")}
            lead_photo = LeadPhoto.objects.get(lead=lead)
        finally:
            queues.close()
            celery_app.conf.update(saved)
            reset_broker_pools()

    assert waiting["photos"] > 0 and waiting["suppliers"] > 0, (waiting, stack.logs())
    # The lead's own photo is queued behind the pile, not yet processed: photos are late,
    # the notification is not.
    assert lead_photo.state == "processing", lead_photo.state
    # Each kind ran only on its own worker.
    deliver = "autoservice.tasks.outbox_deliver"
    assert _ran(processes.log("worker_notify"), deliver)
    for name in ("worker_photos", "worker_suppliers", "worker_default", "worker_exports"):
        assert not _ran(processes.log(name), deliver), name
    assert not _ran(processes.log("worker_photos"), "optima.tasks.run_search")
    assert not _ran(processes.log("worker_suppliers"), "leads.tasks.process_photo")
    print(f"\nthe e-mail arrived with {waiting} tasks still waiting in those queues")
