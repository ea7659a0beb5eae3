"""«Подобрать запчасти» from a calculator lead: the parts search opens with the OEM numbers of
the estimate's replaced parts from the platform's catalogue (the VW Polo sedan rows of
smartcalc/data/reference_prices.csv) and names the parts whose number nobody knows."""

from __future__ import annotations

import re
from html import unescape

from django.urls import reverse

from smartcalc import engine, services
from smartcalc.models import Generation
from tests.factories import LeadFactory


def _polo_lead(shop, damages):
    generation = Generation.objects.get(
        model__make__name="Volkswagen", model__name="Polo", name="седан"
    )
    result = services.estimate_compute(
        shop=shop, generation=generation, body_type="sedan", damages=damages
    )
    estimate = services.estimate_save(
        shop=shop, generation=generation, body_type="sedan", damages=damages, result=result
    )
    lead = LeadFactory(shop=shop, vehicle_make="Volkswagen", vehicle_model="Polo седан")
    services.estimate_attach_lead(estimate=estimate, lead=lead)
    return lead


def _numbers_field(html: str) -> list[str]:
    match = re.search(r'<textarea name="numbers"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "the search form has no numbers field"
    return [line.strip() for line in unescape(match.group(1)).splitlines() if line.strip()]


def test_search_from_a_lead_is_prefilled_with_the_estimates_catalogue_numbers(shop, advisor_client):
    lead = _polo_lead(
        shop,
        [
            engine.Damage("bumper_front", "broken", "5"),
            engine.Damage("door_rear_left", "broken", "5"),
            engine.Damage("mirror_left", "broken", "2"),
        ],
    )
    page = advisor_client.get(reverse("optima:parts_search"), {"lead": lead.pk})
    assert page.status_code == 200
    html = page.content.decode()
    # The catalogue's own numbers for this car, in the estimate's order; the mirror has none.
    assert _numbers_field(html) == ["6RU807221A", "6RU833055D"]
    assert "номер не известен: зеркало левое — введите вручную" in html
    assert f'name="lead" value="{lead.pk}"' in html


def test_lead_panel_link_opens_the_prefilled_search(shop, advisor_client):
    lead = _polo_lead(shop, [engine.Damage("headlamp_right", "broken", "2")])
    detail = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    link = re.search(r'href="([^"]*/staff/parts/\?lead=[^"]*)"', detail)
    assert link and "Подобрать запчасти из расчёта" in detail
    html = advisor_client.get(unescape(link.group(1))).content.decode()
    assert _numbers_field(html) == ["6RU941016"]
    assert "номер не известен" not in html


def test_a_part_without_a_number_is_named_and_nothing_is_invented(shop, advisor_client):
    # A Solaris: the catalogue has no sourced numbers for it, so the field stays empty.
    from tests.factories import EstimateFactory

    estimate = EstimateFactory(shop=shop, damages=[engine.Damage("headlamp_left", "broken", "2")])
    lead = LeadFactory(shop=shop)
    services.estimate_attach_lead(estimate=estimate, lead=lead)
    html = advisor_client.get(reverse("optima:parts_search"), {"lead": lead.pk}).content.decode()
    assert _numbers_field(html) == []
    assert "номер не известен: фара левая — введите вручную" in html


def test_search_for_another_shops_lead_is_404(shop, other_shop, advisor_client):
    lead = _polo_lead(other_shop, [engine.Damage("bumper_front", "broken", "5")])
    response = advisor_client.get(reverse("optima:parts_search"), {"lead": lead.pk})
    assert response.status_code == 404
    assert "6RU807221A" not in response.content.decode()
