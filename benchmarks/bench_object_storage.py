"""A driver's 3 MB photo stored in object storage (STORAGE=s3, a moto S3 server in its own
process on loopback) against the same photo stored in a local folder, in the same run: the
upload path (stream to a temp file, hash, decode check, put into the bucket) per photo, and
the Python memory it holds at its peak (the photo is never held whole in memory).

Run from the repository root: ``.venv/bin/python benchmarks/bench_object_storage.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path

from common import ROOT, median_ms, photo_3mb, report

os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

from autoservice import storage  # noqa: E402
from autoservice.models import Shop  # noqa: E402
from leads import photos  # noqa: E402

BUDGET_RATIO = 3.0  # S3 on loopback / local folder
BUDGET_PEAK_SHARE = 0.25  # Python memory at the peak / the file's size
BIG_MB = 20  # PHOTO_MAX_MB
CHUNK = 64 * 1024
REPEAT = 9


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_s3() -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint, timeout=1)  # noqa: S310
            break
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP answer: it is up
                break
            time.sleep(0.1)
    return server, endpoint


def store(shop: Shop, photo: bytes) -> photos._StoredFile:
    chunks = (photo[i : i + CHUNK] for i in range(0, len(photo), CHUNK))
    return photos._store_file(shop=shop, filename="IMG_0001.jpg", chunks=chunks)


def main() -> None:
    photo = photo_3mb(1)
    shop = Shop(pk=990001, slug="bench-storage")
    server, endpoint = start_s3()
    try:
        with tempfile.TemporaryDirectory() as media:
            local = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
            with override_settings(
                STORAGE="local", MEDIA_ROOT=media, STORAGES={"default": local, **_static()}
            ):
                local_ms = median_ms(lambda: store(shop, photo), repeat=REPEAT)
        s3 = {
            "BACKEND": "autoservice.storage.PrivateS3Storage",
            "OPTIONS": {
                "bucket_name": "bench-photos",
                "endpoint_url": endpoint,
                "region_name": "ru-central1",
                "access_key": "bench",
                "secret_key": "bench",
            },
        }
        with override_settings(STORAGE="s3", STORAGES={"default": s3, **_static()}):
            storage.bucket_create("bench-photos")
            s3_ms = median_ms(lambda: store(shop, photo), repeat=REPEAT)
            stored = store(shop, photo)
            assert storage.sha256(stored.name)[0] == stored.stored.sha256
            # A file as large as an upload may be, put into the bucket: the memory held is
            # the signer's 1 MB read buffers, whatever the size.
            with tempfile.NamedTemporaryFile() as big:
                for _ in range(BIG_MB):
                    big.write(os.urandom(2**20))
                big.flush()
                storage.put("bench/big.bin", Path(big.name))  # warm the client up
                tracemalloc.start()
                storage.put("bench/big.bin", Path(big.name))
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
    finally:
        server.terminate()
        server.wait(timeout=10)
    size_mb = len(photo) / 1e6
    print(f"photo {size_mb:.2f} MB; local {local_ms:.0f} ms, S3 on loopback {s3_ms:.0f} ms")
    ratio = s3_ms / local_ms
    report(
        "3 MB photo stored in S3 (loopback), ms",
        round(s3_ms, 1),
        "ms",
        f"≤{BUDGET_RATIO}× local ({local_ms:.0f})",
        ratio <= BUDGET_RATIO,
    )
    share = peak / (BIG_MB * 2**20)
    report(
        f"{BIG_MB} MB file put into S3: Python memory at peak",
        round(peak / 2**20, 2),
        "MiB",
        f"≤{BUDGET_PEAK_SHARE:.0%} of {BIG_MB} MiB",
        share <= BUDGET_PEAK_SHARE,
    )


def _static() -> dict:
    from django.conf import settings

    return {"staticfiles": settings.STORAGES["staticfiles"]}


if __name__ == "__main__":
    main()
