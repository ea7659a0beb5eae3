"""The published heads of the shops' chains of seals, kept outside the database.

Every seal appends one line to a write-once log (settings.INTAKE_SEAL_LOG): the file is only
ever opened for appending and never rewritten, so someone who can change the database
cannot take back what was published (deleting the newest record and rewinding the seal head
shows as a published seal the database no longer has). Each line, tab-separated:

    time (UTC, ISO 8601)   shop id   record id   seal   key id

Point it at storage the database's users cannot write (another host, a WORM or
append-only mount, `chattr +a`); the daily digest e-mail gives the managers a second copy.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True)
class Published:
    line: int
    at: str
    shop_id: int
    record_id: int
    seal: str
    key_id: str


def log_path() -> Path:
    return Path(settings.INTAKE_SEAL_LOG)


def seal_publish(*, shop_id: int, record_id: int, seal: str, key_id: str) -> None:
    """Append one line and flush it to disk. A failure here fails the sealing (the caller's
    transaction rolls back): a seal nobody published must not exist."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds")
    line = f"{stamp}\t{shop_id}\t{record_id}\t{seal}\t{key_id}\n".encode()
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


def seals_published() -> PublishedLog:
    path = log_path()
    by_shop: dict[int, list[Published]] = defaultdict(list)
    unreadable: list[int] = []
    if not path.exists():
        return PublishedLog({}, [], exists=False)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            parts = raw.rstrip("\n").split("\t")
            if len(parts) != 5 or not parts[1].isdigit() or not parts[2].isdigit():
                unreadable.append(number)
                continue
            at, shop_id, record_id, seal, key_id = parts
            by_shop[int(shop_id)].append(
                Published(number, at, int(shop_id), int(record_id), seal, key_id)
            )
    return PublishedLog(dict(by_shop), unreadable, exists=True)
