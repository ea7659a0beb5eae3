from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from autoservice.models import Shop
from autoservice.tenancy import get_for_shop, manager_required, staff_required
from leads.models import Lead

from . import selectors, services
from .forms import CapacityForm, StaffBookingForm, VisitTimeForm
from .ics import booking_ics
from .models import Booking, BookingSettings, JobKind


def _public_shop(slug: str) -> Shop:
    return get_object_or_404(Shop, slug=slug, is_active=True)


def _day(value: str | None) -> dt.date | None:
    """A day from the address, or None when it is not one (or beyond any booking)."""
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day and 2000 <= day.year <= 2999 else None


def _start(value: str, shop: Shop) -> dt.datetime | None:
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return start if start.tzinfo else start.replace(tzinfo=shop.tzinfo)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _picker(request, *, shop, lead, kind, moving=None, error="", status=200):
    """The driver's slot picker: days with free time, then the free times of the day."""
    days = selectors.bookable_days(shop, kind=kind, moving=moving)
    day = _day(request.POST.get("day") or request.GET.get("day"))
    if day is None or day not in {d for d, _count in days}:
        day = days[0][0] if days else None
    slots = selectors.free_slots(shop, kind=kind, day=day, moving=moving) if day else []
    with timezone.override(shop.tzinfo):
        return render(
            request,
            "booking/pick.html",
            {
                "shop": shop,
                "lead": lead,
                "kind": kind,
                "kinds": JobKind.choices if moving is None else [],
                "days": days,
                "day": day,
                "slots": slots,
                "moving": moving,
                "error": error,
                "chosen": request.POST.get("start", ""),
            },
            status=status,
        )


def book(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The driver books a visit from their request's private link."""
    shop = _public_shop(slug)
    lead = get_object_or_404(Lead, shop=shop, public_token=token)
    existing = selectors.booking_for_lead(lead)
    if existing is not None:
        return redirect("booking:visit", slug=shop.slug, token=existing.token)
    kind = request.POST.get("kind") or request.GET.get("kind") or JobKind.INSPECTION
    if kind not in JobKind.values:
        kind = JobKind.INSPECTION
    if request.method == "POST":
        start = _start(request.POST.get("start", ""), shop)
        if start is None:
            return _picker(
                request,
                shop=shop,
                lead=lead,
                kind=kind,
                error=_("Выберите время визита."),
                status=400,
            )
        try:
            booking = services.booking_create(lead=lead, start=start, kind=kind)
        except ValidationError as exc:
            status = 409 if isinstance(exc, services.SlotTaken) else 400
            return _picker(
                request, shop=shop, lead=lead, kind=kind, error=_error_text(exc), status=status
            )
        return redirect("booking:visit", slug=shop.slug, token=booking.token)
    return _picker(request, shop=shop, lead=lead, kind=kind)


def _booking(slug: str, token: str) -> Booking:
    shop = _public_shop(slug)
    return get_object_or_404(selectors.booking_by_token(shop, token))


def visit(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    booking = _booking(slug, token)
    with timezone.override(booking.shop.tzinfo):
        return render(
            request,
            "booking/visit.html",
            {
                "shop": booking.shop,
                "booking": booking,
                "lead": booking.lead,
                "progress": selectors.lead_progress(booking.lead),
            },
        )


def visit_ics(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    booking = _booking(slug, token)
    url = request.build_absolute_uri(reverse("booking:visit", args=[slug, token]))
    response = HttpResponse(
        booking_ics(booking, url=url), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="visit.ics"'
    return response


def visit_move(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    booking = _booking(slug, token)
    shop = booking.shop
    if not booking.is_active:
        return redirect("booking:visit", slug=slug, token=token)
    if request.method == "POST":
        start = _start(request.POST.get("start", ""), shop)
        error = _("Выберите время визита.")
        if start is not None:
            try:
                services.booking_move(booking=booking, start=start)
            except ValidationError as exc:
                error = _error_text(exc)
            else:
                messages.success(request, _("Визит перенесён."))
                return redirect("booking:visit", slug=slug, token=token)
        return _picker(
            request,
            shop=shop,
            lead=booking.lead,
            kind=booking.kind,
            moving=booking,
            error=error,
            status=409,
        )
    return _picker(request, shop=shop, lead=booking.lead, kind=booking.kind, moving=booking)


@require_POST
def visit_cancel(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    booking = _booking(slug, token)
    services.booking_cancel(booking=booking)
    messages.success(request, _("Запись отменена."))
    return redirect("booking:visit", slug=slug, token=token)


# --- staff --------------------------------------------------------------------------------


def _day_rows(shop, day: dt.date, capacity, bookings: list, posts: list[int]) -> list[dict]:
    """The day view's grid: one row per slot (the inspection's length) from opening to
    closing, each cell a place to drop a visit on; a visit sits in the row it starts in."""
    bounds = selectors.day_bounds(shop, day, capacity)
    if bounds is None:
        return []
    step = dt.timedelta(minutes=capacity.inspection_minutes)
    rows, moment = [], bounds[0]
    while moment < bounds[1]:
        within = [b for b in bookings if moment <= b.starts_at < moment + step]
        # Visits that started in an earlier row and still hold the post now.
        going_on = [b for b in bookings if b.starts_at < moment < b.ends_at]
        rows.append(
            {
                "time": timezone.localtime(moment).time(),
                "cells": [
                    (
                        p,
                        [b for b in within if b.post == p],
                        [b for b in going_on if b.post == p],
                    )
                    for p in posts
                ],
            }
        )
        moment += step
    return rows


@staff_required
def board(request: HttpRequest) -> HttpResponse:
    """The advisor's day or week: posts as columns, visits in them. A visit is moved by
    dragging it to another time, day or post (board.js posts to `board_move`), or by the
    form on its own page, which the card links to."""
    shop = request.shop
    capacity = selectors.booking_settings_for(shop)
    today = timezone.localdate()
    day = _day(request.GET.get("day")) or today
    week = request.GET.get("view") == "week"
    if week:
        first = day - dt.timedelta(days=day.weekday())
        dates = [first + dt.timedelta(days=i) for i in range(7)]
    else:
        dates = [day]
    start = dt.datetime.combine(dates[0], dt.time.min, tzinfo=shop.tzinfo)
    end = dt.datetime.combine(dates[-1] + dt.timedelta(days=1), dt.time.min, tzinfo=shop.tzinfo)
    bookings = list(selectors.bookings_between(shop, start, end))
    posts = list(range(1, capacity.posts + 1))
    columns = []
    for date in dates:
        local = [b for b in bookings if timezone.localtime(b.starts_at).date() == date]
        columns.append(
            {
                "date": date,
                "closed": selectors.day_bounds(shop, date, capacity) is None,
                "posts": [(p, [b for b in local if b.post == p]) for p in posts],
            }
        )
    step = dt.timedelta(days=7 if week else 1)
    return render(
        request,
        "booking/board.html",
        {
            "columns": columns,
            "rows": [] if week else _day_rows(shop, day, capacity, bookings, posts),
            "posts": posts,
            "day": day,
            "week": week,
            "prev": day - step,
            "next": day + step,
            "today": today,
        },
    )


def _move_answer(request, booking: Booking, *, ok: bool, text: str, status: int = 200):
    """board.js asks for JSON; a plain form post (no script) lands on a page instead: the
    board on success, the visit's own move form on a refusal."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": ok, "error": "" if ok else text}, status=status)
    if ok:
        messages.success(request, text)
        local = timezone.localtime(booking.starts_at)
        return redirect(f"{reverse('booking:board')}?day={local.date().isoformat()}")
    messages.error(request, text)
    return redirect("booking:staff_booking", booking_id=booking.pk)


@staff_required
@require_POST
def board_move(request: HttpRequest, booking_id: int) -> HttpResponse:
    """A visit dropped on the board: the same form and the same service as the visit's
    page. Refused (a taken time, a closed day) → 409 with the reason, nothing changed."""
    shop = request.shop
    booking = get_for_shop(request, Booking.objects.select_related("lead"), pk=booking_id)
    capacity = selectors.booking_settings_for(shop)
    form = VisitTimeForm(request.POST, posts=capacity.posts)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return _move_answer(request, booking, ok=False, text=" ".join(errors), status=400)
    try:
        booking = services.booking_move(
            booking=booking,
            start=form.start(shop.tzinfo),
            post=form.cleaned_data["post"],
            by=request.membership,
        )
    except ValidationError as exc:
        return _move_answer(request, booking, ok=False, text=_error_text(exc), status=409)
    text = _("Визит перенесён: %(when)s, пост %(post)s") % {
        "when": date_format(timezone.localtime(booking.starts_at), "j E, H:i"),
        "post": booking.post,
    }
    if "application/json" in request.headers.get("Accept", ""):
        messages.success(request, text)  # shown by the page board.js reloads
    return _move_answer(request, booking, ok=True, text=text)


@staff_required
def staff_book(request: HttpRequest) -> HttpResponse:
    """The advisor books a visit for a driver on the phone."""
    shop = request.shop
    capacity = selectors.booking_settings_for(shop)
    initial = {"day": timezone.localdate() + dt.timedelta(days=1), "time": dt.time(10, 0)}
    lead_id = request.GET.get("lead", "")
    if lead_id.isascii() and lead_id.isdigit():
        initial["lead"] = get_for_shop(request, Lead, pk=int(lead_id)).pk
    form = StaffBookingForm(request.POST or None, shop=shop, posts=capacity.posts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.booking_create(
                lead=form.cleaned_data["lead"],
                start=form.start(shop.tzinfo),
                kind=form.cleaned_data["kind"],
                post=form.cleaned_data["post"],
                by=request.membership,
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("Клиент записан."))
            return redirect("booking:staff_booking", booking_id=booking.pk)
    return render(
        request, "booking/staff_book.html", {"form": form}, status=400 if form.errors else 200
    )


@staff_required
def staff_booking(request: HttpRequest, booking_id: int) -> HttpResponse:
    """One visit: move it by form (another day, time or post) or cancel it."""
    shop = request.shop
    booking = get_for_shop(request, Booking.objects.select_related("lead"), pk=booking_id)
    capacity = selectors.booking_settings_for(shop)
    local = timezone.localtime(booking.starts_at)
    form = VisitTimeForm(
        request.POST or None,
        posts=capacity.posts,
        initial={"day": local.date(), "time": local.time(), "post": booking.post},
    )
    if request.method == "POST" and request.POST.get("action") == "cancel":
        services.booking_cancel(booking=booking, by=request.membership)
        messages.success(request, _("Запись отменена."))
        return redirect(f"{reverse('booking:board')}?day={local.date().isoformat()}")
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_move(
                booking=booking,
                start=form.start(shop.tzinfo),
                post=form.cleaned_data["post"],
                by=request.membership,
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("Визит перенесён."))
            return redirect("booking:staff_booking", booking_id=booking.pk)
    return render(
        request,
        "booking/staff_booking.html",
        {"booking": booking, "form": form},
        status=400 if form.errors else 200,
    )


@manager_required
def capacity_settings(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    instance = BookingSettings.objects.filter(shop=shop).first() or BookingSettings(shop=shop)
    form = CapacityForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Настройки записи сохранены."))
        return redirect("booking:capacity")
    return render(
        request,
        "booking/capacity.html",
        {"form": form, "hours": shop.hours_display()},
        status=400 if form.errors else 200,
    )
