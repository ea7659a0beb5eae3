"""The published heads of the shops' chains of seals, kept outside the database.

Every seal appends one line to a write-once log (settings.INTAKE_SEAL_LOG): the file is only
ever opened for appending and never rewritten, so someone who can change the database
cannot take back what was published (deleting the newest record and rewinding the seal head
shows as a published seal the database no longer has). Each line, tab-separated:

    time (UTC, ISO 8601)   shop id   record id   seal   key id

Point it at storage the database's users cannot write (another host, a WORM or
append-only mount, `chattr +a`); the daily digest e-mail gives the managers a second copy.

With more than one web node, INTAKE_SEAL_LOG is an `s3://bucket/prefix` address instead
(autoservice.objectlog): every seal is an object of its own,
`<prefix>/<shop id>/<UTC stamp>-<record id>`, holding the same line, created with a
conditional PUT that never replaces one and, with INTAKE_SEAL_LOG_RETENTION_DAYS, locked in
COMPLIANCE mode. Read back, the objects in the order published are the lines of the log
(`Published.line` is the ordinal), so both kinds verify the same way.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from autoservice import objectlog


@dataclass(frozen=True)
class Published:
    line: int
    at: str
    shop_id: int
    record_id: int
    seal: str
    key_id: str


def log_address() -> objectlog.Address | None:
    """The log's bucket and prefix when it is in object storage; None for a local file."""
    return objectlog.parse(settings.INTAKE_SEAL_LOG)


def log_path() -> Path:
    return Path(settings.INTAKE_SEAL_LOG)


def log_location() -> str:
    """Where the log is, for people: the file's path or the s3:// address."""
    return str(log_address() or log_path())


def _line(*, shop_id: int, record_id: int, seal: str, key_id: str, now: dt.datetime) -> bytes:
    stamp = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    return f"{stamp}\t{shop_id}\t{record_id}\t{seal}\t{key_id}\n".encode()


def seal_publish(*, shop_id: int, record_id: int, seal: str, key_id: str) -> None:
    """Append one line and flush it to disk (or create its object in the bucket). A failure
    here fails the sealing (the caller's transaction rolls back): a seal nobody published
    must not exist."""
    now = timezone.now()
    line = _line(shop_id=shop_id, record_id=record_id, seal=seal, key_id=key_id, now=now)
    address = log_address()
    if address is not None:
        stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        objectlog.entry_create(
            address,
            f"{shop_id}/{stamp}-{record_id}",
            line,
            options=settings.INTAKE_SEAL_LOG_S3,
            retain_days=settings.INTAKE_SEAL_LOG_RETENTION_DAYS,
        )
        return
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: one write() of a short line lands whole at the end, whoever else appends.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class PublishedLog:
    by_shop: dict[int, list[Published]]
    unreadable: list[int]  # line numbers that are not a published seal
    exists: bool


def _published(number: int, raw: str) -> Published | None:
    parts = raw.rstrip("\n").split("\t")
    if len(parts) != 5 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    at, shop_id, record_id, seal, key_id = parts
    return Published(number, at, int(shop_id), int(record_id), seal, key_id)


def seals_published() -> PublishedLog:
    by_shop: dict[int, list[Published]] = defaultdict(list)
    unreadable: list[int] = []
    address = log_address()
    if address is not None:
        found = objectlog.entries(address, options=settings.INTAKE_SEAL_LOG_S3)
        if found is None:
            return PublishedLog({}, [], exists=False)
        for number, entry in enumerate(found, start=1):
            one = _published(number, entry.data.decode("utf-8", errors="replace"))
            # The key names the shop and the record too: an object whose line says
            # otherwise was not published by the sealing.
            folder, _slash, name = entry.key.rpartition("/")
            if one is None or (
                folder.rpartition("/")[2] != str(one.shop_id)
                or not name.endswith(f"-{one.record_id}")
            ):
                unreadable.append(number)
                continue
            by_shop[one.shop_id].append(one)
        return PublishedLog(dict(by_shop), unreadable, exists=True)
    path = log_path()
    if not path.exists():
        return PublishedLog({}, [], exists=False)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            one = _published(number, raw)
            if one is None:
                unreadable.append(number)
                continue
            by_shop[one.shop_id].append(one)
    return PublishedLog(dict(by_shop), unreadable, exists=True)
