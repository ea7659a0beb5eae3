"""Reads of bookings: free slots, the advisor's board, a lead's visit and its progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import WEEKDAYS, Shop
from leads.models import Lead, Status

from .models import Booking, BookingSettings, BookingStatus

LONGEST_VISIT = dt.timedelta(days=1)


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    free_posts: tuple[int, ...]


def booking_settings_for(shop: Shop) -> BookingSettings:
    """The shop's capacity, or the defaults (two posts, 30/60 minutes) until the manager
    saves their own."""
    found = BookingSettings.objects.filter(shop=shop).first()
    return found or BookingSettings(shop=shop)


def active_bookings(shop: Shop) -> QuerySet[Booking]:
    return Booking.objects.filter(shop=shop, status=BookingStatus.BOOKED)


def bookings_between(shop: Shop, start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    return _overlapping(shop, start, end).select_related("lead").order_by("starts_at", "post")


def day_bounds(
    shop: Shop, day: dt.date, capacity: BookingSettings | None = None
) -> tuple[dt.datetime, dt.datetime] | None:
    """The shop's opening and closing moments on `day`, or None when it is closed."""
    capacity = capacity or booking_settings_for(shop)
    if day in capacity.holiday_dates:
        return None
    span = shop.hours_for(WEEKDAYS[day.weekday()])
    if not span:
        return None
    return (
        dt.datetime.combine(day, span[0], tzinfo=shop.tzinfo),
        dt.datetime.combine(day, span[1], tzinfo=shop.tzinfo),
    )


def _overlapping(shop: Shop, start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """Active visits overlapping [start, end). No visit is longer than a day (a job is at
    most 8 hours), so the start's lower bound lets the (shop, starts_at) index skip the
    shop's whole history instead of filtering it."""
    return active_bookings(shop).filter(
        starts_at__lt=end, starts_at__gt=start - LONGEST_VISIT, ends_at__gt=start
    )


def _times(shop: Shop, start: dt.datetime, end: dt.datetime) -> list:
    """Active visits overlapping [start, end): only their post and times, in one query."""
    return list(
        _overlapping(shop, start, end).values_list("pk", "post", "starts_at", "ends_at", named=True)
    )


def free_slots(
    shop: Shop,
    *,
    kind: str,
    day: dt.date,
    now: dt.datetime | None = None,
    moving: Booking | None = None,
    capacity: BookingSettings | None = None,
    taken: list | None = None,
) -> list[Slot]:
    """Starts on the day at the job's length apart, from opening until the job would end
    after closing; a slot is free when at least one post has nothing overlapping it.
    `moving` is a booking being moved: its own time does not count as taken."""
    capacity = capacity or booking_settings_for(shop)
    now = now or timezone.now()
    bounds = day_bounds(shop, day, capacity)
    if bounds is None:
        return []
    opens, closes = bounds
    length = dt.timedelta(minutes=capacity.minutes_for(kind))
    earliest = now + dt.timedelta(minutes=capacity.notice_minutes)
    bookings = _times(shop, opens, closes) if taken is None else taken
    count = (closes - opens) // length
    # The posts taken in each slot: a visit marks the slots it overlaps, so the day costs
    # one pass over its visits, not one per slot.
    busy: list[set[int]] = [set() for _ in range(count)]
    skip = moving.pk if moving else None
    for b in bookings:
        if b.pk == skip or b.ends_at <= opens or b.starts_at >= closes:
            continue
        first = max(0, (b.starts_at - opens) // length)
        last = min(count, -(-(b.ends_at - opens) // length))  # ceiling
        for index in range(first, last):
            busy[index].add(b.post)
    posts = range(1, capacity.posts + 1)
    slots = []
    for index in range(count):
        start = opens + index * length
        if start < earliest or len(busy[index]) >= capacity.posts:
            continue
        free = tuple(p for p in posts if p not in busy[index])
        if free:
            slots.append(Slot(start, start + length, free))
    return slots


def bookable_days(
    shop: Shop, *, kind: str, now: dt.datetime | None = None, moving: Booking | None = None
) -> list[tuple[dt.date, int]]:
    """The next days within the shop's horizon with the number of free slots on each
    (closed days and holidays left out)."""
    capacity = booking_settings_for(shop)
    now = now or timezone.now()
    today = now.astimezone(shop.tzinfo).date()
    last = today + dt.timedelta(days=capacity.horizon_days + 1)
    taken_by_day: dict[dt.date, list] = {}
    window = (
        dt.datetime.combine(today, dt.time.min, tzinfo=shop.tzinfo),
        dt.datetime.combine(last, dt.time.min, tzinfo=shop.tzinfo),
    )
    for row in _times(shop, *window):  # one query for the whole horizon
        day = row.starts_at.astimezone(shop.tzinfo).date()
        while day <= row.ends_at.astimezone(shop.tzinfo).date():
            taken_by_day.setdefault(day, []).append(row)
            day += dt.timedelta(days=1)
    days = []
    for offset in range(capacity.horizon_days + 1):
        day = today + dt.timedelta(days=offset)
        taken = taken_by_day.get(day, [])
        slots = free_slots(
            shop, kind=kind, day=day, now=now, moving=moving, capacity=capacity, taken=taken
        )
        count = len(slots)
        if count:
            days.append((day, count))
    return days


def booking_for_lead(lead: Lead) -> Booking | None:
    """The lead's upcoming (active) visit."""
    return (
        Booking.objects.filter(lead=lead, status=BookingStatus.BOOKED)
        .order_by("-starts_at")
        .first()
    )


def booking_by_token(shop: Shop, token: str) -> QuerySet[Booking]:
    return Booking.objects.filter(shop=shop, token=token).select_related("lead", "shop")


# --- where the driver's request is --------------------------------------------------------

STEPS = [
    ("received", _("Заявка получена")),
    ("estimate", _("Оценка")),
    ("offer", _("Предложение")),
    ("booked", _("Запись")),
    ("car_in", _("Машина в сервисе")),
    ("ready", _("Готово")),
]
# The furthest step each lead status reaches.
_STATUS_STEP = {
    Status.NEW: "received",
    Status.IN_PROGRESS: "estimate",
    Status.OFFER_SENT: "offer",
    Status.OFFER_ACCEPTED: "offer",
    Status.BOOKED: "booked",
    Status.WON: "ready",
    Status.LOST: "received",
}
# Apps above this one tell whether the car was taken in (intake registers its check) and
# whether the driver already has an estimate (smartcalc: the calculator's own result).
CAR_IN_CHECKS: list = []
ESTIMATE_CHECKS: list = []


def car_in_check_register(check) -> None:
    """`check(lead) -> bool`: the car of the lead was taken in (an intake record exists)."""
    if check not in CAR_IN_CHECKS:
        CAR_IN_CHECKS.append(check)


def estimate_check_register(check) -> None:
    """`check(lead) -> bool`: the lead has an estimate (the driver made one in the
    calculator, or the advisor priced the damage)."""
    if check not in ESTIMATE_CHECKS:
        ESTIMATE_CHECKS.append(check)


def lead_progress(lead: Lead) -> list[dict]:
    """The driver's step indicator: each step done, current or still ahead."""
    keys = [key for key, _label in STEPS]
    reached = keys.index(_STATUS_STEP[lead.status])
    if lead.status == Status.NEW and any(check(lead) for check in ESTIMATE_CHECKS):
        reached = keys.index("estimate")  # a new request that already carries its estimate
    if reached < keys.index("car_in") and any(check(lead) for check in CAR_IN_CHECKS):
        reached = keys.index("car_in")
    if lead.status == Status.WON:
        reached = keys.index("ready")
    return [
        {
            "key": key,
            "label": label,
            "state": "done" if i < reached else "current" if i == reached else "ahead",
        }
        for i, (key, label) in enumerate(STEPS)
    ]
