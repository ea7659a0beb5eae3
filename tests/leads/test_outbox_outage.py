"""With Redis down or a worker killed mid-task, the lead is still saved and the shop's
e-mail about it is delivered later, exactly once.

These run the real pieces: a redis-server of their own, a real Celery worker process, the
test PostgreSQL database (committed data, so the worker sees it) and the file e-mail
backend, whose files are the proof of what was sent.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import DISPATCH_GRACE, outbox_deliver_now, outbox_dispatch
from autoservice.tasks import outbox_deliver
from leads.models import Channel, EventKind, Lead, LeadEvent
from leads.services import LeadInput, lead_create
from tests.factories import ShopFactory
from tests.realstack import REDIS_SERVER, processes_database_url, wait_for

NOTIFY_TO = ["a@x.ru", "b@x.ru"]

pytestmark = [
    pytest.mark.django_db(transaction=True),  # committed data, so that the worker sees it
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="redis-server is not installed"),
]


def _sent_emails(folder: Path) -> list[email.message.EmailMessage]:
    """Every message the file backend wrote (one .log per connection, dashes between)."""
    raw = b"".join(path.read_bytes() for path in sorted(folder.glob("*.log")))
    found = [
        email.message_from_bytes(chunk, policy=email.policy.default)
        for chunk in raw.split(b"\n" + b"-" * 79 + b"\n")
        if chunk.strip()
    ]
    assert raw.count(b"\nMessage-ID: ") == len(found)  # the split missed no message
    return found


def _assert_notified_once(lead: Lead, mail_dir: Path) -> None:
    messages = _sent_emails(mail_dir)
    assert len(messages) == 1, [m["Subject"] for m in messages]
    [letter] = messages
    assert f"Новая заявка №{lead.number}" in letter["Subject"]
    assert letter["Message-ID"] == f"<lead-new-{lead.pk}@127.0.0.1>"
    assert [a.strip() for a in letter["To"].split(",")] == NOTIFY_TO
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).count() == 1


def _message_of(lead: Lead) -> OutboxMessage:
    return OutboxMessage.objects.get(dedupe_key=f"lead-new:{lead.pk}")


def _status(message: OutboxMessage) -> str:
    return OutboxMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def _after_grace(message: OutboxMessage) -> dt.datetime:
    return message.created_at + DISPATCH_GRACE + dt.timedelta(seconds=1)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def _send_photo_form(client, shop):
    page = client.get(f"/s/{shop.slug}/photo/")
    assert page.status_code == 200
    token = re.search(rb'name="form_token" value="([^"]+)"', page.content).group(1).decode()
    return client.post(
        f"/s/{shop.slug}/photo/",
        {
            "form_token": token,
            "description": "Задел столб, вмятина на задней двери",
            "vehicle_make": "Kia",
            "vehicle_model": "Rio",
            "vehicle_year": "2018",
            "plate": "",
            "customer_name": "Анна Смирнова",
            "phone": "+7 912 345-67-89",
            "email": "",
            "preferred_contact": "call",
            "consent": "on",
            "photos": SimpleUploadedFile("door.jpg", _jpeg(), content_type="image/jpeg"),
        },
    )


@pytest.mark.timeout(90)
def test_lead_is_saved_and_notified_once_after_a_redis_outage(
    client, platform_consent_text, broker, start_worker, mail_dir
):
    shop = ShopFactory(notification_emails=", ".join(NOTIFY_TO))
    broker.stop()

    started = time.monotonic()
    response = _send_photo_form(client, shop)
    took = time.monotonic() - started

    assert response.status_code == 302, response.content.decode()[:2000]
    assert took < 20, f"the driver waited {took:.1f} s for a dead broker"
    lead = Lead.objects.get(shop=shop)
    assert response["Location"] == f"/s/{shop.slug}/photo/sent/{lead.public_token}/"
    assert lead.photos.count() == 1
    message = _message_of(lead)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)

    broker.start()  # Redis is back, on the same port
    worker = start_worker()
    assert outbox_dispatch(now=_after_grace(message)) == 1

    wait_for(
        lambda: _status(message) == OutboxStatus.SENT,
        seconds=40,
        what="the worker sent the new-lead e-mail",
        context=worker.log,
    )
    _assert_notified_once(lead, mail_dir)

    # Dispatched again, delivered again by the worker and in this process: still one letter.
    assert outbox_dispatch(now=_after_grace(message) + dt.timedelta(hours=1)) == 0
    outbox_deliver.delay(message.pk)
    assert worker.wait_for_deliveries(2) == ["sent", "skipped"]
    assert outbox_deliver.apply(args=[message.pk]).get() == "skipped"
    assert mail.outbox == []
    _assert_notified_once(lead, mail_dir)


LOCKER = """
import sys, time
import psycopg2

conn = psycopg2.connect(sys.argv[1], connect_timeout=5)
cursor = conn.cursor()
cursor.execute("SELECT pg_backend_pid()")
print(cursor.fetchone()[0], flush=True)
cursor.execute("SELECT id FROM autoservice_outboxmessage WHERE id = %s FOR UPDATE", [sys.argv[2]])
print("locked" if cursor.fetchone() else "missing", flush=True)
time.sleep(600)
"""


@pytest.mark.timeout(90)
def test_message_held_by_a_killed_worker_is_delivered_once_by_another(
    broker, start_worker, processes, mail_dir
):
    shop = ShopFactory(notification_emails=", ".join(NOTIFY_TO))
    lead, _created = lead_create(
        shop=shop,
        channel=Channel.PHOTO,
        data=LeadInput(customer_name="Анна Смирнова", phone="+79123456789"),
    )
    message = _message_of(lead)  # committed, and its task is waiting in Redis for a worker

    # A worker took the message and is mid-send: it holds the row lock.
    locker = processes.start(
        "locker",
        [sys.executable, "-c", LOCKER, processes_database_url(), str(message.pk)],
        stdout=subprocess.PIPE,
    )
    backend_pid = int(locker.stdout.readline() or 0)
    assert locker.stdout.readline() == b"locked\n", processes.log("locker")

    started = time.monotonic()
    assert outbox_deliver_now(message.pk) == "skipped"
    assert time.monotonic() - started < 5, "waited for the other worker's lock"
    worker = start_worker()
    assert worker.wait_for_deliveries(1) == ["skipped"]  # the queued task, without blocking
    assert _status(message) == OutboxStatus.PENDING
    assert _sent_emails(mail_dir) == []

    # That worker is killed: its transaction dies with it and the lock is released.
    processes.kill(locker)

    def lock_released() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            return cursor.fetchone()[0] == 0

    wait_for(lock_released, seconds=10, what="PostgreSQL ended the killed session")
    assert outbox_dispatch(now=_after_grace(message)) == 1
    wait_for(
        lambda: _status(message) == OutboxStatus.SENT,
        seconds=40,
        what="the worker sent the new-lead e-mail",
        context=worker.log,
    )
    assert worker.deliveries() == ["skipped", "sent"]
    _assert_notified_once(lead, mail_dir)
    assert outbox_deliver_now(message.pk) == "skipped"
    _assert_notified_once(lead, mail_dir)
