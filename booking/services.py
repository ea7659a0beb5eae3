"""Booking actions: book, move, cancel, remind. Views, the advisor's board and tasks call
these; the lead's timeline and status follow every action."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from autoservice import events
from autoservice.models import Membership
from autoservice.outbox import outbox_put
from leads.models import TRANSITIONS, EventKind, Lead, Status
from leads.services import lead_change_status, lead_event_add

from .models import Booking, BookingSettings, BookingStatus
from .selectors import booking_for_lead, booking_settings_for, bookings_between, day_bounds

REMIND_BOOKING = "booking.reminder_email"
REMIND_AHEAD = dt.timedelta(hours=24)
BOOKING_YEAR = dt.timedelta(days=366)


class SlotTaken(ValidationError):
    """Someone else took the time between showing it and booking it."""

    def __init__(self):
        super().__init__(_("Это время уже заняли — выберите другое."), code="slot_taken")


def _local(moment: dt.datetime, shop) -> str:
    return date_format(moment.astimezone(shop.tzinfo), "j E, l, H:i")


def _check_range(start: dt.datetime, now: dt.datetime) -> None:
    """Nobody books a year ahead (and a date near the calendar's end cannot overflow)."""
    if start <= now:
        raise ValidationError(_("Это время уже прошло — выберите другое."), code="past")
    if start - now > BOOKING_YEAR:
        raise ValidationError(_("Так далеко вперёд запись ещё не открыта."), code="horizon")


def _check_time(
    booking_shop,
    capacity: BookingSettings,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    *,
    by: Membership | None,
) -> None:
    shop = booking_shop
    if start <= now:
        raise ValidationError(_("Это время уже прошло — выберите другое."), code="past")
    if by is None:
        if start < now + dt.timedelta(minutes=capacity.notice_minutes):
            raise ValidationError(
                _("На это время уже не записаться онлайн — выберите время позже."), code="notice"
            )
        if start > now + dt.timedelta(days=capacity.horizon_days + 1):
            raise ValidationError(_("Так далеко вперёд запись ещё не открыта."), code="horizon")
    bounds = day_bounds(shop, start.astimezone(shop.tzinfo).date(), capacity)
    if bounds is None:
        raise ValidationError(_("В этот день сервис не работает — выберите другой."), code="closed")
    if start < bounds[0] or end > bounds[1]:
        raise ValidationError(
            _("Визит должен поместиться в часы работы сервиса — выберите другое время."),
            code="hours",
        )
    if by is None and (start - bounds[0]) % (end - start):
        raise ValidationError(_("Выберите время из предложенных."), code="grid")


def _serialise_writers(capacity: BookingSettings) -> None:
    """SQLite (the embedded default) has no exclusion constraint: a write first takes its
    single writer lock, so the check below and the insert happen one booking at a time.
    PostgreSQL needs no lock: the constraint refuses the second of two overlapping rows."""
    if connection.vendor != "postgresql" and capacity.pk:
        BookingSettings.objects.filter(pk=capacity.pk).update(posts=capacity.posts)


def _place(booking: Booking, posts: list[int]) -> Booking:
    """Save the booking on the first post whose time is free; each try in its own
    savepoint, so a post taken a moment ago by a concurrent booking is just skipped."""
    for post in posts:
        booking.post = post
        try:
            with transaction.atomic():
                booking.save()
        except IntegrityError:
            continue
        return booking
    raise SlotTaken()


def _candidate_posts(capacity, booking: Booking, post: int | None) -> list[int]:
    others = bookings_between(booking.shop, booking.starts_at, booking.ends_at).exclude(
        pk=booking.pk
    )
    busy = set(others.values_list("post", flat=True))
    wanted = [post] if post else range(1, capacity.posts + 1)
    return [p for p in wanted if p not in busy]


def _emit(event_type: str, booking: Booking, actor: Membership | None, **extra) -> None:
    """Tell the apps above (SMS to the driver, the staff's messengers, webhooks, CRM), in
    this transaction. Thin: ids and times, no personal data, no private link."""
    events.event_emit(
        shop=booking.shop,
        type=event_type,
        subject=f"lead:{booking.lead_id}",
        lead_id=booking.lead_id,
        data={
            "booking_id": booking.pk,
            "lead_id": booking.lead_id,
            "kind": booking.kind,
            "post": booking.post,
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "by": "staff" if actor else "driver",
            "by_membership_id": actor.pk if actor else None,
            **extra,
        },
    )


def _lead_booked(lead: Lead, by: Membership | None, now: dt.datetime) -> None:
    """Moves the lead to «записан» through the lead workflow (a new or refused request is
    taken into work on the way, as an advisor would)."""
    if lead.status == Status.BOOKED:
        return
    if Status.BOOKED not in TRANSITIONS[lead.status]:
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=by, now=now)
    lead_change_status(lead=lead, status=Status.BOOKED, by=by, now=now)


def _bookable_lead(lead: Lead) -> None:
    if lead.is_consent_withdrawn:
        raise ValidationError(
            _("Клиент отозвал согласие на обработку данных: записать его нельзя."), code="consent"
        )
    if lead.status == Status.WON:
        raise ValidationError(
            _("Работа по этой заявке завершена: для новой записи оставьте новую заявку."),
            code="won",
        )


@transaction.atomic
def booking_create(
    *,
    lead: Lead,
    start: dt.datetime,
    kind: str,
    by: Membership | None = None,
    post: int | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Book a visit for the lead. `by` is None when the driver books from their link, else
    the advisor booking on the phone's behalf (who may also pick the post).
    Raises SlotTaken when no post is free at that time, ValidationError for a bad time."""
    now = now or timezone.now()
    # Two taps of one driver (two times, two tabs) book one after the other, not both.
    lead = Lead.objects.select_for_update().select_related("shop").get(pk=lead.pk)
    shop = lead.shop
    _bookable_lead(lead)
    if booking_for_lead(lead) is not None:
        raise ValidationError(
            _("По этой заявке уже есть запись: перенесите её или отмените."), code="exists"
        )
    capacity = booking_settings_for(shop)
    _check_range(start, now)
    end = start + dt.timedelta(minutes=capacity.minutes_for(kind))
    _check_time(shop, capacity, start, end, now, by=by)
    _serialise_writers(capacity)
    booking = Booking(shop=shop, lead=lead, kind=kind, starts_at=start, ends_at=end, created_by=by)
    _place(booking, _candidate_posts(capacity, booking, post))
    who = _("мастер") if by else _("клиент по ссылке")
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTE,
        actor=by,
        text=_("Запись на визит: %(when)s, пост %(post)s (%(who)s)")
        % {"when": _local(start, shop), "post": booking.post, "who": who},
        booking=booking.pk,
        action="booked",
    )
    _lead_booked(lead, by, now)
    _emit(events.BOOKING_CREATED, booking, by)
    return booking


@transaction.atomic
def booking_move(
    *,
    booking: Booking,
    start: dt.datetime,
    by: Membership | None = None,
    post: int | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().select_related("shop", "lead").get(pk=booking.pk)
    if not booking.is_active:
        raise ValidationError(_("Эта запись отменена: запишитесь заново."), code="cancelled")
    shop = booking.shop
    capacity = booking_settings_for(shop)
    old_start, old_post = booking.starts_at, booking.post
    _check_range(start, now)
    end = start + (booking.ends_at - booking.starts_at)
    _check_time(shop, capacity, start, end, now, by=by)
    _serialise_writers(capacity)
    booking.starts_at, booking.ends_at = start, end
    _place(booking, _candidate_posts(capacity, booking, post))
    lead_event_add(
        lead=booking.lead,
        kind=EventKind.NOTE,
        actor=by,
        text=_("Визит перенесён: %(old)s → %(new)s, пост %(post)s")
        % {"old": _local(old_start, shop), "new": _local(start, shop), "post": booking.post},
        booking=booking.pk,
        action="moved",
        old_post=old_post,
    )
    _emit(events.BOOKING_MOVED, booking, by, old_starts_at=old_start.isoformat(), old_post=old_post)
    return booking


@transaction.atomic
def booking_cancel(
    *, booking: Booking, by: Membership | None = None, now: dt.datetime | None = None
) -> Booking:
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().select_related("shop", "lead").get(pk=booking.pk)
    if not booking.is_active:
        return booking
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.save(update_fields=["status", "cancelled_at"])
    lead = booking.lead
    who = _("мастер") if by else _("клиент по ссылке")
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTE,
        actor=by,
        text=_("Запись на %(when)s отменена (%(who)s)")
        % {"when": _local(booking.starts_at, booking.shop), "who": who},
        booking=booking.pk,
        action="cancelled",
    )
    if lead.status == Status.BOOKED and not lead.is_consent_withdrawn:
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=by, now=now)
    _emit(events.BOOKING_CANCELLED, booking, by)
    return booking


def bookings_remind(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Remind of visits starting within a day, once per start time (a moved visit is
    reminded again): the e-mail when the driver left one, and `booking.reminder_due` for
    the other channels (the SMS app sends one when the shop has SMS switched on). Called by
    Celery beat."""
    now = now or timezone.now()
    due = (
        Booking.objects.filter(
            status=BookingStatus.BOOKED, starts_at__gt=now, starts_at__lte=now + REMIND_AHEAD
        )
        .exclude(reminded_for=models.F("starts_at"))
        .exclude(lead__consent_withdrawn_at__isnull=False)
        .select_related("shop", "lead")
        .order_by("starts_at")[:limit]
    )
    count = 0
    for booking in due:
        with transaction.atomic():
            claimed = Booking.objects.filter(pk=booking.pk, status=BookingStatus.BOOKED).exclude(
                reminded_for=booking.starts_at
            )
            # Two beats at once: only the one that marks the row reminds.
            if not claimed.update(reminded_for=booking.starts_at):
                continue
            if booking.lead.email:
                outbox_put(
                    shop=booking.shop,
                    kind=REMIND_BOOKING,
                    dedupe_key=f"booking-remind-{booking.pk}-{booking.starts_at:%Y%m%d%H%M}",
                    payload={"booking_id": booking.pk},
                    subject_phone=booking.lead.phone,
                )
            _emit(events.BOOKING_REMINDER_DUE, booking, None, by="system")
        count += 1
    return count
