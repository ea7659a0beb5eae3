"""The driver's visit by SMS when the shop has SMS switched on: the confirmation with the
address and the visit's own link (move or cancel there), each move, the cancellation and the
reminder the day before, once each, through the fake SMS.ru (request shape cited in
tests/sms/contracts/README.md: https://sms.ru/api/send). Transactional: the processing
consent is enough, no advertising consent is asked; a withdrawn consent gets nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking.models import BookingSettings
from booking.services import booking_cancel, booking_create, booking_move, bookings_remind
from leads.models import Status
from leads.services import lead_change_status
from sms.models import MarketingConsent, Purpose, SmsMessage, SmsSettings, SmsStatus
from tests.booking.helpers import at, next_monday
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
PHONE = "+79161234567"


@pytest.fixture
def lead(shop):
    shop.address = "Москва, ул. Автозаводская, 1"
    shop.save()
    BookingSettings.objects.create(shop=shop, posts=2)
    return LeadFactory(shop=shop, phone=PHONE, status=Status.OFFER_ACCEPTED)


def test_book_move_cancel_and_remind_reach_the_driver_with_the_visits_link(
    shop, lead, advisor, smsru, django_capture_on_commit_callbacks
):
    assert not MarketingConsent.objects.exists()  # not needed for these
    day = next_monday()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    link = reverse("booking:visit", args=[shop.slug, booking.token])
    (booked,) = smsru.sends()  # one SMS: the status change to «записан» adds no second
    assert booked.form["to"] == "79161234567"
    assert "вы записаны на" in booked.form["msg"] and "10:00" in booked.form["msg"]
    assert "Автозаводская" in booked.form["msg"] and link in booked.form["msg"]

    with django_capture_on_commit_callbacks(execute=True):
        booking_move(booking=booking, start=at(day, "15:00"), by=advisor)
    moved = smsru.sends()[-1].form["msg"]
    assert "визит перенесён на" in moved and "15:00" in moved and link in moved

    with django_capture_on_commit_callbacks(execute=True):
        assert bookings_remind(now=at(day - dt.timedelta(days=1), "16:00")) == 1
        assert bookings_remind(now=at(day - dt.timedelta(days=1), "16:15")) == 0
    reminder = smsru.sends()[-1].form["msg"]
    assert "напоминаем о визите" in reminder and "15:00" in reminder and link in reminder

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking)
    assert "отменена" in smsru.sends()[-1].form["msg"]

    assert len(smsru.sends()) == 4
    purposes = list(SmsMessage.objects.order_by("pk").values_list("purpose", "status"))
    assert purposes == [
        (Purpose.BOOKED, SmsStatus.SENT),
        (Purpose.BOOKED, SmsStatus.SENT),
        (Purpose.REMINDER, SmsStatus.SENT),
        (Purpose.BOOKED, SmsStatus.SENT),
    ]


def test_a_lead_marked_booked_by_hand_still_gets_the_plain_confirmation(
    shop, lead, advisor, smsru, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.BOOKED, by=advisor)
    (sent,) = smsru.sends()
    assert "вы записаны на ремонт." in sent.form["msg"]


def test_no_sms_without_sms_settings_or_after_consent_was_withdrawn(
    shop, lead, smsru, django_capture_on_commit_callbacks
):
    SmsSettings.objects.filter(pk=smsru.conf.pk).update(enabled=False)
    day = next_monday()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    assert smsru.sends() == []

    SmsSettings.objects.filter(pk=smsru.conf.pk).update(enabled=True)
    other = LeadFactory(shop=shop, phone="+79160000001", status=Status.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        second = booking_create(lead=other, start=at(day, "11:00"), kind="inspection")
    assert len(smsru.sends()) == 1
    other.consent_withdrawn_at = other.created_at
    other.save(update_fields=["consent_withdrawn_at"])
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=second)
        bookings_remind(now=at(day - dt.timedelta(days=1), "16:00"))
    # The first driver's reminder goes; nothing more to the one who withdrew.
    assert [s.form["to"] for s in smsru.sends()] == ["79160000001", "79161234567"]
    assert booking.lead.phone == PHONE
