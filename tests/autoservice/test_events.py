"""Shop events: each change a shop's other systems hear of is emitted once, in the
transaction that makes it, with the lead it belongs to."""

from __future__ import annotations

import pytest
from django.db import transaction

from autoservice import events
from leads.models import Status
from leads.services import LeadInput, lead_assign, lead_change_status, lead_create
from optima import offers
from smartcalc.services import estimate_attach_lead
from tests.factories import EstimateFactory, MembershipFactory, OfferVersionFactory
from tests.intake.test_sealing import sealed_record


@pytest.fixture
def heard():
    got: list[events.ShopEvent] = []
    events.event_listen("test-recorder")(got.append)
    yield got
    events._LISTENERS.pop("test-recorder")  # noqa: SLF001 - the test's own listener


def _types(got):
    return [event.type for event in got]


def test_a_lead_journey_emits_each_event_with_its_lead(shop, advisor, heard):
    lead, _ = lead_create(
        shop=shop, channel="phone", data=LeadInput(customer_name="Ива", phone="+79161234567")
    )
    lead_assign(lead=lead, assignee=advisor, by=advisor)
    lead_assign(lead=lead, assignee=advisor, by=advisor)  # no change, no event
    lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    estimate = EstimateFactory(shop=shop)
    estimate_attach_lead(estimate=estimate, lead=lead)
    estimate_attach_lead(estimate=estimate, lead=lead)  # already its lead: no second event
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    offers.offer_send(version=version, by=advisor)
    offers.offer_accept(
        version=version,
        choice={"0": 0},
        confirmed_total_rub=offers.option_total(version, {"0": 0}),
        ip="203.0.113.5",
        user_agent="test",
    )
    assert _types(heard) == [
        "lead.created",
        "lead.assigned",
        "lead.status_changed",
        "estimate.created",
        "lead.status_changed",  # the offer sent moves the lead
        "offer.sent",
        "lead.status_changed",  # accepted
        "offer.accepted",
    ]
    assert {event.lead_id for event in heard} == {lead.pk}
    assert {event.subject for event in heard} == {f"lead:{lead.pk}"}
    assert len({event.id for event in heard}) == len(heard)
    assert heard[2].data["old"] == Status.NEW and heard[2].data["new"] == Status.IN_PROGRESS
    version.refresh_from_db()
    assert heard[-1].data["accepted_total_rub"] == str(version.accepted_total_rub)
    assert all(event.shop == shop for event in heard)


def test_an_event_of_a_rolled_back_change_is_never_told(shop, heard):
    told = []

    @events.event_listen("test-writer")
    def writer(event):
        told.append(event.id)

    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            lead_create(
                shop=shop,
                channel="phone",
                data=LeadInput(customer_name="Ива", phone="+79161234567"),
            )
            raise RuntimeError("the request failed after the lead was written")
    finally:
        events._LISTENERS.pop("test-writer")  # noqa: SLF001
    # The listener ran inside the transaction: what it wrote to the database rolled back
    # with the lead (the outbox is a table), which is why listeners only write.
    assert len(told) == 1


def test_a_listener_error_rolls_the_change_back(shop):
    @events.event_listen("test-broken")
    def broken(event):
        raise RuntimeError("cannot record the event")

    try:
        with pytest.raises(RuntimeError):
            lead_create(
                shop=shop,
                channel="phone",
                data=LeadInput(customer_name="Ива", phone="+79161234567"),
            )
    finally:
        events._LISTENERS.pop("test-broken")  # noqa: SLF001
    assert not shop.leads.exists()


def test_a_sealed_intake_act_is_told(shop, heard):
    by = MembershipFactory(shop=shop, role="manager")
    record = sealed_record(shop, by)
    sealed = [event for event in heard if event.type == "intake.sealed"]
    assert len(sealed) == 1
    assert sealed[0].data["intake_id"] == record.pk


def test_unknown_event_type_is_refused(shop):
    with pytest.raises(ValueError, match="unknown"):
        events.event_emit(shop=shop, type="lead.exploded", subject="lead:1", data={})
