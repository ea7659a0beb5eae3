"""The real processes of the full stack, for tests that prove promises about it: a
redis-server of the test's own, Celery workers and beat, gunicorn, all against the test
PostgreSQL database (committed data, so that the processes see it). Every process runs in its
own process group and is killed at teardown."""

from __future__ import annotations

import http.client
import importlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import psycopg2
import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from PIL import Image

from autoservice.celery import app as celery_app
from tests.s3 import storage_env

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def wait_for(
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


def free_port() -> int:
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

        wait_for(answers, seconds=10, what="redis-server answers", context=self.log)
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
        return wait_for(
            lambda: len(self.deliveries()) >= count and self.deliveries(),
            seconds=40,
            what=f"the worker finished {count} outbox_deliver task(s)",
            context=self.log,
        )


def processes_database_url() -> str:
    db = django_settings.DATABASES["default"]  # the test database by now
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def reset_broker_pools() -> None:
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
def second_connection(transactional_db):
    """A raw connection to the test database, standing for another worker."""
    from django.db import connection

    params = connection.settings_dict
    conn = psycopg2.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"] or 5432,
        connect_timeout=5,
    )
    yield conn
    conn.close()  # before the flush: an open lock would block its TRUNCATE


@pytest.fixture
def processes(transactional_db, tmp_path):
    # Requests transactional_db so it is torn down first: no process of ours may hold a
    # connection or a lock when the database is flushed.
    running = Processes(tmp_path)
    yield running
    running.kill_all()


@pytest.fixture
def redis_server(processes) -> RedisServer:
    server = RedisServer(processes, free_port())
    server.start()
    return server


@pytest.fixture
def broker(redis_server, settings):
    """This process publishes to (and caches in) the test's own Redis, as in production."""
    # Read before the settings change: Celery loads its configuration from the settings on
    # first use, and a first use here would save (and later restore) the test's broker.
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
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
    celery_app.conf.broker_url = redis_server.url
    celery_app.conf.task_always_eager = False
    reset_broker_pools()
    yield redis_server
    celery_app.conf.update(saved)
    reset_broker_pools()


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
            # Development settings only for static files (no collectstatic per test); the
            # delivery path under test is the same as production's.
            "DEBUG": "true",
            "DATABASE_URL": processes_database_url(),
            "REDIS_URL": broker.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "MEDIA_ROOT": str(tmp_path / "media"),
            **storage_env(),
            "VAR_DIR": str(tmp_path / "var"),
        }
        args = [str(Path(sys.executable).with_name("celery")), "-A", "autoservice", "worker"]
        args += ["--pool", "solo", "--loglevel", "INFO", "--hostname", "outbox-test@%h"]
        # One worker for every queue: these tests need a worker, not the production split.
        args += ["--queues", ",".join(django_settings.CELERY_QUEUE_NAMES)]
        args += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        processes.start("worker", args, env=env, cwd=django_settings.BASE_DIR)
        return Worker(processes)

    return start


# --- the whole stack, started as the README starts it (the Procfile) -------------------


def procfile_commands(path: Path | None = None) -> dict[str, str]:
    """The Procfile's process lines, by name (web, worker, beat, ...)."""
    path = path or Path(django_settings.BASE_DIR) / "Procfile"
    commands = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


class SmtpSink:
    """A real SMTP server (aiosmtpd) that files every message it accepts in a maildir."""

    def __init__(self, processes: Processes):
        self.processes = processes
        self.port = free_port()
        self.maildir = processes.folder / "maildir"

    def start(self) -> None:
        args = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}"]
        args += ["-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)]
        self.processes.start("smtp", args)
        wait_for(self._answers, seconds=15, what="the SMTP sink answers")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                return conn.recv(3) == b"220"
        except OSError:
            return False

    def arrivals(self) -> list[tuple[str, float]]:
        """(Message-ID, the wall-clock time the sink filed it) of every copy received."""
        found = []
        for folder in ("new", "cur"):
            for path in (self.maildir / folder).glob("*") if self.maildir.exists() else []:
                match = re.search(rb"^Message-ID: (<[^>]+>)", path.read_bytes(), re.M | re.I)
                found.append((match.group(1).decode() if match else "", path.stat().st_mtime))
        return found

    def lead_copies(self, lead_ids) -> dict[int, list[float]]:
        """For each lead, when each copy of its new-lead e-mail arrived (empty: none did)."""
        copies: dict[int, list[float]] = {pk: [] for pk in lead_ids}
        for message_id, filed in self.arrivals():
            match = re.match(r"<lead-new-(\d+)@", message_id)
            if match and int(match.group(1)) in copies:
                copies[int(match.group(1))].append(filed)
        return copies

    def message_ids(self) -> list[str]:
        """The Message-ID of every message received, one entry per copy."""
        return [message_id for message_id, _filed in self.arrivals()]


class Stack:
    """gunicorn, the Celery workers and Celery beat from the Procfile, with a redis-server and
    an SMTP sink of the test's own, against the test database."""

    def __init__(self, processes: Processes, redis_server: RedisServer, smtp: SmtpSink):
        self.processes = processes
        self.redis = redis_server
        self.smtp = smtp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.commands = procfile_commands()
        var = processes.folder / "var"
        var.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            # Development settings only for static files (no collectstatic per test); the
            # delivery path under test is the same as production's.
            "DEBUG": "true",
            "DATABASE_URL": processes_database_url(),
            "REDIS_URL": redis_server.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "MEDIA_ROOT": str(processes.folder / "media"),
            **storage_env(),
            "VAR_DIR": str(var),
            "WEB_PORT": str(self.port),
            "SITE_URL": self.url,
            "PROXY_COUNT": "1",  # each simulated driver comes through X-Forwarded-For
        }
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        proc = self.processes.start(
            name,
            ["bash", "-c", f"exec {self.commands[name]}"],
            env=self.env,
            cwd=django_settings.BASE_DIR,
        )
        self.running[name] = proc
        return proc

    def kill(self, name: str) -> None:
        """kill -9 of the process and its children (the worker's pool), as a crash would."""
        self.processes.kill(self.running.pop(name))

    @property
    def workers(self) -> list[str]:
        """The Procfile's Celery workers, one per queue group (worker_notify, ...)."""
        return [name for name in self.commands if name.startswith("worker")]

    def start_all(self) -> None:
        for name in ("web", *self.workers, "beat"):
            self.start(name)
        wait_for(self.web_answers, seconds=30, what="gunicorn answers", context=self.logs)
        for name in self.workers:
            wait_for(
                lambda name=name: "ready." in self.processes.log(name),
                seconds=60,
                what=f"{name} is ready",
                context=self.logs,
            )

    @classmethod
    def launch(cls, processes: Processes) -> Stack:
        """A redis-server and an SMTP sink of its own, then web, worker and beat."""
        redis_server = RedisServer(processes, free_port())
        redis_server.start()
        smtp = SmtpSink(processes)
        smtp.start()
        stack = cls(processes, redis_server, smtp)
        stack.start_all()
        return stack

    def web_answers(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url + "/healthz/live", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def logs(self) -> str:
        return "\n".join(
            f"--- {name} log ---\n{self.processes.log(name)[-4000:]}"
            for name in ("web", *self.workers, "beat", "redis", "smtp")
        )


# --- drivers sending the real photo form over HTTP ------------------------------------


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 90, 160)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    body = "".join(parts).encode()
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="door.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body += photo + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Driver:
    """One driver on a phone: opens the shop's photo form and sends it."""

    def __init__(self, stack: Stack, slug: str, number: int, photo: bytes, tag: str = "заявка"):
        self.stack, self.slug, self.number, self.photo = stack, slug, number, photo
        self.tag = tag
        # An address from the documentation range, so per-address limits see many drivers.
        self.address = f"198.51.100.{number % 250 + 1}"

    def _request(self, method: str, path: str, body: bytes | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={"X-Forwarded-For": self.address, **(headers or {})},
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def send(self) -> int:
        path = f"/s/{self.slug}/photo/"
        status, page = self._request("GET", path)
        if status != 200:
            return status
        token = re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode()
        fields = {
            "form_token": token,
            "description": f"Вмятина на задней двери, {self.tag} {self.number}",
            "vehicle_make": "Kia",
            "vehicle_model": "Rio",
            "vehicle_year": "2018",
            "customer_name": f"Водитель {self.number}",
            "phone": f"+7 912 000-{self.number // 100 % 100:02d}-{self.number % 100:02d}",
            "preferred_contact": "call",
            "consent": "on",
        }
        body, content_type = _multipart(fields, self.photo)
        status, _answer = self._request("POST", path, body, {"Content-Type": content_type})
        return status


class Burst(threading.Thread):
    """Drivers one after another, every `interval` seconds, for `seconds`; each status is
    kept with the moment its answer came (seconds from the start, and the wall clock)."""

    def __init__(
        self, stack: Stack, slug: str, *, seconds: float, interval: float, tag: str = "заявка"
    ):
        super().__init__(daemon=True)
        self.stack, self.slug, self.seconds, self.interval = stack, slug, seconds, interval
        self.tag = tag
        self.statuses: list[tuple[float, int]] = []
        self.answered_at: dict[int, float] = {}

    def run(self) -> None:
        photo = _jpeg()
        started = time.monotonic()
        number = 0
        while time.monotonic() - started < self.seconds:
            number += 1
            try:
                status = Driver(self.stack, self.slug, number, photo, self.tag).send()
            except OSError as exc:  # a refused or dropped connection counts as a failure
                status = 599
                print(f"driver {number}: {exc}")
            self.statuses.append((time.monotonic() - started, status))
            self.answered_at[number] = time.time()
            time.sleep(self.interval)


# --- the events process (Server-Sent Events under uvicorn) ----------------------------


def port_in(ports: range) -> int:
    """A free port of the given range (this machine's people share it by ranges), else any."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


class EventsServer:
    """The Procfile's `events` process (uvicorn, the ASGI app) against the test database and
    a redis-server of the test's own. It serves the whole app, so a browser can open the
    staff pages from it and reach /events/shop/ on the same origin."""

    def __init__(self, processes: Processes, redis_url: str, **env: str):
        self.processes = processes
        self.port = port_in(range(8810, 8820))
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DEBUG": "true",  # static files without collectstatic, as the other stacks
            "DATABASE_URL": processes_database_url(),
            "REDIS_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "MEDIA_ROOT": str(processes.folder / "media"),
            **storage_env(),
            "VAR_DIR": str(processes.folder / "var"),
            "EVENTS_PORT": str(self.port),
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> EventsServer:
        command = procfile_commands()["events"]
        self.proc = self.processes.start(
            "events", ["bash", "-c", f"exec {command}"], env=self.env, cwd=django_settings.BASE_DIR
        )
        wait_for(self.answers, seconds=30, what="the events process answers", context=self.log)
        return self

    def answers(self) -> bool:
        assert self.proc.poll() is None, "the events process exited:\n" + self.log()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def log(self) -> str:
        return "--- events log ---\n" + self.processes.log("events")[-4000:]


class SseClient(threading.Thread):
    """One open stream, read as a browser's EventSource reads it: every line kept with the
    wall-clock time it arrived."""

    def __init__(self, port: int, session: str | None, path: str = "/events/shop/"):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Accept": "text/event-stream"}
        if session:
            headers["Cookie"] = f"sessionid={session}"
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.lines: list[tuple[float, str]] = []
        self.ended = threading.Event()
        if self.status == 200:
            self.start()
        else:
            self.response.read()
            self.ended.set()

    def run(self) -> None:
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                self.lines.append((time.time(), line.decode().rstrip("\n")))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by the test (mid-read), or the server went away
        finally:
            self.ended.set()

    def events(self) -> list[dict]:
        """The `data:` payloads received so far."""
        import json

        return [json.loads(text[6:]) for _at, text in self.lines if text.startswith("data: ")]

    def raw(self) -> str:
        return "\n".join(text for _at, text in self.lines)

    def close(self) -> None:
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()


# How often the test streams beat: rights are looked at again at each beat.
PUSH_HEARTBEAT_S = 1


@pytest.fixture
def push_redis(redis_server, settings) -> RedisServer:
    """This process publishes its shop events to the test's own Redis, as web and workers do."""
    settings.REDIS_URL = redis_server.url
    settings.EVENTS_URL_PREFIX = "/events/"
    return redis_server


@pytest.fixture
def push_events(processes, push_redis) -> EventsServer:
    """The events process, beating every second and allowing two streams per person."""
    return EventsServer(
        processes,
        push_redis.url,
        EVENTS_HEARTBEAT_SECONDS=str(PUSH_HEARTBEAT_S),
        EVENTS_MAX_PER_USER="2",
    ).start()
