"""20 drivers send the last free time of the day at once: exactly one is booked, 19 get a
clear refusal. Each request runs in its own thread with its own PostgreSQL connection, as
on several web workers; nothing serialises them but the database's exclusion constraint."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from booking.models import Booking, BookingSettings, BookingStatus
from leads.models import Lead, Status
from tests.concurrency import run_together
from tests.factories import LeadFactory, ShopFactory

from .helpers import at, next_monday

REFUSAL = "Это время уже заняли — выберите другое"


@pytest.mark.django_db(transaction=True)
def test_twenty_drivers_for_the_last_free_slot_make_one_booking():
    shop = ShopFactory()
    BookingSettings.objects.create(shop=shop, posts=1, inspection_minutes=30)
    day = next_monday()
    last = at(day, "12:00")
    # Every other time of the day is taken already.
    start = at(day, "09:00")
    while start < at(day, "20:00"):
        if start != last:
            Booking.objects.create(
                shop=shop,
                lead=LeadFactory(shop=shop),
                post=1,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=30),
            )
        start += dt.timedelta(minutes=30)
    leads = [LeadFactory(shop=shop) for _ in range(20)]

    def book(index: int):
        url = reverse("booking:book", args=[shop.slug, leads[index].public_token])
        return Client().post(
            url, {"kind": "inspection", "day": day.isoformat(), "start": last.isoformat()}
        )

    responses = run_together(20, book)

    assert sorted(r.status_code for r in responses) == [302] + [409] * 19
    refusals = [r.content.decode() for r in responses if r.status_code == 409]
    assert all(REFUSAL in page for page in refusals)
    booked = Booking.objects.filter(shop=shop, starts_at=last, status=BookingStatus.BOOKED)
    assert booked.count() == 1
    winner = booked.get().lead
    assert Lead.objects.get(pk=winner.pk).status == Status.BOOKED
    assert (
        Lead.objects.filter(pk__in=[lead.pk for lead in leads], status=Status.BOOKED).count() == 1
    )
    # A refused driver's page still offers the rest of the week, and loses nothing.
    assert "Записаться" in refusals[0]


@pytest.mark.django_db(transaction=True)
def test_one_driver_tapping_two_times_at_once_gets_one_visit():
    shop = ShopFactory()
    BookingSettings.objects.create(shop=shop, posts=3)
    day = next_monday()
    lead = LeadFactory(shop=shop)
    url = reverse("booking:book", args=[shop.slug, lead.public_token])
    times = [at(day, "10:00"), at(day, "14:00"), at(day, "16:00"), at(day, "17:30")]

    def book(index: int):
        data = {"kind": "inspection", "day": day.isoformat(), "start": times[index].isoformat()}
        return Client().post(url, data)

    responses = run_together(len(times), book)

    visits = Booking.objects.filter(lead=lead, status=BookingStatus.BOOKED)
    assert visits.count() == 1
    visit_url = reverse("booking:visit", args=[shop.slug, visits.get().token])
    # The tap that booked, and any tap that arrived after it committed, land on that one
    # visit; a tap that raced it is told the request already has a visit.
    landed = [r for r in responses if r.status_code == 302]
    assert landed and all(r["Location"] == visit_url for r in landed)
    refused = [r.content.decode() for r in responses if r.status_code != 302]
    assert all("уже есть запись" in page for page in refused)
