"""«Подобрать запчасти» from a calculator lead for a car other than the Polo: the parts search
opens with the catalogue's number of the estimate's generation (Renault Logan I: rear bumper
6001546776, smartcalc/data/reference_prices.csv), and a Logan II estimate — another
generation, whose bumper no source numbers — gets no borrowed number."""

from __future__ import annotations

import re
from html import unescape

from django.urls import reverse

from smartcalc import engine, services
from smartcalc.models import Generation
from tests.factories import LeadFactory


def _logan_lead(shop, generation_name, damages):
    generation = Generation.objects.get(
        model__make__name="Renault", model__name="Logan", name=generation_name
    )
    result = services.estimate_compute(
        shop=shop, generation=generation, body_type="sedan", damages=damages
    )
    estimate = services.estimate_save(
        shop=shop, generation=generation, body_type="sedan", damages=damages, result=result
    )
    lead = LeadFactory(shop=shop, vehicle_make="Renault", vehicle_model="Logan")
    services.estimate_attach_lead(estimate=estimate, lead=lead)
    return lead


def _numbers_field(html: str) -> list[str]:
    match = re.search(r'<textarea name="numbers"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "the search form has no numbers field"
    return [line.strip() for line in unescape(match.group(1)).splitlines() if line.strip()]


def test_a_logan_i_estimate_prefills_the_rear_bumper_number(shop, advisor_client):
    lead = _logan_lead(
        shop,
        "I",
        [
            engine.Damage("bumper_rear", "broken", "5"),
            engine.Damage("bumper_front", "broken", "5"),
        ],
    )
    html = advisor_client.get(reverse("optima:parts_search"), {"lead": lead.pk}).content.decode()
    assert _numbers_field(html) == ["6001546776"]
    assert "номер не известен: бампер передний — введите вручную" in html


def test_a_logan_ii_estimate_borrows_no_number_of_the_first_generation(shop, advisor_client):
    lead = _logan_lead(shop, "II", [engine.Damage("bumper_rear", "broken", "5")])
    html = advisor_client.get(reverse("optima:parts_search"), {"lead": lead.pk}).content.decode()
    assert _numbers_field(html) == []
    assert "номер не известен: бампер задний — введите вручную" in html
