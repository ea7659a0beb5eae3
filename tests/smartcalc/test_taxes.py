"""Taxes the Russian way: one estimate worked by hand under every regime (ОСН 22 %, УСН with
VAT 5 % and 7 %, УСН without VAT, no regime chosen yet), prices that include VAT or not by
their source, VAT rounded per line or once on the total; and properties that hold for any
damages and settings: a total with VAT included is the sum of the lines, nothing is taxed twice.

The data below is written out so that every amount can be recomputed by hand from this file."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from autoservice.money import quantize_rub
from smartcalc.engine import Damage, Norm, PartPrice, Rates, Tax, TechData, compute_estimate

D = Decimal

TECH = TechData(
    version="tax-test",
    body_factor=D("1"),
    paint_factor=D("1"),
    norms={
        "door_front_left": Norm(
            replace_h=D("3"),
            repair_h=(D("1"), D("2"), D("3")),
            paint_new_h=D("2.5"),
            paint_repair_small_h=D("2"),
            paint_repair_large_h=D("2.5"),
            material_new=D("2.5"),
            material_repair_small=D("2"),
            material_repair_large=D("2.5"),
        ),
        "bumper_front": Norm(
            replace_h=D("1"),
            repair_h=(D("1"), D("2"), D("3.5")),
            paint_new_h=D("2"),
            paint_repair_small_h=D("2"),
            paint_repair_large_h=D("2.5"),
            material_new=D("2"),
            material_repair_small=D("2"),
            material_repair_large=D("2.5"),
        ),
        "headlamp_left": Norm(replace_h=D("0.5")),
    },
)
PRICES = {
    # The shop's own price-list price of the bumper.
    "bumper_front": PartPrice(D("12200")),
    # The platform's reference price of the lamp: a retail price, VAT included.
    "headlamp_left": PartPrice(D("6100"), approximate=True),
}
DAMAGES = [
    # Dent up to one palm, repaired: labour 1 h × 2 000 + paint 2 h × 2 000 + materials
    # 2 units × 1 000 = 8 000.
    Damage("door_front_left", "dent", "1"),
    # Broken bumper, replaced and painted: 1 h × 2 000 + 2 h × 2 000 + 2 × 1 000 = 8 000
    # work + 12 200 part = 20 200.
    Damage("bumper_front", "broken", ""),
    # Broken lamp, replaced: 0.5 h × 2 000 = 1 000 work + 6 100 reference part = 7 100.
    Damage("headlamp_left", "broken", ""),
]
SUBTOTAL = D("35300.00")  # 8 000 + 20 200 + 7 100


def rates(**tax) -> Rates:
    return Rates(
        body_rate_rub=D("2000"),
        paint_rate_rub=D("2000"),
        material_unit_rub=D("1000"),
        tax=Tax(**tax),
        blend_policy="never",
    )


def compute(**tax):
    return compute_estimate(damages=DAMAGES, tech=TECH, prices=PRICES, rates=rates(**tax))


def test_lines_as_priced_are_the_same_under_every_regime():
    result = compute()
    assert [line.subtotal_rub for line in result.lines] == [D("8000"), D("20200"), D("7100")]
    assert result.subtotal_rub == SUBTOTAL


def test_osn_22_with_prices_including_vat_states_the_vat_inside_the_total():
    result = compute(regime="osn_22", vat_percent=D("22"))

    # Nothing is added: the customer pays the prices as listed.
    assert result.total_rub == SUBTOTAL == sum(line.total_rub for line in result.lines)
    assert result.vat_on_top_rub == D("0.00")
    assert result.vat_display == "included"
    # Per line: 8 000 × 22/122 = 1 442.62; 20 200 × 22/122 = 3 642.62;
    # 7 100 × 22/122 = 1 280.33 → 6 365.57 (on the total: 35 300 × 22/122 = 6 365.57 too).
    assert [line.vat_included_rub for line in result.lines] == [
        D("1442.62"),
        D("3642.62"),
        D("1280.33"),
    ]
    assert result.vat_in_total_rub == D("6365.57")


def test_osn_22_on_top_adds_vat_to_the_shops_prices_but_not_to_reference_prices():
    result = compute(
        regime="osn_22",
        vat_percent=D("22"),
        rates_include_vat=False,
        price_list_includes_vat=False,
    )

    # On top: door 8 000 × 0.22 = 1 760; bumper 20 200 × 0.22 = 4 444; lamp's work only
    # 1 000 × 0.22 = 220 — its 6 100 reference price already holds 6 100 × 22/122 = 1 100.
    assert [line.vat_on_top_rub for line in result.lines] == [D("1760"), D("4444"), D("220")]
    assert result.lines[2].vat_included_rub == D("1100.00")
    assert result.vat_on_top_rub == D("6424.00")  # 1 760 + 4 444 + 220
    assert result.total_rub == D("41724.00")  # 35 300 + 6 424
    assert result.vat_in_total_rub == D("7524.00")  # 6 424 on top + 1 100 inside
    assert result.vat_display == "mixed"


def test_osn_22_all_on_top_shows_vat_on_top():
    result = compute_estimate(
        damages=DAMAGES[:2],
        tech=TECH,
        prices=PRICES,
        rates=rates(
            regime="osn_22",
            vat_percent=D("22"),
            rates_include_vat=False,
            price_list_includes_vat=False,
        ),
    )

    assert result.subtotal_rub == D("28200.00")  # 8 000 + 20 200
    assert result.vat_on_top_rub == result.vat_in_total_rub == D("6204.00")  # × 0.22
    assert result.total_rub == D("34404.00")
    assert result.vat_display == "on_top"


def test_usn_5_with_prices_including_vat():
    result = compute(regime="usn_5", vat_percent=D("5"))

    # 8 000 × 5/105 = 380.95; 20 200 × 5/105 = 961.90; 7 100 × 5/105 = 338.10.
    assert [line.vat_included_rub for line in result.lines] == [
        D("380.95"),
        D("961.90"),
        D("338.10"),
    ]
    assert result.vat_in_total_rub == D("1680.95")
    assert result.total_rub == SUBTOTAL
    assert result.vat_percent == D("5")


def test_usn_7_on_top_of_the_shops_prices():
    result = compute(
        regime="usn_7",
        vat_percent=D("7"),
        rates_include_vat=False,
        price_list_includes_vat=False,
    )

    # On top: 8 000 × 0.07 = 560; 20 200 × 0.07 = 1 414; lamp work 1 000 × 0.07 = 70.
    # Inside the reference lamp: 6 100 × 7/107 = 399.065… → 399.07.
    assert result.vat_on_top_rub == D("2044.00")
    assert result.total_rub == D("37344.00")  # 35 300 + 2 044
    assert result.vat_in_total_rub == D("2443.07")  # 2 044 + 399.07


def test_usn_without_vat_shows_prices_as_they_are():
    result = compute(regime="usn_none")

    assert result.total_rub == SUBTOTAL
    assert result.vat_percent is None
    assert result.vat_on_top_rub == result.vat_in_total_rub == D("0.00")
    assert result.vat_display == "none"


def test_no_regime_chosen_prices_without_taxes():
    result = compute()

    assert result.total_rub == SUBTOTAL
    assert result.vat_display == "unset"
    assert result.tax_regime == ""


def test_rounding_per_line_or_once_on_the_total_as_the_shop_sets():
    tax = {
        "regime": "usn_5",
        "vat_percent": D("5"),
        "rates_include_vat": False,
        "price_list_includes_vat": False,
    }
    # A body rate of 2 000.10: door 2 000.10 + 4 000 + 2 000 = 8 000.10 → × 0.05 = 400.005;
    # bumper 20 200.10 → 1 010.005; lamp work 0.5 × 2 000.10 = 1 000.05 → 50.0025.
    per_line = compute_estimate(
        damages=DAMAGES,
        tech=TECH,
        prices=PRICES,
        rates=dataclasses.replace(rates(**tax, rounding="line"), body_rate_rub=D("2000.10")),
    )
    on_total = compute_estimate(
        damages=DAMAGES,
        tech=TECH,
        prices=PRICES,
        rates=dataclasses.replace(rates(**tax, rounding="total"), body_rate_rub=D("2000.10")),
    )

    assert per_line.subtotal_rub == on_total.subtotal_rub == D("35300.25")
    # Per line: 400.01 + 1 010.01 + 50.00 = 1 460.02.
    assert per_line.vat_on_top_rub == D("1460.02")
    assert per_line.total_rub == sum(line.total_rub for line in per_line.lines)
    # On the total: 29 200.25 (the shop's prices) × 0.05 = 1 460.0125 → 1 460.01.
    assert on_total.vat_on_top_rub == D("1460.01")
    assert on_total.total_rub == D("36760.26")  # 35 300.25 + 1 460.01


# --- Properties ------------------------------------------------------------------------

money = st.decimals(min_value=D("1000"), max_value=D("90000"), places=2)
regimes = st.sampled_from([("osn_22", D("22")), ("usn_5", D("5")), ("usn_7", D("7"))])
damage_lists = st.lists(
    st.sampled_from(
        [
            Damage("door_front_left", "dent", "1"),
            Damage("door_front_left", "dent", "4"),
            Damage("door_front_left", "broken", ""),
            Damage("bumper_front", "broken", ""),
            Damage("bumper_front", "crack", "2"),
            Damage("headlamp_left", "broken", ""),
        ]
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda d: d.part,
)
prices = st.fixed_dictionaries(
    {
        "door_front_left": st.builds(PartPrice, money, approximate=st.booleans()),
        "bumper_front": st.builds(PartPrice, money, money | st.none(), approximate=st.booleans()),
        "headlamp_left": st.builds(PartPrice, money, approximate=st.booleans()),
    }
)
rates_money = st.decimals(min_value=D("500"), max_value=D("6000"), places=2)


@settings(max_examples=150, deadline=None)
@given(
    damages=damage_lists,
    prices=prices,
    regime=regimes,
    rounding=st.sampled_from(["line", "total"]),
    body=rates_money,
    paint=rates_money,
)
def test_with_vat_included_the_total_is_the_sum_of_the_lines(
    damages, prices, regime, rounding, body, paint
):
    tax = Tax(regime=regime[0], vat_percent=regime[1], rounding=rounding)
    result = compute_estimate(
        damages=damages,
        tech=TECH,
        prices=prices,
        rates=Rates(body_rate_rub=body, paint_rate_rub=paint, material_unit_rub=body, tax=tax),
    )

    assert result.vat_on_top_rub == 0
    assert (
        result.total_rub == result.subtotal_rub == sum(line.subtotal_rub for line in result.lines)
    )
    assert result.alternative_total_rub == result.alternative_subtotal_rub
    # The VAT stated is the rate's share of the total, rounded once per line or on the total.
    exact = result.total_rub * regime[1] / (100 + regime[1])
    tolerance = D("0.005") * (len(result.lines) if rounding == "line" else 1)
    assert abs(result.vat_in_total_rub - exact) <= tolerance


@settings(max_examples=150, deadline=None)
@given(
    damages=damage_lists,
    prices=prices,
    regime=regimes,
    rounding=st.sampled_from(["line", "total"]),
    rates_include=st.booleans(),
    list_includes=st.booleans(),
)
def test_nothing_is_taxed_twice(damages, prices, regime, rounding, rates_include, list_includes):
    tax = Tax(
        regime=regime[0],
        vat_percent=regime[1],
        rates_include_vat=rates_include,
        price_list_includes_vat=list_includes,
        rounding=rounding,
    )
    result = compute_estimate(
        damages=damages,
        tech=TECH,
        prices=prices,
        rates=Rates(
            body_rate_rub=D("2000"), paint_rate_rub=D("2000"), material_unit_rub=D("1000"), tax=tax
        ),
    )
    rate = regime[1]
    for line in result.lines:
        work = line.labour_rub + line.paint_rub + line.material_rub
        # VAT on top falls only on amounts whose source excludes VAT; a reference price
        # (retail, VAT included) never gets VAT on top.
        on_top_base = (D(0) if rates_include else work) + (
            D(0) if list_includes or line.price_approximate else line.part_rub
        )
        assert line.vat_on_top_rub == quantize_rub(on_top_base * rate / 100)
        assert line.total_rub == line.subtotal_rub + line.vat_on_top_rub
    # The VAT in the total is never more than the rate's share of the total.
    share = result.total_rub * rate / (100 + rate)
    assert result.vat_in_total_rub <= share + D("0.01") * len(result.lines)
    if rounding == "line":
        assert result.total_rub == sum(line.total_rub for line in result.lines)


# --- One amount for another app (the offer) ---------------------------------------------


def test_customer_price_follows_the_shops_regime_and_the_price_source(db, shop):
    from smartcalc.services import customer_price
    from smartcalc.techdata import shop_rates

    rates = shop_rates(shop)
    rates.tax_regime = "osn_22"
    rates.supplier_prices_include_vat = False
    rates.price_list_includes_vat = True
    rates.save()

    # Supplier price without VAT: 12 200 × 0.22 = 2 684 on top → 14 884.
    supplier = customer_price(shop=shop, amount_rub=D("12200"), source="supplier")
    assert (supplier.total_rub, supplier.vat_on_top_rub) == (D("14884.00"), D("2684.00"))
    # The shop's price list includes VAT: 12 200 × 22/122 = 2 200 inside, nothing added.
    listed = customer_price(shop=shop, amount_rub=D("12200"), source="price_list")
    assert (listed.total_rub, listed.vat_in_total_rub) == (D("12200.00"), D("2200.00"))
    # A reference price always includes VAT.
    assert customer_price(shop=shop, amount_rub=D("6100"), source="reference").vat_on_top_rub == 0

    rates.tax_regime = "usn_none"
    rates.save()
    exempt = customer_price(shop=shop, amount_rub=D("12200"), source="supplier")
    assert (exempt.total_rub, exempt.vat_in_total_rub) == (D("12200.00"), D("0.00"))


def test_driver_and_print_show_vat_on_top_and_inside_by_the_shops_settings(
    client, advisor_client, shop
):
    from django.urls import reverse

    from smartcalc.models import Generation
    from smartcalc.techdata import shop_rates
    from tests.factories import EstimateFactory

    rates = shop_rates(shop)
    rates.tax_regime = "osn_22"
    rates.rates_include_vat = False
    rates.save()
    solaris = Generation.objects.get(model__name="Solaris", popular=True)
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, solaris.pk, "sedan"])
    # A dent (the shop's rates, VAT on top) and a broken lamp at a reference price (VAT inside).
    html = client.post(
        url,
        {
            "kind_door_front_left": "dent",
            "size_door_front_left": "2",
            "kind_headlamp_left": "broken",
        },
    ).content.decode()
    assert "НДС 22 % сверху на цены без НДС" in html
    assert "в т.ч. НДС 22 %" in html

    estimate = EstimateFactory(
        shop=shop,
        damages=[Damage("door_front_left", "dent", "2"), Damage("headlamp_left", "broken", "")],
    )
    version = estimate.versions.get()
    assert version.result["vat_display"] == "mixed"
    printed = advisor_client.get(
        reverse("smartcalc:estimate_print", args=[estimate.pk, 1])
    ).content.decode()
    assert "НДС 22 % сверху" in printed and "в т.ч. НДС 22 %" in printed
    assert D(version.result["total_rub"]) == D(version.result["subtotal_rub"]) + D(
        version.result["vat_on_top_rub"]
    )
