"""Shared set-up for benchmarks that need Django and the benchmark database."""

from __future__ import annotations

import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autoservice.settings")


def setup_django() -> None:
    """Create the benchmark database if needed, migrate it and start Django."""
    import dj_database_url
    import django

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg2

        params = dj_database_url.parse(url)
        conn = psycopg2.connect(
            host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"], dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]])
            if not cur.fetchone():
                cur.execute(f'CREATE DATABASE "{params["NAME"]}"')
        conn.close()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def median_ms(func: Callable[[], object], *, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def report(name: str, figure: float, unit: str, budget: str, ok: bool) -> None:
    row = {"name": name, "figure": figure, "unit": unit, "budget": budget}
    row["verdict"] = "ok" if ok else "over"
    print("BENCH " + json.dumps(row, ensure_ascii=False), flush=True)


def photo_3mb(seed: int) -> bytes:
    """A 12 MP phone-like JPEG of about 3 MB."""
    from PIL import Image

    rnd = random.Random(seed)
    image = Image.effect_noise((4000, 3000), 40).convert("RGB")
    tint = Image.new("RGB", image.size, (rnd.randrange(255), 120, 160))
    image = Image.blend(image, tint, 0.5)
    for quality in (70, 60, 50, 40):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= 3_300_000:
            break
    return buffer.getvalue()


def multipart(
    fields: dict[str, str], files: list[tuple[str, bytes]], content_type: str = "image/jpeg"
) -> tuple[bytes, str]:
    """A driver's form as a browser posts it: the fields, then the photos."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for filename, content in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_start(*, redis_url: str, timeout_s: int = 60) -> tuple[subprocess.Popen, int, str]:
    """One gunicorn worker on a free loopback port with a media folder of its own, tasks
    queued in `redis_url` (no worker takes them). Returns (process, port, media folder) once
    the port answers; the caller terminates the process and removes the folder."""
    port = free_port()
    media = tempfile.mkdtemp(prefix="bench-media-")
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": media,
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "autoservice.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--timeout", str(timeout_s), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, port, media
