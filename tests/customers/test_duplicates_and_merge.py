"""Issue #18, "Done when" 2: the same person with two phones and one plate is proposed as a
duplicate (never merged silently), an advisor merges, both timelines say so, nothing lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import (
    Car,
    Customer,
    CustomerEvent,
    CustomerPhone,
    DuplicateProposal,
    DuplicateReason,
    DuplicateStatus,
    EventKind,
)
from customers.selectors import customer_get, customer_history, duplicates_open
from customers.services import customers_merge, duplicate_dismiss
from leads.models import Channel, Lead
from leads.services import LeadInput, lead_add_note, lead_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _request(shop, phone, *, name="Андрей Соколов", days_ago=0, **car):
    lead, _created = lead_create(
        shop=shop,
        channel=Channel.PHONE,
        data=LeadInput(customer_name=name, phone=phone, **car),
        now=timezone.now() - dt.timedelta(days=days_ago),
    )
    return lead


def test_same_plate_from_two_phones_is_proposed_merged_and_nothing_is_lost(shop, advisor):
    first = _request(
        shop, "+79031112233", days_ago=30, vehicle_make="Kia", vehicle_model="Rio", plate="В777ОР99"
    )
    lead_add_note(lead=first, by=advisor, text="Просил перезвонить вечером")
    second = _request(
        shop, "+74957654321", days_ago=2, vehicle_make="Kia", vehicle_model="Rio", plate="b777op99"
    )
    third = _request(shop, "+74957654321", vehicle_make="Lada", vehicle_model="Granta")
    keep, drop = first.customer, second.customer
    assert keep.pk != drop.pk  # two phones are two customers until staff decide
    assert third.customer_id == drop.pk

    proposal = duplicates_open(shop).get()
    assert (proposal.customer_a, proposal.customer_b, proposal.reason) == (
        keep,
        drop,
        DuplicateReason.PLATE,
    )
    assert proposal.detail == "В777ОР99"
    # Another request with the same plate does not propose the same pair twice.
    _request(shop, "+74957654321", vehicle_make="Kia", vehicle_model="Rio", plate="В777ОР99")
    assert DuplicateProposal.objects.filter(shop=shop).count() == 1

    leads_before = Lead.objects.filter(shop=shop).count()
    events_before = CustomerEvent.objects.filter(customer__shop=shop).count()
    phones_before = set(CustomerPhone.objects.filter(shop=shop).values_list("phone", flat=True))

    customers_merge(shop=shop, keep=keep, drop=drop, by=advisor)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert drop.merged_into == keep
    assert set(keep.phones.values_list("phone", flat=True)) == phones_before
    assert keep.phones.get(is_primary=True).phone == "+79031112233"
    # The two Rios (one plate) are one car now; the Granta moved; every request follows.
    cars = {(c.make, c.model, c.plate) for c in Car.objects.filter(shop=shop)}
    assert cars == {("Kia", "Rio", "В777ОР99"), ("Lada", "Granta", "")}
    assert Car.objects.filter(customer=keep).count() == 2
    rio = Car.objects.get(shop=shop, plate="В777ОР99")
    assert set(rio.leads.values_list("pk", flat=True)) >= {first.pk, second.pk}
    history = list(customer_history(keep))
    assert len(history) == leads_before == Lead.objects.filter(shop=shop).count()
    assert all(lead.customer_id == keep.pk for lead in Lead.objects.filter(shop=shop))
    # Every old line of both timelines is on the kept one, plus one merge line on each.
    assert CustomerEvent.objects.filter(customer__shop=shop).count() == events_before + 2
    merged_from = keep.events.get(kind=EventKind.MERGED_FROM)
    merged_into = drop.events.get(kind=EventKind.MERGED_INTO)
    for event in (merged_from, merged_into):
        assert event.actor == advisor
        assert event.data["moved"]["phones"] == 1
        assert event.data["moved"]["cars"] == 1 and event.data["moved"]["cars_joined"] == 1
        assert event.data["moved"]["leads.lead"] == 3
    assert drop.events.count() == 1  # the rest moved
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (DuplicateStatus.MERGED, advisor)
    assert proposal.decided_at is not None
    assert not duplicates_open(shop).exists()
    # The card of the dropped customer opens the kept one.
    assert customer_get(shop=shop, pk=drop.pk) == keep
    # A new request from the second phone lands on the kept customer.
    assert _request(shop, "8 495 765-43-21").customer_id == keep.pk


def test_merge_never_invents_a_marketing_consent_and_keeps_a_withdrawal(shop, advisor):
    now = timezone.now()
    keep = _request(shop, "+79031112233").customer
    drop = _request(shop, "+79031112244").customer
    Customer.objects.filter(pk=drop.pk).update(
        marketing_consent_at=now - dt.timedelta(days=9), marketing_consent_source="форма"
    )
    customers_merge(shop=shop, keep=keep, drop=drop, by=advisor)
    keep.refresh_from_db()
    assert not keep.has_marketing_consent

    other = _request(shop, "+79031112255").customer
    Customer.objects.filter(pk=keep.pk).update(marketing_consent_at=now - dt.timedelta(days=5))
    Customer.objects.filter(pk=other.pk).update(
        marketing_consent_at=now - dt.timedelta(days=20),
        marketing_withdrawn_at=now - dt.timedelta(days=1),
    )
    keep.refresh_from_db()
    customers_merge(shop=shop, keep=keep, drop=other, by=advisor)
    keep.refresh_from_db()
    assert not keep.has_marketing_consent
    assert keep.marketing_withdrawn_at == now - dt.timedelta(days=1)


def test_same_name_and_car_from_another_phone_is_proposed_and_can_be_dismissed(shop, advisor):
    a = _request(shop, "+79031112233", vehicle_make="Skoda", vehicle_model="Octavia").customer
    b = _request(shop, "+79261112233", vehicle_make="Skoda", vehicle_model="octavia").customer
    proposal = duplicates_open(shop).get()
    assert proposal.reason == DuplicateReason.NAME_CAR
    duplicate_dismiss(proposal=proposal, by=advisor)
    assert not duplicates_open(shop).exists()
    assert a.events.filter(kind=EventKind.DUPLICATE_DISMISSED).exists()
    assert b.events.filter(kind=EventKind.DUPLICATE_DISMISSED).exists()
    # Staff said they are two people: the next request does not propose them again.
    _request(shop, "+79261112233", vehicle_make="Skoda", vehicle_model="Octavia", plate="А111АА77")
    assert not duplicates_open(shop).exists()


def test_merge_refuses_another_shops_customer_and_a_stranger(shop, other_shop, advisor):
    mine = _request(shop, "+79031112233").customer
    theirs = _request(other_shop, "+79031112244").customer
    with pytest.raises(Customer.DoesNotExist):
        customers_merge(shop=shop, keep=mine, drop=theirs, by=advisor)
    stranger = MembershipFactory(shop=other_shop)
    other_mine = _request(shop, "+79031112255").customer
    with pytest.raises(ValidationError):
        customers_merge(shop=shop, keep=mine, drop=other_mine, by=stranger)
    assert Customer.objects.get(pk=other_mine.pk).merged_into is None
