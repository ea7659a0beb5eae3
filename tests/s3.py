"""A real S3 API on loopback for the tests: moto in server mode (werkzeug on 127.0.0.1).

Two ways in:

- the whole suite with STORAGE=s3 (`make test-s3`): conftest starts one server per xdist
  worker (S3_TEST_PORT, 8830 by default, plus the worker's number), every test gets a bucket
  of its own, and a test that writes a single file under MEDIA_ROOT fails;
- the `s3` fixture in any run: the same server, and this test's files in a bucket of their
  own (STORAGE switched to s3 for the test), for the tests about object storage itself.

The storage code does not know it talks to moto: it is the same django-storages S3 backend
with an endpoint URL, as for Yandex Object Storage or Selectel.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "ru-central1"


@dataclass
class S3Server:
    endpoint_url: str
    port: int

    def options(self, bucket: str, *, endpoint_url: str | None = None) -> dict:
        return {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or self.endpoint_url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "querystring_expire": 300,
        }


_server: S3Server | None = None


def _worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def s3_server() -> S3Server:
    """The process's S3 server, started on first use and left running to the end."""
    global _server
    if _server is None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = int(os.environ.get("S3_TEST_PORT", "8830")) + _worker_number()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        _server = S3Server(endpoint_url=f"http://127.0.0.1:{port}", port=port)
    return _server


def refused_endpoint() -> str:
    """An address on loopback where nothing listens: every request is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def s3_storages(settings, bucket: str, *, endpoint_url: str | None = None) -> dict:
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "autoservice.storage.PrivateS3Storage",
            "OPTIONS": s3_server().options(bucket, endpoint_url=endpoint_url),
        },
    }


def use_bucket(settings, monkeypatch, *, bucket: str | None = None) -> str:
    """Point default_storage (and the environment of processes a test starts) at a new,
    empty bucket on the loopback server; returns its name."""
    from autoservice import storage

    bucket = bucket or f"test-{uuid.uuid4().hex[:20]}"
    settings.STORAGE = "s3"
    settings.STORAGES = s3_storages(settings, bucket)
    storage.bucket_create(bucket)
    server = s3_server()
    for name, value in (
        ("STORAGE", "s3"),
        ("S3_ENDPOINT_URL", server.endpoint_url),
        ("S3_BUCKET", bucket),
        ("S3_REGION", REGION),
        ("S3_ACCESS_KEY_ID", ACCESS_KEY),
        ("S3_SECRET_ACCESS_KEY", SECRET_KEY),
    ):
        monkeypatch.setenv(name, value)
    return bucket


def storage_env() -> dict[str, str]:
    """The storage part of the environment of a process a test starts (gunicorn, a Celery
    worker, the events process, a management command): the storage this process uses right
    now. With STORAGE=s3 (`make test-s3`, or the `s3` fixture) that is the test's own bucket on
    the loopback server, so the processes write where the test looks and nothing lands under
    MEDIA_ROOT; else the local folder (the caller passes MEDIA_ROOT)."""
    from django.conf import settings

    if settings.STORAGE != "s3":
        return {"STORAGE": "local"}
    options = settings.STORAGES["default"]["OPTIONS"]
    return {
        "STORAGE": "s3",
        "S3_ENDPOINT_URL": options["endpoint_url"],
        "S3_BUCKET": options["bucket_name"],
        "S3_REGION": options["region_name"],
        "S3_ACCESS_KEY_ID": options["access_key"],
        "S3_SECRET_ACCESS_KEY": options["secret_key"],
    }


def bucket_objects(bucket: str) -> list[str]:
    """What the bucket holds, asked of the loopback server itself (ListObjectsV2), whatever
    endpoint the app is pointed at just now."""
    from autoservice.storage import PrivateS3Storage, StorageUnavailable

    client = PrivateS3Storage(**s3_server().options(bucket)).connection.meta.client
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
    except client.exceptions.NoSuchBucket as exc:
        raise StorageUnavailable(str(exc)) from exc


def files_under(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def s3(settings, monkeypatch) -> str:
    """This test's files go to a bucket of their own on the loopback S3 server; the bucket's
    name. Works in any run (STORAGE=local or s3)."""
    return use_bucket(settings, monkeypatch)


def served_file(response) -> tuple[bytes, dict[str, str]]:
    """What a permission-checked file view hands out, with its headers (lower-case names):
    the bytes the app streams, or, with object storage, those behind its 302 to a presigned
    URL, fetched from the S3 server as a browser would (without the app's session: the link
    alone must open it)."""
    import urllib.request

    if response.status_code == 302:
        # Only ever to the bucket the app stores in, as a presigned GET of the object.
        assert response["Location"].startswith(bucket_url()), response["Location"]
        with urllib.request.urlopen(response["Location"], timeout=10) as answer:  # noqa: S310
            return answer.read(), {k.lower(): v for k, v in answer.headers.items()}
    assert response.status_code == 200, response.status_code
    headers = {k.lower(): v for k, v in response.items()}
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content), headers
    return response.content, headers


def bucket_url() -> str:
    """Where the objects of the bucket default_storage uses are (path-style addressing)."""
    from django.core.files.storage import default_storage

    return f"{default_storage.endpoint_url.rstrip('/')}/{default_storage.bucket_name}/"


def redirects_to_bucket(response) -> bool:
    """The answer is object storage's way of handing out a file: a 302 to a presigned URL of
    the app's bucket (the Django test client cannot follow it: another host)."""
    from autoservice import storage

    return (
        response.status_code == 302
        and not storage.is_local()
        and response["Location"].startswith(bucket_url())
    )


def served_bytes(response) -> bytes:
    return served_file(response)[0]


def stored_names(prefix: str) -> list[str]:
    """Every stored file under ``prefix`` (a folder or a bucket alike), sorted."""
    from django.core.files.storage import default_storage

    names: list[str] = []
    folders = [prefix.strip("/")]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        join = (lambda name, folder=folder: f"{folder}/{name}") if folder else str
        names += [join(name) for name in files]
        folders += [join(name) for name in subfolders]
    return sorted(names)


def stored_replace(name: str, data: bytes) -> None:
    """Put other bytes under a stored file's name (a tampering, a broken upload)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(data)) == name


def stored_bytes(name: str) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as handle:
        return handle.read()
