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
import importlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from autoservice.celery import app as celery_app
from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import DISPATCH_GRACE, outbox_deliver_now, outbox_dispatch
from autoservice.tasks import outbox_deliver
from leads.models import Channel, EventKind, Lead, LeadEvent
from leads.services import LeadInput, lead_create
from tests.factories import ShopFactory

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NOTIFY_TO = ["a@x.ru", "b@x.ru"]

pytestmark = [
    pytest.mark.django_db(transaction=True),  # committed data, so that the worker sees it
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="redis-server is not installed"),
]


def _wait_for(
    condition: Callable[[], object],
    *,
    seconds: float,
    what: str,
    context: Callable[[], str] = lambda: "",
):
    """Poll until condition() is truthy; fail naming what was awaited, with context."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds} s\n{context()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Every process a test starts, each in its own process group, killed at teardown."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], **kwargs) -> subprocess.Popen:
        """Start a process logging to <name>.log (its stderr only, if stdout is taken)."""
        with (self.folder / f"{name}.log").open("ab") as log:
            kwargs.setdefault("stdout", log)
            kwargs.setdefault("stderr", subprocess.STDOUT if kwargs["stdout"] is log else log)
            proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.started.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone, with its group
        proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def kill_all(self) -> None:
        for proc in reversed(self.started):
            self.kill(proc)


class RedisServer:
    def __init__(self, processes: Processes, port: int):
        self.processes = processes
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        args += ["--dir", str(self.processes.folder)]
        self.proc = self.processes.start("redis", args)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)

        def answers() -> bool:
            assert self.proc.poll() is None, "redis-server exited:\n" + self.processes.log("redis")
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        _wait_for(answers, seconds=10, what="redis-server answers", context=self.log)
        client.close()

    def stop(self) -> None:
        self.processes.kill(self.proc)

    def log(self) -> str:
        return self.processes.log("redis")


class Worker:
    TASK_DONE = re.compile(
        r"Task autoservice\.tasks\.outbox_deliver\[[^\]]+\] succeeded in [\d.]+s: '(\w+)'"
    )

    def __init__(self, processes: Processes):
        self.processes = processes

    def log(self) -> str:
        return "--- worker log ---\n" + self.processes.log("worker")

    def deliveries(self) -> list[str]:
        """What each outbox_deliver task the worker finished returned, in order."""
        return self.TASK_DONE.findall(self.processes.log("worker"))

    def wait_for_deliveries(self, count: int) -> list[str]:
        return _wait_for(
            lambda: len(self.deliveries()) >= count and self.deliveries(),
            seconds=40,
            what=f"the worker finished {count} outbox_deliver task(s)",
            context=self.log,
        )


def _test_database_url() -> str:
    db = django_settings.DATABASES["default"]  # the test database by now
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_broker_pools() -> None:
    # Publishing goes through kombu's process-wide pools, keyed by broker URL, which the app
    # also caches: close and forget them all, so the next publish connects to the broker_url
    # set now (closing only the app's pool would leave a closed pool in kombu's registry).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def platform_consent_text(transactional_db):
    """The driver's form needs the platform consent text a data migration writes; the flush
    after an earlier transactional test may have removed it, so write it the same way."""
    migration = importlib.import_module("autoservice.migrations.0003_platform_consent_text")
    migration.create_default(django_apps, None)


@pytest.fixture
def processes(transactional_db, tmp_path):
    # Requests transactional_db so it is torn down first: no process of ours may hold a
    # connection or a lock when the database is flushed.
    running = Processes(tmp_path)
    yield running
    running.kill_all()


@pytest.fixture
def redis_server(processes) -> RedisServer:
    server = RedisServer(processes, _free_port())
    server.start()
    return server


@pytest.fixture
def broker(redis_server, settings):
    """This process publishes to (and caches in) the test's own Redis, as in production."""
    settings.REDIS_URL = redis_server.url
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Every cache in Redis moves to the test's Redis, and the default one is in Redis as
    # settings.py makes it whenever REDIS_URL is set: an outage takes the cache down too.
    caches = {
        alias: {**conf, "LOCATION": redis_server.url} if "redis" in conf["BACKEND"] else conf
        for alias, conf in django_settings.CACHES.items()
    }
    if "redis" not in caches["default"]["BACKEND"]:
        caches["default"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
        }
    settings.CACHES = caches
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url = redis_server.url
    celery_app.conf.task_always_eager = False
    _reset_broker_pools()
    yield redis_server
    celery_app.conf.update(saved)
    _reset_broker_pools()


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def start_worker(processes, broker, mail_dir, tmp_path) -> Callable[[], Worker]:
    def start() -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": broker.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "VAR_DIR": str(tmp_path / "var"),
        }
        args = [str(Path(sys.executable).with_name("celery")), "-A", "autoservice", "worker"]
        args += ["--pool", "solo", "--loglevel", "INFO", "--hostname", "outbox-test@%h"]
        args += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        processes.start("worker", args, env=env, cwd=django_settings.BASE_DIR)
        return Worker(processes)

    return start


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

    _wait_for(
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
        [sys.executable, "-c", LOCKER, _test_database_url(), str(message.pk)],
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

    _wait_for(lock_released, seconds=10, what="PostgreSQL ended the killed session")
    assert outbox_dispatch(now=_after_grace(message)) == 1
    _wait_for(
        lambda: _status(message) == OutboxStatus.SENT,
        seconds=40,
        what="the worker sent the new-lead e-mail",
        context=worker.log,
    )
    assert worker.deliveries() == ["skipped", "sent"]
    _assert_notified_once(lead, mail_dir)
    assert outbox_deliver_now(message.pk) == "skipped"
    _assert_notified_once(lead, mail_dir)
