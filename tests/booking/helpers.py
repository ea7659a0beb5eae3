"""A working day ahead of the tests' clock, and the times in it, in the shop's zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def next_monday(weeks: int = 0) -> dt.date:
    """A Monday at least two days away (the demo hours: Mon–Sat 09:00–20:00, Sunday off)."""
    today = timezone.now().astimezone(MOSCOW).date()
    day = today + dt.timedelta(days=2)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    return day + dt.timedelta(weeks=weeks)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=MOSCOW)
