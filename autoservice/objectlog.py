"""A write-once log in an S3 bucket, every entry an object of its own.

The S3 way of an append-only file, for installations with more than one web node (each node's
own file would hold only its own entries). An entry is created once, with a conditional PUT
(``If-None-Match: *``: the service refuses to replace a key that exists), and, given a
retention, locked in COMPLIANCE mode (S3 Object Lock: no key of the service, not even the
bucket owner's, deletes or overwrites that version before the date). Entries are read back
with their versions (ListObjectVersions), so a delete marker put over an entry does not hide
it, and each key counts with its first version: what was published first stays published.

An address is ``s3://<bucket>/<prefix>``; entries are named by the caller, with a sortable UTC
time stamp as their last part (``<prefix>/<shop id>/<stamp>-<record id>``), and listed in the
order of that last part, the order they were published in.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autoservice import storage

SCHEME = "s3://"
READ_THREADS = 8


class EntryExists(storage.StorageUnavailable):
    """The log already has an entry under that key: a write-once log never replaces one."""


@dataclass(frozen=True)
class Address:
    bucket: str
    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Entry:
    key: str
    data: bytes


def parse(value: str | Path) -> Address | None:
    """The address in ``s3://bucket/prefix``; None for anything else (a local path)."""
    text = str(value)
    if not text.startswith(SCHEME):
        return None
    bucket, _slash, prefix = text[len(SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{text!r}: no bucket after {SCHEME}")
    return Address(bucket, prefix.strip("/"))


def _client(address: Address, options: dict):
    # The storage's S3 client: the same timeouts, retries, path-style addressing and shared
    # session as the stored files, whichever service and keys the options name.
    return storage.PrivateS3Storage(bucket_name=address.bucket, **options).connection.meta.client


def _error(exc: BaseException) -> tuple[str, int | None]:
    response = getattr(exc, "response", None) or {}
    return (
        str(response.get("Error", {}).get("Code", "")),
        response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
    )


def entry_create(
    address: Address, name: str, data: bytes, *, options: dict, retain_days: int = 0
) -> str:
    """Create the entry ``name`` (under the address's prefix) holding ``data``; its key.
    Raises EntryExists when the key is taken, StorageUnavailable when the bucket cannot be
    reached or refuses (a bucket without Object Lock refuses a retention)."""
    key = address.key(name)
    params = {
        "Bucket": address.bucket,
        "Key": key,
        "Body": data,
        "IfNoneMatch": "*",
        # Object Lock needs the body's MD5 (every S3-compatible service takes Content-MD5).
        "ContentMD5": base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
        "ContentType": "text/plain; charset=utf-8",
    }
    if retain_days > 0:
        until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=retain_days)
        params.update(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    try:
        _client(address, options).put_object(**params)
    except storage.failures() as exc:
        code, status = _error(exc)
        if status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise EntryExists(f"{address.bucket}/{key}") from exc
        raise storage.StorageUnavailable(f"{address.bucket}/{key}: {exc}") from exc
    return key


def entries(address: Address, *, options: dict) -> list[Entry] | None:
    """Every entry, in the order published (by the last part of its key); None when there is
    no such bucket. Raises StorageUnavailable when it cannot be read."""
    client = _client(address, options)
    first: dict[str, str | None] = {}
    written: dict[str, dt.datetime] = {}
    try:
        pages = client.get_paginator("list_object_versions").paginate(
            Bucket=address.bucket, Prefix=address.key("")
        )
        for page in pages:
            # Each key counts with its oldest version; versions of a key come newest first,
            # so of two written in the same second the one listed later is the older.
            for version in page.get("Versions", []):
                key, at = version["Key"], version["LastModified"]
                if key in written and at > written[key]:
                    continue
                version_id = version.get("VersionId")
                first[key] = None if version_id in (None, "null") else version_id
                written[key] = at
    except storage.failures() as exc:
        if _error(exc)[0] == "NoSuchBucket":
            return None
        raise storage.StorageUnavailable(f"{address}: {exc}") from exc

    def read(key: str) -> Entry:
        extra = {"VersionId": first[key]} if first[key] else {}
        try:
            answer = client.get_object(Bucket=address.bucket, Key=key, **extra)
            return Entry(key, answer["Body"].read())
        except storage.failures() as exc:
            raise storage.StorageUnavailable(f"{address.bucket}/{key}: {exc}") from exc

    keys = sorted(first, key=lambda key: (key.rsplit("/", 1)[-1], key))
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        return list(pool.map(read, keys))


def text(address: Address, *, options: dict) -> bytes | None:
    """The entries one after another, as one append-only file would hold them."""
    found = entries(address, options=options)
    return None if found is None else b"".join(entry.data for entry in found)
