"""Issue #18, "Done when" 1: three requests from one phone over 60 days (photo, calculator
with an offer accepted, a walk-in with an intake) make one customer with one car, the whole
history reachable, and each request routed to the same advisor."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from autoservice.consent import consent_text_current
from customers.models import Car, Customer, CustomerEvent, CustomerPhone, EventKind
from customers.selectors import customer_history, customers_search
from intake.models import ShotTemplate
from intake.services import VehicleData, record_create, record_update_details
from leads.models import Channel, Status
from leads.models import EventKind as LeadEventKind
from leads.services import (
    LeadInput,
    driver_request_submit,
    lead_change_status,
    lead_create,
    lead_mark_contacted,
)
from optima import offers
from optima.models import OfferStatus
from tests.factories import EstimateFactory, MembershipFactory, OfferVersionFactory

pytestmark = pytest.mark.django_db

PHONE = "+79161234567"


def _driver(shop, channel, *, now, attach=None, **contact):
    return driver_request_submit(
        shop=shop,
        channel=channel,
        contact=LeadInput(customer_name="Ольга Петрова", phone=PHONE, **contact),
        consent_text=consent_text_current(shop),
        submission_key=uuid.uuid4(),
        upload_token=uuid.uuid4().hex,
        ip="203.0.113.20",
        user_agent="Phone/1.0",
        attach=attach,
        now=now,
    ).lead


def _estimate_for(shop, lead):
    estimate = EstimateFactory(shop=shop)
    estimate.lead = lead
    estimate.save(update_fields=["lead"])
    return estimate


def test_three_requests_over_sixty_days_are_one_customer_one_car_one_advisor(shop, advisor):
    other_advisor = MembershipFactory(shop=shop)
    start = timezone.now() - dt.timedelta(days=60)

    # Day 0: photos of a dented door. The advisor who answers becomes the personal manager.
    first = _driver(
        shop,
        Channel.PHOTO,
        now=start,
        vehicle_make="Hyundai",
        vehicle_model="Solaris",
        plate="a 123 bc 77",
    )
    assert first.customer is not None and first.assignee is None
    lead_mark_contacted(lead=first, by=advisor, note="Позвонил, записал на осмотр")
    customer = Customer.objects.get(pk=first.customer_id)
    assert customer.manager == advisor

    # Day 25: the calculator; the offer is sent and the driver accepts it by link.
    second = _driver(
        shop,
        Channel.CALCULATOR,
        now=start + dt.timedelta(days=25),
        vehicle_make="Hyundai",
        vehicle_model="Solaris",
        attach=lambda lead: _estimate_for(shop, lead),
    )
    assert second.assignee == advisor  # straight to the personal manager
    assert second.events.filter(
        kind=LeadEventKind.ASSIGNED, text__contains="персональному менеджеру"
    ).exists()
    lead_change_status(lead=second, status=Status.IN_PROGRESS, by=other_advisor)
    version = OfferVersionFactory(
        offer__shop=shop,
        offer__lead=second,
        status=OfferStatus.SENT,
        valid_until=dt.date(2099, 1, 1),
    )
    lead_change_status(lead=second, status=Status.OFFER_SENT, by=advisor)
    offers.offer_accept(
        version=version,
        choice={"0": 1},
        confirmed_total_rub=Decimal("19500.00"),
        ip="203.0.113.20",
        user_agent="Phone/1.0",
    )
    second.refresh_from_db()
    assert second.status == Status.OFFER_ACCEPTED

    # Day 60: the driver walks in; another advisor takes the request at the desk.
    third, _created = lead_create(
        shop=shop,
        channel=Channel.WALK_IN,
        data=LeadInput(customer_name="Ольга", phone=PHONE, plate="А123ВС77"),
        now=start + dt.timedelta(days=60),
    )
    assert third.assignee == advisor
    record = record_create(
        shop=shop,
        by=other_advisor,
        template=ShotTemplate.objects.get(shop__isnull=True, family="body", is_current=True),
        data=VehicleData(
            plate="А123ВС77",
            vin="Z94CT41DBER123456",
            make="Hyundai",
            model="Solaris",
            year=2017,
            body_type="sedan",
            customer_name="Ольга Петрова",
            customer_phone=PHONE,
        ),
        consent=None,
        lead=third,
    )
    record_update_details(record=record, odometer_km=84200)

    # One customer, one phone, one car that now knows its VIN and mileage.
    assert Customer.objects.filter(shop=shop).count() == 1
    assert CustomerPhone.objects.filter(shop=shop).count() == 1
    car = Car.objects.get(shop=shop)
    assert (car.make, car.model, car.plate, car.vin, car.mileage_km, car.year) == (
        "Hyundai",
        "Solaris",
        "А123ВС77",
        "Z94CT41DBER123456",
        84200,
        2017,
    )
    customer.refresh_from_db()
    assert customer.name == "Ольга Петрова"  # the later short name does not replace it
    assert customer.last_seen_at == start + dt.timedelta(days=60)

    # The whole history: three requests with the estimate, the accepted offer, the intake.
    history = list(customer_history(customer))
    assert [lead.pk for lead in history] == [third.pk, second.pk, first.pk]
    assert all(lead.car_id == car.pk for lead in history)
    assert {lead.assignee_id for lead in history} == {advisor.pk}
    assert second.estimate.versions.get().total_rub > 0
    assert second.customer_offers.get().versions.get().status == OfferStatus.ACCEPTED
    assert third.intakerecord_set.get().vin == "Z94CT41DBER123456"
    requests = CustomerEvent.objects.filter(customer=customer, kind=EventKind.REQUEST)
    assert requests.count() == 3
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.MANAGER).count() == 1

    # Found again from the search by any of them.
    for q in ("8 (916) 123-45-67", "Петрова", "a123bc", "Z94CT41DBER"):
        assert list(customers_search(shop, q)) == [customer], q


def test_a_manager_who_left_gets_no_new_requests(shop, advisor):
    lead = _driver(shop, Channel.PHOTO, now=timezone.now() - dt.timedelta(days=3))
    lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    advisor.user.is_active = False
    advisor.user.save()
    again = _driver(shop, Channel.PHOTO, now=timezone.now())
    assert again.customer_id == lead.customer_id
    assert again.assignee is None  # the normal routing: everyone on duty
