"""The offer taxes as the estimate does: under the shop's regime the customer's price of a
part gets VAT on top when supplier prices exclude it, or shows the VAT inside it when they
include it; a price the advisor types is final, VAT inside. Worked by hand below."""

from __future__ import annotations

from decimal import Decimal

from optima import offers
from optima.selectors import search_table
from smartcalc.models import ShopRates
from tests.factories import LeadFactory
from tests.optima.test_offer_builder import _offer, _search, _suppliers


def _regime(shop, regime: str, *, supplier_prices_include_vat: bool) -> None:
    rates, _ = ShopRates.objects.get_or_create(shop=shop)
    rates.tax_regime = regime
    rates.supplier_prices_include_vat = supplier_prices_include_vat
    rates.save()
    shop.__dict__.pop("_calc_rates", None)


def _built(shop, advisor):
    moscow, _europe = _suppliers(shop)
    lead = LeadFactory(shop=shop)
    search = _search(
        shop, lead, {moscow: {"12345": [_offer("HYUNDAI", "12345", 10000, 1, "original")]}}
    )
    (block,), _states = search_table(search, sort="price")
    before_tax = block.rows[0].price.customer_rub  # the shop's price for the part, as priced
    version = offers.offer_build(lead=lead, search=search, by=advisor)
    return version, before_tax


def test_vat_on_top_of_supplier_prices_without_it(shop, advisor):
    _regime(shop, "osn_22", supplier_prices_include_vat=False)
    version, before_tax = _built(shop, advisor)
    option = version.positions[0]["options"][0]
    # 22 % on top: X + 0,22·X, the VAT being 0,22·X (rounded to the kopeck once).
    vat = (before_tax * Decimal("0.22")).quantize(Decimal("0.01"))
    assert Decimal(option["customer_rub"]) == before_tax + vat
    assert Decimal(option["vat_rub"]) == vat

    # The advisor's own line of 12 200,00 ₽ is final: VAT inside is 12 200 · 22 / 122 = 2 200.
    offers.offer_labour_set(version=version, lines=[("Ремонт бампера", Decimal("12200"))])
    totals = offers.offer_totals(version, {"0": 0})
    assert totals.total_rub == before_tax + vat + Decimal("12200.00")
    assert totals.vat_rub == vat + Decimal("2200.00")
    # The VAT added on top goes to the budget, not into the shop's margin.
    assert totals.margin_rub == before_tax - Decimal(option["purchase_rub"])


def test_vat_inside_supplier_prices_that_include_it(shop, advisor):
    _regime(shop, "usn_5", supplier_prices_include_vat=True)
    version, before_tax = _built(shop, advisor)
    option = version.positions[0]["options"][0]
    # Nothing added; the 5 % inside is X · 5 / 105.
    assert Decimal(option["customer_rub"]) == before_tax
    assert Decimal(option["vat_rub"]) == (before_tax * 5 / 105).quantize(Decimal("0.01"))


def test_no_vat_for_a_shop_exempt_from_it(shop, advisor):
    _regime(shop, "usn_none", supplier_prices_include_vat=False)
    version, before_tax = _built(shop, advisor)
    option = version.positions[0]["options"][0]
    assert Decimal(option["customer_rub"]) == before_tax
    assert Decimal(option["vat_rub"]) == 0
    assert offers.offer_totals(version, {"0": 0}).vat_rub == 0
