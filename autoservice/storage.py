"""Stored files: one way in and out, whether they live in MEDIA_ROOT or in an S3 bucket.

Drivers' photos, their renditions, intake shots and signatures are read and written only
through Django's storage API (``default_storage``) and the few helpers here, so the same code
runs on the embedded default (a local folder) and on S3-compatible object storage with data in
Russia (STORAGE=s3: Yandex Object Storage, VK Cloud, Selectel). Nothing outside this module
asks a storage for a local ``path``: an object in a bucket has none.

- ``staged(name)``: a local path to write a new file into; leaving the block stores it under
  ``name`` (in place on local storage, uploaded from a temp file to the bucket). A failure in
  the block stores nothing.
- ``local_copy(name)``: a local path to read a stored file with tools that need one (Pillow,
  the quality check): the file itself locally, a temp copy from the bucket.
- ``served(name)``: the response of a permission-checked view that hands the file out: a 302
  to a short-lived presigned URL on S3, ``X-Accel-Redirect`` behind nginx, or the bytes.
- ``StorageUnavailable``: the bucket could not be reached or refused the request; callers
  tell the user in Russian and keep what they typed, tasks retry.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

CHUNK_BYTES = 1 << 20

_SESSION_LOCK = threading.RLock()
_SESSIONS: dict[tuple, object] = {}


class StorageUnavailable(OSError):
    """The object storage could not be reached or refused a request (a transient outage as
    far as the caller can tell). An OSError, so tasks that retry on OSError retry on it."""


def _storage_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def failures() -> tuple[type[BaseException], ...]:
    """What a write through the storage API raises when the storage cannot take it: the
    S3 client's errors, StorageUnavailable, and OSError (a full or read-only disk)."""
    return (*_storage_errors(), OSError)


class PrivateS3Storage(S3Storage):
    """django-storages' S3 backend with this product's defaults: every object private (no
    public ACL, never a public URL: `url()` is a presigned link that expires after
    MEDIA_PRESIGNED_SECONDS), names never silently overwritten (a second shop logo
    "logo.png" gets a name of its own), reads larger than an upload's in-memory limit
    spooled to a temp file instead of memory, bounded timeouts and a few retries."""

    def get_default_settings(self) -> dict:
        from botocore.config import Config

        defaults = super().get_default_settings()
        defaults.update(
            default_acl="private",
            querystring_auth=True,
            file_overwrite=False,
            max_memory_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            client_config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                # Path-style addressing works with every S3-compatible service and with a
                # server on loopback; virtual-host style needs DNS for each bucket.
                s3={"addressing_style": "path"},
                # Only compute checksums when the operation requires them: some
                # S3-compatible services refuse the newer default checksum headers.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        return defaults

    def _create_session(self):
        # A boto3 session loads the service descriptions (JSON) once; each new one costs a
        # quarter second or more. One per set of credentials, shared by every storage of the
        # process (the restore drill's, a test's bucket); made into clients under a lock.
        key = (self.session_profile, self.access_key, self.secret_key, self.security_token)
        with _SESSION_LOCK:
            session = _SESSIONS.get(key)
            if session is None:
                session = _SESSIONS[key] = super()._create_session()
        return session

    @property
    def connection(self):
        connection = getattr(self._connections, "connection", None)
        if connection is not None:
            return connection
        with _SESSION_LOCK:
            return super().connection

    def put_file(self, name: str, path: Path) -> str:
        """Upload the local file ``path`` under exactly ``name``, replacing what is there (a
        rendition made again; S3 replaces an object whole, a reader sees the old or the new
        one). Read from disk in parts: S3Storage.save() wraps the file in a reader that
        cannot seek, and boto3 then buffers the whole file in memory."""
        key = self._normalize_name(clean_name(name))
        self.bucket.Object(key).upload_file(
            str(path), ExtraArgs=self._get_write_parameters(key), Config=self.transfer_config
        )
        return clean_name(name)


def is_local(storage: Storage | None = None) -> bool:
    return isinstance(storage or default_storage, FileSystemStorage)


def _wrapped(storage: Storage | None) -> Storage:
    # default_storage is a lazy proxy: isinstance sees through it, and a test that changes
    # STORAGES gets the new backend on the next call.
    return storage or default_storage


def put(name: str, source: Path, *, storage: Storage | None = None) -> None:
    """Store the local file ``source`` under exactly ``name`` (replacing an older one)."""
    storage = _wrapped(storage)
    if is_local(storage):
        target = Path(storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        if target != source:
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
        return
    try:
        if hasattr(storage, "put_file"):
            storage.put_file(name, source)
            return
        with source.open("rb") as handle:
            saved = storage.save(name, File(handle, name=name))
        if saved != name:
            storage.delete(saved)
            raise StorageUnavailable(f"stored as {saved!r}, not {name!r}")
    except _storage_errors() as exc:
        raise StorageUnavailable(str(exc)) from exc


@contextmanager
def staged(name: str, *, storage: Storage | None = None) -> Iterator[Path]:
    """A local path to write the new file ``name`` into. Leaving the block normally stores
    the file (uploads it to the bucket); an error in the block, or in the upload, leaves
    nothing stored and no temp file behind. Raises StorageUnavailable when the bucket
    cannot take the file."""
    storage = _wrapped(storage)
    if is_local(storage):
        path = Path(storage.path(name))
        try:
            yield path
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return
    with tempfile.TemporaryDirectory(prefix="stage-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        path = Path(tmp) / Path(name).name
        yield path
        if path.exists():
            put(name, path, storage=storage)


@contextmanager
def local_copy(name: str, *, storage: Storage | None = None) -> Iterator[Path]:
    """A local path holding the stored file ``name`` for tools that need a path. Raises
    FileNotFoundError when there is no such file, StorageUnavailable when the bucket cannot
    be read."""
    storage = _wrapped(storage)
    if is_local(storage):
        path = Path(storage.path(name))
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="copy-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        path = Path(tmp) / Path(name).name
        try:
            with storage.open(name, "rb") as source, path.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK_BYTES)
        except _storage_errors() as exc:
            if _is_missing(exc):
                raise FileNotFoundError(name) from exc
            raise StorageUnavailable(str(exc)) from exc
        yield path


def _is_missing(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


def read_bytes(name: str, *, storage: Storage | None = None) -> bytes | None:
    """The whole stored file (small ones only: signatures, thumbnails); None when missing."""
    storage = _wrapped(storage)
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except _storage_errors() as exc:
        if _is_missing(exc):
            return None
        raise StorageUnavailable(str(exc)) from exc


def sha256(name: str, *, storage: Storage | None = None) -> tuple[str, int] | None:
    """Hex SHA-256 and size of the stored file, read in chunks; None when it is missing."""
    storage = _wrapped(storage)
    digest, size = hashlib.sha256(), 0
    try:
        with storage.open(name, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return None
    except _storage_errors() as exc:
        if _is_missing(exc):
            return None
        raise StorageUnavailable(str(exc)) from exc
    return digest.hexdigest(), size


def delete(name: str, *, storage: Storage | None = None) -> None:
    """Delete a stored file; a missing one is no error."""
    if not name:
        return
    storage = _wrapped(storage)
    try:
        storage.delete(name)
    except _storage_errors() as exc:
        raise StorageUnavailable(str(exc)) from exc


def served(
    name: str,
    *,
    content_type: str,
    cache_control: str = "private, max-age=86400",
    filename: str | None = None,
) -> HttpResponse:
    """How a permission-checked view hands out the stored file ``name`` (the check is the
    view's, done before this):

    - object storage: 302 to a presigned URL valid MEDIA_PRESIGNED_SECONDS, with the content
      type (and download name) the view chose; the redirect itself is never cached;
    - local storage with MEDIA_X_ACCEL_PREFIX (nginx in front): an empty answer with
      ``X-Accel-Redirect: <prefix><name>`` that nginx serves from its internal location;
    - local storage alone: the file streamed by the app.
    """
    storage = default_storage
    disposition = None
    if filename is not None:
        disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    if not is_local(storage):
        parameters = {"ResponseContentType": content_type, "ResponseCacheControl": cache_control}
        if disposition:
            parameters["ResponseContentDisposition"] = disposition
        response = HttpResponseRedirect(
            storage.url(name, parameters=parameters, expire=settings.MEDIA_PRESIGNED_SECONDS)
        )
        response["Cache-Control"] = "private, no-store"
        return response
    prefix = settings.MEDIA_X_ACCEL_PREFIX
    if prefix:
        if not storage.exists(name):
            from django.http import Http404

            raise Http404
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
    else:
        response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = cache_control
    if disposition:
        response["Content-Disposition"] = disposition
    return response


# --- buckets (the restore drill restores into a new one) -------------------------------------


def bucket_storage(bucket: str) -> PrivateS3Storage:
    """The configured object storage (same service and keys), another bucket."""
    options = dict(settings.STORAGES["default"].get("OPTIONS", {}), bucket_name=bucket)
    return PrivateS3Storage(**options)


def bucket_names(bucket: str, *, limit: int | None = None) -> list[str]:
    """Names of the objects in ``bucket`` (all, or the first ``limit``)."""
    target = bucket_storage(bucket)
    names: list[str] = []
    try:
        paginator = target.connection.meta.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                names.append(item["Key"])
                if limit is not None and len(names) >= limit:
                    return names
    except _storage_errors() as exc:
        raise StorageUnavailable(str(exc)) from exc
    return names


def bucket_create(bucket: str) -> None:
    target = bucket_storage(bucket)
    try:
        region = target.region_name
        extra = {}
        if region and region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
        target.connection.meta.client.create_bucket(Bucket=bucket, **extra)
    except _storage_errors() as exc:
        raise StorageUnavailable(str(exc)) from exc


def bucket_drop(bucket: str) -> None:
    """Delete every object of ``bucket`` and the bucket itself (the drill's clean-up)."""
    target = bucket_storage(bucket)
    client = target.connection.meta.client
    try:
        names = bucket_names(bucket)
        for start in range(0, len(names), 1000):
            client.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": name} for name in names[start : start + 1000]]},
            )
        client.delete_bucket(Bucket=bucket)
    except _storage_errors() as exc:
        raise StorageUnavailable(str(exc)) from exc
