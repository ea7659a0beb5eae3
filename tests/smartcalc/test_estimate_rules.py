"""Estimate rules a body shop recognises, with the shipped data: spot repair of a small
scratch, blending into neighbours by the shop's policy and the paint, broken parts without a
size, plain Russian for drivers, the europrotocol block by the Единая методика, and old
estimates re-shown exactly as saved."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from smartcalc import engine, services, techdata
from smartcalc.europrotocol import insurer_payout, wear_pct
from smartcalc.models import Generation, ShopRates
from tests.factories import EstimateFactory

D = Decimal


def _generation(make: str, model: str) -> Generation:
    return Generation.objects.select_related("model").get(
        model__make__name=make, model__name=model, popular=True
    )


@pytest.fixture
def polo(db):
    return _generation("Volkswagen", "Polo")


@pytest.fixture
def vesta(db):
    return _generation("Lada", "Vesta")


def _rates(shop, **values) -> ShopRates:
    rates = techdata.shop_rates(shop)
    for name, value in values.items():
        setattr(rates, name, value)
    rates.save()
    return rates


def _compute(shop, generation, *damages, paint_type="unknown"):
    return services.estimate_compute(
        shop=shop,
        generation=generation,
        body_type=generation.body_types[0],
        damages=list(damages),
        paint_type=paint_type,
    )


# --- Spot repair -----------------------------------------------------------------------


def test_one_palm_scratch_on_a_rear_fender_is_a_spot_repair_cheaper_than_a_dent(shop, polo):
    _rates(shop, blend_policy="always")
    spot = _compute(shop, polo, engine.Damage("quarter_left", "scratch", "1"))
    bigger_scratch = _compute(shop, polo, engine.Damage("quarter_left", "scratch", "2"))
    dent = _compute(shop, polo, engine.Damage("quarter_left", "dent", "4"))

    (line,) = spot.lines  # a spot repair blends inside its panel: no neighbour is painted
    assert line.operation == "spot"
    assert line.labour_rub == 0 and line.part_rub == 0
    assert any("Локальный ремонт" in note for note in line.notes)
    assert spot.total_rub < bigger_scratch.total_rub < dent.total_rub
    # The Polo: 18 243 ₽ for a scratch under a palm. Spot: 1.2 h × 0.95 (class B
    # paint factor) = 1.14 h × 2 500 + 0.4 × 0.95 = 0.38 units × 2 150 = 2 850 + 817.
    assert spot.total_rub == D("3667.00")


def test_a_one_palm_dent_is_still_straightened_and_painted(shop, polo):
    (line, *_blends) = _compute(shop, polo, engine.Damage("quarter_left", "dent", "1")).lines
    assert line.operation == "repair_paint"


# --- Blending by the shop's policy ----------------------------------------------------


def _parts(result) -> list[str]:
    return [line.part for line in result.lines]


def test_blend_policy_never_paints_only_the_damaged_part(shop, vesta):
    _rates(shop, blend_policy="never")
    result = _compute(
        shop, vesta, engine.Damage("door_front_left", "dent", "2"), paint_type="pearl"
    )
    assert _parts(result) == ["door_front_left"]


def test_blend_policy_always_blends_both_neighbours_and_says_why(shop, vesta):
    _rates(shop, blend_policy="always")
    result = _compute(
        shop, vesta, engine.Damage("door_front_left", "dent", "2"), paint_type="solid"
    )
    assert _parts(result) == ["door_front_left", "door_rear_left", "wing_front_left"]
    for blend in result.lines[1:]:
        assert "в переход" in blend.notes[0] and "так принято в сервисе" in blend.notes[0]


@pytest.mark.parametrize(
    ("paint_type", "blended", "reason"),
    [
        ("solid", False, ""),
        ("metallic", True, "у металлика"),
        ("pearl", True, "у перламутра"),
        ("unknown", True, "тип краски не указан, посчитали как металлик"),
    ],
)
def test_blend_policy_metallic_follows_the_paint(shop, vesta, paint_type, blended, reason):
    _rates(shop, blend_policy="metallic")
    result = _compute(
        shop, vesta, engine.Damage("door_front_left", "dent", "2"), paint_type=paint_type
    )
    if blended:
        assert len(result.lines) == 3
        assert all(reason in line.notes[0] for line in result.lines[1:])
    else:
        assert _parts(result) == ["door_front_left"]


def test_the_drivers_paint_choice_reaches_the_estimate(client, shop, vesta):
    _rates(shop, blend_policy="metallic")
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, vesta.pk, "sedan"])
    damage = {"kind_door_front_left": "dent", "size_door_front_left": "2"}
    solid = client.post(url, {**damage, "paint_type": "solid"}).content.decode()
    metallic = client.post(url, {**damage, "paint_type": "metallic"}).content.decode()
    assert "в переход" not in solid and "в переход" in metallic


# --- Broken parts need no size ----------------------------------------------------------


def test_a_broken_lamp_is_priced_without_a_size(client, shop, polo):
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, polo.pk, "sedan"])
    response = client.post(url, {"kind_taillamp_left": "broken"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-part="taillamp_left"' in html and "замена" in html
    assert "ладон" not in html.split('data-part="taillamp_left"')[1].split("</li>")[0]


def test_a_size_sent_with_a_broken_part_is_ignored(client, shop, polo):
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, polo.pk, "sedan"])
    without = client.post(url, {"kind_taillamp_left": "broken"}).content.decode()
    with_size = client.post(
        url, {"kind_taillamp_left": "broken", "size_taillamp_left": "4"}
    ).content.decode()
    total = re.compile(r'data-total="([^"]+)"')
    assert total.search(without).group(1) == total.search(with_size).group(1)


def test_a_dent_still_needs_its_size(client, shop, polo):
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, polo.pk, "sedan"])
    html = client.post(url, {"kind_door_front_left": "dent"}).content.decode()
    assert "Укажите размер повреждения в ладонях" in html


# --- Plain Russian for drivers -------------------------------------------------------------


def test_drivers_read_norm_hours_written_out_with_comma_decimals(client, shop, polo):
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, polo.pk, "sedan"])
    html = client.post(
        url,
        {
            "kind_door_front_left": "dent",
            "size_door_front_left": "2",
            "kind_bumper_front": "crack",
            "size_bumper_front": "1",
        },
    ).content.decode()
    assert "нормо-час" in html
    assert re.search(r"\d,\d+ нормо-часа", html)
    assert "н/ч" not in html
    assert not re.search(r"\d\.\d+ нормо", html)
    assert "Р1" not in html and "Р2" not in html and "категори" not in html


def test_staff_see_the_repair_category(advisor_client, shop):
    estimate = EstimateFactory(shop=shop)
    html = advisor_client.get(
        reverse("smartcalc:estimate_detail", args=[estimate.pk])
    ).content.decode()
    assert "категория Р" in html


# --- Europrotocol: what the insurer pays ------------------------------------------------------


def test_wear_follows_the_exponential_formula_and_stops_at_half():
    assert wear_pct(0) == 0
    # Ω = (0.07 + 0.0035 × 15) × 3 = 0.3675; 100 × (1 − e^−0.3675) = 30.76 → 31.
    assert wear_pct(3) == 31
    assert wear_pct(10) == 50  # 71 by the formula, capped at 50 by 40-ФЗ ст. 12


def test_insurer_payout_range_deducts_wear_from_parts_only():
    payout = insurer_payout(
        {"parts_rub": "10000.00", "total_rub": "30000.00"},
        year_from=2017,
        year_to=2022,
        on=dt.date(2026, 11, 30),
    )
    assert (payout.age_low, payout.age_high) == (4, 9)
    # Age 4: Ω = 0.1225 × 4 = 0.49 → 38.74 → 39 %; age 9: Ω = 1.1025 → 66.8 → 50 %.
    assert (payout.wear_low_pct, payout.wear_high_pct) == (39, 50)
    # High: work 20 000 + parts 10 000 × 0.61 = 26 100.
    assert payout.high_rub == D("26100.00")
    # Low: 20 000 × 0.55 + 10 000 × 0.85 × 0.50 = 11 000 + 4 250 = 15 250 → 15 300.
    assert payout.low_rub == D("15300.00")


def test_the_driver_sees_the_insurers_approximate_payout_next_to_the_price(client, shop, polo):
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, polo.pk, "sedan"])
    html = client.post(url, {"kind_bumper_front": "broken"}).content.decode()
    assert "Единой методике" in html and "755-П" in html
    assert "до&nbsp;50&nbsp;%" in html
    assert "Выплата страховщика, примерно" in html and "payout-range" in html


# --- Old estimates re-show exactly ---------------------------------------------------------


def test_an_estimate_saved_before_tax_regimes_shows_its_old_vat_exactly(client, shop):
    estimate = EstimateFactory(shop=shop)
    version = estimate.versions.get()
    old = dict(version.result)
    for key in [k for k in old if k.startswith(("vat_", "alternative_vat_", "tax_"))]:
        del old[key]
    old.update(
        vat_percent="22",
        vat_rub="9999.99",
        total_rub=str(D(old["subtotal_rub"]) + D("9999.99")),
    )
    version.result = old
    version.save()

    html = client.get(
        reverse("smartcalc:calc_result", args=[shop.slug, estimate.public_token])
    ).content.decode()
    assert "НДС 22 %" in html and "9\u202f999,99" in html
    assert f'data-total="{old["total_rub"]}"' in html


# --- Pearl paint costs more to paint ---------------------------------------------------------


def test_pearl_paint_takes_longer_and_more_material():
    tech = engine.TechData(
        version="pearl-test",
        body_factor=D("1"),
        paint_factor=D("1"),
        norms={
            "door_front_left": engine.Norm(
                repair_h=(D("1"), D("2"), D("3")),
                paint_repair_small_h=D("2"),
                material_repair_small=D("2"),
            )
        },
    )
    rates = engine.Rates(
        body_rate_rub=D("2000"),
        paint_rate_rub=D("2000"),
        material_unit_rub=D("1000"),
        blend_policy="never",
    )
    damage = [engine.Damage("door_front_left", "dent", "1")]
    metallic = engine.compute_estimate(
        damages=damage, tech=tech, prices={}, rates=rates, paint_type="metallic"
    )
    pearl = engine.compute_estimate(
        damages=damage, tech=tech, prices={}, rates=rates, paint_type="pearl"
    )
    # Metallic: 1 h × 2 000 + 2 h × 2 000 + 2 units × 1 000 = 8 000.
    assert metallic.total_rub == D("8000.00")
    # Pearl: paint 2 × 1.25 = 2.5 h × 2 000 = 5 000; materials 2 × 1.4 = 2.8 × 1 000 = 2 800.
    assert pearl.total_rub == D("9800.00")
    assert any("Перламутр" in note for note in pearl.lines[0].notes)
