"""The demo's customer offers pair each lead with parts of its own car: the numbers searched
are the platform catalogue's numbers for that car's generation, never another model's (a VW
Polo bumper in a Solaris offer was the bug). Real demo suppliers over loopback."""

from __future__ import annotations

import pytest

from leads.models import Status
from optima import demo
from optima.demo_supplier import start_in_thread
from optima.models import OfferVersion
from smartcalc.models import Generation, ReferencePrice
from tests.factories import LeadFactory, MembershipFactory, SupplierFactory


def _catalogue_numbers(make: str, model: str, generation: str) -> set[str]:
    gen = Generation.objects.get(model__make__name=make, model__name=model, name=generation)
    rows = ReferencePrice.objects.filter(vehicle_model=gen.model, version__is_current=True)
    return {
        row.oem_number for row in rows.exclude(oem_number="") if row.generation_id in (None, gen.pk)
    }


@pytest.mark.timeout(120)
def test_every_demo_offer_searches_only_its_own_cars_parts(shop):
    MembershipFactory(shop=shop, role="advisor")
    polo = LeadFactory(
        shop=shop,
        status=Status.OFFER_SENT,
        vehicle_make="Volkswagen",
        vehicle_model="Polo",
        vehicle_year=2018,
        description="Помяли переднее правое крыло и фару, ДТП оформили по европротоколу.",
    )
    # Cars whose parts the catalogue does not number: no offer rather than a wrong part.
    solaris = LeadFactory(
        shop=shop,
        status=Status.IN_PROGRESS,
        vehicle_make="Hyundai",
        vehicle_model="Solaris",
        vehicle_year=2019,
    )
    vesta = LeadFactory(
        shop=shop,
        status=Status.BOOKED,
        vehicle_make="Lada",
        vehicle_model="Vesta",
        vehicle_year=2020,
    )
    with start_in_thread(seed=1) as supplier:
        SupplierFactory(shop=shop, kind="abcp", base_url=supplier.url, login="demo", secret="demo")
        demo._demo_offers(shop)

    versions = list(OfferVersion.objects.filter(offer__shop=shop).select_related("offer__lead"))
    assert [v.offer.lead_id for v in versions] == [polo.pk]
    polo_numbers = _catalogue_numbers("Volkswagen", "Polo", "седан")
    for version in versions:
        assert version.search.numbers and set(version.search.numbers) <= polo_numbers
        assert version.positions, "the demo offer found nothing at the demo supplier"
        assert {p["number"] for p in version.positions} <= polo_numbers
    # The parts the driver describes: the right front wing and the right headlamp.
    assert sorted(versions[0].search.numbers) == ["6RU821106C", "6RU941016"]
    assert not OfferVersion.objects.filter(offer__lead__in=[solaris, vesta]).exists()


def test_lead_car_numbers_take_the_generation_of_the_year(shop):
    polo_2018 = LeadFactory(
        shop=shop, vehicle_make="Volkswagen", vehicle_model="Polo", vehicle_year=2018
    )
    numbers = demo.lead_car_numbers(polo_2018)
    assert numbers and set(numbers) <= _catalogue_numbers("Volkswagen", "Polo", "седан")
    # The liftback (2020–) has no sourced numbers; a 2021 Polo gets none of the sedan's.
    polo_2021 = LeadFactory(
        shop=shop, vehicle_make="Volkswagen", vehicle_model="Polo", vehicle_year=2021
    )
    assert demo.lead_car_numbers(polo_2021) == []
    other = LeadFactory(shop=shop, vehicle_make="Skoda", vehicle_model="Rapid", vehicle_year=2018)
    assert demo.lead_car_numbers(other) == []
