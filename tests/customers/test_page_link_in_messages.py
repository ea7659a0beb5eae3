"""Every message to the driver carries their own page's link beside the withdrawal link when
the request names its customer: the offer SMS (the fake SMS.ru receives it) and the status
SMS, the offer e-mail, the booking reminder and the intake act e-mail. A request without a
customer gets the messages as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from booking.models import BookingSettings
from booking.services import booking_create, bookings_remind
from leads.models import Status
from leads.services import lead_change_status
from optima import offers
from tests.booking.helpers import at, next_monday
from tests.customers.card_helpers import lead_of, make_customer
from tests.factories import LeadFactory, OfferVersionFactory
from tests.intake.test_intake_views import _sealed

pytestmark = pytest.mark.django_db


def _page(customer) -> str:
    return reverse("customers:driver_page", args=[customer.page_token])


def test_offer_and_status_sms_carry_the_page_link(
    shop, advisor, smsru, django_capture_on_commit_callbacks
):
    customer = make_customer(shop)
    lead = lead_of(customer, status=Status.IN_PROGRESS, email="olga@example.ru")
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        offers.offer_send(version=version, by=advisor)
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.BOOKED, by=advisor)
    offer_sms, booked_sms = smsru.sends()
    assert (
        reverse("optima:offer_public", args=[shop.slug, version.offer.token])
        in offer_sms.form["msg"]
    )
    assert _page(customer) in offer_sms.form["msg"]
    assert "вы записаны" in booked_sms.form["msg"] and _page(customer) in booked_sms.form["msg"]
    (letter,) = [m for m in mail.outbox if m.to == ["olga@example.ru"]]
    assert _page(customer) in letter.body
    assert "Отозвать согласие" in letter.body


def test_messages_without_a_customer_have_no_page_line(
    shop, advisor, smsru, django_capture_on_commit_callbacks
):
    lead = LeadFactory(shop=shop, status=Status.IN_PROGRESS, phone="+79161234567")
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        offers.offer_send(version=version, by=advisor)
    (sms,) = smsru.sends()
    assert "/c/" not in sms.form["msg"] and "Ваша страница" not in sms.form["msg"]


def test_booking_reminder_carries_the_page_link(shop, django_capture_on_commit_callbacks):
    BookingSettings.objects.create(shop=shop, posts=1)
    customer = make_customer(shop)
    lead = lead_of(customer, email="olga@example.ru")
    day = next_monday()
    booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings_remind(now=at(day - dt.timedelta(days=1), "12:00")) == 1
    assert _page(customer) in mail.outbox[-1].body


def test_intake_act_email_carries_the_page_link(advisor, django_capture_on_commit_callbacks):
    customer = make_customer(advisor.shop)
    lead = lead_of(customer)
    with django_capture_on_commit_callbacks(execute=True):
        record = _sealed(advisor.shop, advisor, customer_email="i@example.ru", lead=lead)
    (letter,) = mail.outbox
    assert record.public_token in letter.body and _page(customer) in letter.body


def test_visit_sms_carries_the_page_link(shop, smsru, django_capture_on_commit_callbacks):
    BookingSettings.objects.create(shop=shop, posts=1)
    customer = make_customer(shop)
    lead = lead_of(customer)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(lead=lead, start=at(next_monday(), "10:00"), kind="inspection")
    (sms,) = smsru.sends()
    assert reverse("booking:visit", args=[shop.slug, booking.token]) in sms.form["msg"]
    assert _page(customer) in sms.form["msg"]
