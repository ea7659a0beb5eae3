"""Free slots follow the shop's hours, holidays, posts and notice; booking, moving and
cancelling keep the lead's status and timeline in step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from booking.models import Booking, BookingSettings, BookingStatus
from booking.selectors import bookable_days, free_slots, lead_progress
from booking.services import SlotTaken, booking_cancel, booking_create, booking_move
from leads.models import LeadEvent, Status
from tests.factories import LeadFactory

from .helpers import at, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def capacity(shop):
    return BookingSettings.objects.create(shop=shop, posts=1, inspection_minutes=30)


def _starts(slots) -> list[str]:
    return [s.starts_at.strftime("%H:%M") for s in slots]


def test_slots_fill_the_working_day_at_the_jobs_length(shop, capacity):
    day = next_monday()
    slots = free_slots(shop, kind="inspection", day=day)
    assert _starts(slots)[0] == "09:00"
    assert _starts(slots)[-1] == "19:30"  # the last visit ends at closing, 20:00
    assert len(slots) == 22

    capacity.repair_minutes = 90
    capacity.save()
    repair = free_slots(shop, kind="repair", day=day)
    assert _starts(repair)[:3] == ["09:00", "10:30", "12:00"]
    assert _starts(repair)[-1] == "18:00"  # 19:30 + 90 min would pass closing
    assert repair[-1].ends_at == at(day, "19:30")


def test_no_slots_on_a_day_off_or_a_holiday(shop, capacity):
    monday = next_monday()
    sunday = monday - dt.timedelta(days=1)
    assert free_slots(shop, kind="inspection", day=sunday) == []

    capacity.holidays = [monday.isoformat()]
    capacity.save()
    assert free_slots(shop, kind="inspection", day=monday) == []
    assert monday not in [d for d, _n in bookable_days(shop, kind="inspection")]
    assert sunday not in [d for d, _n in bookable_days(shop, kind="inspection")]


def test_a_slot_is_free_while_one_post_is(shop, capacity):
    day = next_monday()
    booking_create(lead=LeadFactory(shop=shop), start=at(day, "10:00"), kind="inspection")
    assert "10:00" not in _starts(free_slots(shop, kind="inspection", day=day))

    capacity.posts = 2
    capacity.save()
    slot = next(
        s for s in free_slots(shop, kind="inspection", day=day) if s.starts_at == at(day, "10:00")
    )
    assert slot.free_posts == (2,)


def test_no_slot_closer_than_the_notice(shop, capacity):
    day = next_monday()
    now = at(day, "09:10")
    assert _starts(free_slots(shop, kind="inspection", day=day, now=now))[0] == "10:30"


def test_the_last_post_taken_refuses_clearly(shop, capacity):
    day = next_monday()
    booking_create(lead=LeadFactory(shop=shop), start=at(day, "11:00"), kind="inspection")
    with pytest.raises(SlotTaken) as refused:
        booking_create(lead=LeadFactory(shop=shop), start=at(day, "11:00"), kind="inspection")
    assert refused.value.messages == ["Это время уже заняли — выберите другое."]


def test_the_database_refuses_overlapping_visits_on_one_post(shop, capacity):
    day = next_monday()

    def visit(post, start, end, **extra):
        return Booking.objects.create(
            shop=shop,
            lead=LeadFactory(shop=shop),
            post=post,
            starts_at=at(day, start),
            ends_at=at(day, end),
            **extra,
        )

    visit(1, "10:00", "11:00")
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        visit(1, "10:30", "11:30")
    # Another post, a cancelled visit or touching ends are not overlaps.
    visit(2, "10:30", "11:30")
    visit(1, "11:00", "11:30")
    visit(1, "10:00", "10:30", status=BookingStatus.CANCELLED)


def test_one_request_has_one_upcoming_visit(shop, capacity):
    day = next_monday()
    lead = LeadFactory(shop=shop)
    booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    with pytest.raises(ValidationError, match="уже есть запись"):
        booking_create(lead=lead, start=at(day, "15:00"), kind="inspection")
    with pytest.raises(IntegrityError, match="booking_one_active_per_lead"), transaction.atomic():
        Booking.objects.create(
            shop=shop, lead=lead, post=1, starts_at=at(day, "16:00"), ends_at=at(day, "16:30")
        )


def test_times_outside_the_day_are_refused(shop, capacity):
    day = next_monday()
    lead = LeadFactory(shop=shop)
    for start, words in [
        (at(day, "19:45"), "часы работы"),
        (at(day - dt.timedelta(days=1), "10:00"), "не работает"),
        (at(day, "10:10"), "из предложенных"),
    ]:
        with pytest.raises(Exception) as refused:
            booking_create(lead=lead, start=start, kind="inspection")
        assert words in " ".join(refused.value.messages)
    assert not Booking.objects.exists()


def test_booking_moves_the_lead_to_booked_and_writes_the_timeline(shop, capacity, advisor):
    day = next_monday()
    lead = LeadFactory(shop=shop)
    assert lead.status == Status.NEW
    booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    lead.refresh_from_db()
    assert lead.status == Status.BOOKED
    assert [s["state"] for s in lead_progress(lead)] == [
        "done",
        "done",
        "done",
        "current",
        "ahead",
        "ahead",
    ]

    booking_move(booking=booking, start=at(day, "15:00"), by=advisor)
    booking.refresh_from_db()
    assert booking.starts_at == at(day, "15:00")
    assert booking.ends_at == at(day, "15:30")
    assert "10:00" in _starts(free_slots(shop, kind="inspection", day=day))

    booking_cancel(booking=booking)
    lead.refresh_from_db()
    assert lead.status == Status.IN_PROGRESS
    texts = list(LeadEvent.objects.filter(lead=lead).values_list("text", flat=True))
    assert any(t.startswith("Запись на визит:") and "клиент по ссылке" in t for t in texts)
    assert any(t.startswith("Визит перенесён:") for t in texts)
    assert any("отменена (клиент по ссылке)" in t for t in texts)
    assert any("записан" in t for t in texts)  # the status change itself


def test_a_moved_visit_cannot_land_on_a_taken_time(shop, capacity):
    day = next_monday()
    first = booking_create(lead=LeadFactory(shop=shop), start=at(day, "10:00"), kind="inspection")
    booking_create(lead=LeadFactory(shop=shop), start=at(day, "12:00"), kind="inspection")
    with pytest.raises(SlotTaken):
        booking_move(booking=first, start=at(day, "12:00"))
    first.refresh_from_db()
    assert first.starts_at == at(day, "10:00")


def test_the_status_page_says_the_car_is_in_once_it_was_taken_in(shop, capacity):
    from tests.factories import IntakeRecordFactory

    lead = LeadFactory(shop=shop)
    booking_create(lead=lead, start=at(next_monday(), "10:00"), kind="inspection")
    lead.refresh_from_db()
    IntakeRecordFactory(shop=shop, lead=lead)
    states = {s["key"]: s["state"] for s in lead_progress(lead)}
    assert states["booked"] == "done"
    assert states["car_in"] == "current"
    assert states["ready"] == "ahead"


def test_a_visit_off_the_grid_takes_every_slot_it_overlaps(shop, capacity, advisor):
    day = next_monday()
    # The advisor may book any time within the hours: 10:15 for an hour.
    booking_create(lead=LeadFactory(shop=shop), start=at(day, "10:15"), kind="repair", by=advisor)
    starts = _starts(free_slots(shop, kind="inspection", day=day))
    assert "09:30" in starts and "11:30" in starts
    assert not {"10:00", "10:30", "11:00"} & set(starts)


def test_a_new_request_sent_with_its_estimate_shows_the_estimate_step(shop, capacity):
    from tests.factories import EstimateFactory

    lead = LeadFactory(shop=shop)
    assert [s["key"] for s in lead_progress(lead) if s["state"] == "current"] == ["received"]
    estimate = EstimateFactory(shop=shop)
    estimate.lead = lead
    estimate.save()
    states = {s["key"]: s["state"] for s in lead_progress(lead)}
    assert states["received"] == "done" and states["estimate"] == "current"
    assert states["offer"] == "ahead"
