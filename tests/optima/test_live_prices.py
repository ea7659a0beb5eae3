"""Live supplier prices in the driver's calculator: where the catalogue has a part's OEM number
and the shop opted in, the part is priced from its suppliers' answers at most 24 hours old,
with the shop's markup and the answer's date; otherwise the shop's list, then the reference
price, always saying which. A supplier is never asked during the driver's request."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from optima import live_prices, services
from optima.demo_supplier import start_in_thread
from optima.models import KnownPrice, MarkupRule, PricingSettings, SupplierRequestCount
from optima.suppliers import Offer
from smartcalc import engine, part_prices, techdata
from smartcalc import selectors as calc_selectors
from smartcalc import services as calc_services
from smartcalc.models import Generation, ShopPartPrice
from tests.factories import SupplierFactory
from tests.optima.contract_replay import Replay

D = Decimal
BUMPER = "6RU807221A"  # the Polo sedan's front bumper in the shipped catalogue
HEADLAMP = "6RU941015"  # the Polo sedan's left headlamp: also in the demo suppliers' catalogue


@pytest.fixture
def polo(db):
    return Generation.objects.select_related("model").get(
        model__make__name="Volkswagen", model__name="Polo", name="седан"
    )


def _opt_in(shop, on: bool = True, **values) -> PricingSettings:
    rules = services.pricing_settings(shop)
    rules.show_supplier_prices_to_drivers = on
    for name, value in values.items():
        setattr(rules, name, value)
    rules.save()
    return rules


def _offer(*, brand: str, number: str, price: str, fetched_at, cross: bool = False, **extra):
    return Offer(
        supplier="1",
        brand_raw=brand,
        number_raw=number,
        brand=brand,
        number_key=number,
        name="Бампер передний VW Polo седан",
        is_cross=cross,
        quality="aftermarket" if cross else "original",
        price_rub=D(price),
        currency_raw="RUB",
        qty=extra.pop("qty", 3),
        qty_min=0,
        qty_on_order=False,
        multiple=1,
        delivery_days_min=1,
        delivery_days_max=2,
        delivery_probability=95,
        warehouse_id="MSK1",
        warehouse_name="Москва",
        own_stock=True,
        returnable=True,
        warranty_months=12,
        order_ref={"itemKey": f"{brand}-{price}"},
        fetched_at=fetched_at,
        **extra,
    )


def _answer(supplier, number: str, offers, *, hours_ago: float) -> KnownPrice:
    """A supplier's answer stored as a search stores it (services.known_price_remember)."""
    when = timezone.now() - dt.timedelta(hours=hours_ago)
    services.known_price_remember(
        supplier=supplier,
        number=number,
        payload={
            "state": "answered",
            "offers": [
                services.offer_json(o)
                for o in offers(lambda **kw: _offer(fetched_at=when, **kw), number)
            ],
            "fetched_at": when.isoformat(),
        },
    )
    return KnownPrice.objects.get(supplier=supplier, number_key=number)


def _bumper_offers(make, number):
    return [
        make(brand="VAG", number=number, price="20000"),
        make(brand="VAG", number=number, price="18000", qty=0),  # nothing on the shelf
        make(brand="VAG", number=number, price="9000", condition="used", wear_pct=30),
        make(brand="SAT", number="ST6RU807221", price="7000", cross=True),
    ]


def _bumper_line(shop, polo):
    estimate = calc_services.estimate_compute(
        shop=shop,
        generation=polo,
        body_type="sedan",
        damages=[engine.Damage("bumper_front", "broken", "")],
    )
    (line,) = [line for line in estimate.lines if line.part == "bumper_front"]
    return line


def test_a_fresh_answer_prices_the_part_with_the_shops_markup_and_its_date(shop, polo):
    _opt_in(shop, round_to_rub=100)
    MarkupRule.objects.create(shop=shop, price_from_rub=0, markup_pct=D("25"))
    supplier = SupplierFactory(shop=shop, discount_pct=D("10"))
    memo = _answer(supplier, BUMPER, _bumper_offers, hours_ago=3)

    line = _bumper_line(shop, polo)
    # 20 000 list − 10 % discount = 18 000 purchase, + 25 % = 22 500 for the customer; the
    # cheaper line with no stock and the used part are not prices a driver can be given.
    assert line.part_rub == D("22500.00")
    assert line.price_source == engine.SOURCE_SUPPLIER and not line.price_approximate
    assert line.price_as_of == memo.fetched_at.astimezone(shop.tzinfo).date().isoformat()
    # The analogue from the same answer: 7 000 − 10 % = 6 300, + 25 % → 7 900 (step 100).
    assert line.alternative_part_rub == D("7900.00")
    assert line.oem_number == BUMPER


def test_an_answer_older_than_a_day_falls_back_to_the_shops_list_then_the_reference(shop, polo):
    _opt_in(shop)
    supplier = SupplierFactory(shop=shop)
    _answer(supplier, BUMPER, _bumper_offers, hours_ago=25)

    line = _bumper_line(shop, polo)
    assert line.price_source == engine.SOURCE_REFERENCE and line.price_approximate
    assert line.part_rub == D("32500.00")  # the reference row of the Polo sedan

    ShopPartPrice.objects.create(
        shop=shop, vehicle_model=polo.model, part="bumper_front", original_rub=D("30000")
    )
    line = _bumper_line(shop, polo)
    assert line.price_source == engine.SOURCE_PRICE_LIST and line.part_rub == D("30000.00")
    # The shop's row has no number of its own: the catalogue's is kept, so a fresh answer
    # still wins over the shop's list.
    assert line.oem_number == BUMPER
    _answer(supplier, BUMPER, _bumper_offers, hours_ago=1)
    assert _bumper_line(shop, polo).price_source == engine.SOURCE_SUPPLIER


def test_a_shop_that_did_not_opt_in_never_shows_supplier_prices(shop, polo):
    _opt_in(shop, on=False)
    _answer(SupplierFactory(shop=shop), BUMPER, _bumper_offers, hours_ago=1)
    line = _bumper_line(shop, polo)
    assert line.price_source == engine.SOURCE_REFERENCE and line.part_rub == D("32500.00")


def test_another_shops_supplier_answers_never_price_this_shops_estimate(shop, other_shop, polo):
    _opt_in(shop)
    _opt_in(other_shop)
    _answer(SupplierFactory(shop=other_shop), BUMPER, _bumper_offers, hours_ago=1)
    assert _bumper_line(shop, polo).price_source == engine.SOURCE_REFERENCE
    assert _bumper_line(other_shop, polo).price_source == engine.SOURCE_SUPPLIER


def test_an_inactive_supplier_or_an_unsold_part_gives_no_price(shop, polo):
    _opt_in(shop)
    supplier = SupplierFactory(shop=shop, is_active=False)
    _answer(supplier, BUMPER, _bumper_offers, hours_ago=1)
    assert _bumper_line(shop, polo).price_source == engine.SOURCE_REFERENCE
    active = SupplierFactory(shop=shop)
    _answer(
        active, BUMPER, lambda make, n: [make(brand="VAG", number=n, price="1", qty=0)], hours_ago=1
    )
    assert _bumper_line(shop, polo).price_source == engine.SOURCE_REFERENCE


def test_supplier_prices_get_vat_as_the_shops_supplier_setting_says(shop, polo):
    _opt_in(shop, round_to_rub=1)
    _answer(SupplierFactory(shop=shop), BUMPER, _bumper_offers, hours_ago=1)
    rates = techdata.shop_rates(shop)
    rates.tax_regime = "osn_22"
    rates.price_list_includes_vat = True
    rates.supplier_prices_include_vat = False
    rates.save()
    line = _bumper_line(shop, polo)
    assert line.price_source == engine.SOURCE_SUPPLIER and line.part_rub == D("20000.00")
    # The part's 20 000 excludes VAT: 22 % on top of it; the labour (rates with VAT) none.
    assert line.vat_on_top_rub == D("4400.00")


def test_the_engine_asks_every_registered_provider_once_per_estimate(shop, polo):
    calls = []

    def provider(shop_, model, generation, queries):
        calls.append({q.part: q.oem_number for q in queries})
        return {
            "bumper_front": part_prices.LivePrice(
                original_rub=D("12345"), alternative_rub=None, as_of=timezone.now()
            ),
            "bonnet": part_prices.LivePrice(  # not asked for this damage: never used
                original_rub=D("1"), alternative_rub=None, as_of=timezone.now()
            ),
        }

    part_prices.provider_register(provider)
    try:
        line = _bumper_line(shop, polo)
    finally:
        part_prices.provider_unregister(provider)
    assert len(calls) == 1 and calls[0]["bumper_front"] == BUMPER
    assert line.part_rub == D("12345.00") and line.price_source == engine.SOURCE_SUPPLIER


def test_a_failing_provider_leaves_the_reference_price(shop, polo):
    def broken(*args):
        raise RuntimeError("boom")

    part_prices.provider_register(broken)
    try:
        line = _bumper_line(shop, polo)
    finally:
        part_prices.provider_unregister(broken)
    assert line.price_source == engine.SOURCE_REFERENCE


def test_the_driver_sees_which_source_priced_each_part(client, shop, polo, settings):
    # The estimate computed each time (not from the page cache): its queries are counted.
    settings.PAGE_CACHE_SECONDS = 0
    with Replay({}) as supplier_api:  # records every request that reaches the supplier
        _driver_sees_sources(client, shop, polo, supplier_api.url)
    assert supplier_api.seen == []  # the driver's request never asked a supplier


def _driver_sees_sources(client, shop, polo, supplier_url):
    _opt_in(shop)
    _answer(SupplierFactory(shop=shop, base_url=supplier_url), BUMPER, _bumper_offers, hours_ago=1)
    ShopPartPrice.objects.create(
        shop=shop, vehicle_model=polo.model, part="bonnet", original_rub=D("41000")
    )
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, polo.pk, "sedan"])
    three = {"kind_bumper_front": "broken", "kind_bonnet": "broken", "kind_headlamp_left": "broken"}
    client.post(url, three)  # the process's technology data cache is warm from here on
    with CaptureQueriesContext(connection) as one_part:
        client.post(url, {"kind_bumper_front": "broken"})
    with CaptureQueriesContext(connection) as three_parts:
        html = client.post(url, three).content.decode()
    # The live prices cost a fixed number of queries, whatever the number of parts.
    assert len(three_parts.captured_queries) == len(one_part.captured_queries)
    as_of = KnownPrice.objects.get().fetched_at.astimezone(shop.tzinfo).strftime("%d.%m")
    assert f"цена поставщика на {as_of}" in html
    assert "прайс сервиса" in html and "справочная цена" in html
    sources = dict(re.findall(r'data-part="(\w+)".*?data-source="(\w+)"', html, re.S))
    assert sources == {
        "bumper_front": "supplier",
        "bonnet": "price_list",
        "headlamp_left": "reference",
    }


# --- filled by searches and by the daily refresh -------------------------------------------


@pytest.fixture
def demo():
    handle = start_in_thread(seed=4, name="Демо ABCP")
    yield handle
    handle.stop()


def _demo_supplier(shop, demo, **options):
    return SupplierFactory(
        shop=shop,
        kind="abcp",
        base_url=demo.url,
        login=demo.config.login,
        secret=demo.config.password,
        options={"use_online_stocks": True, **options},
    )


@pytest.mark.timeout(60)
def test_a_parts_search_keeps_its_answer_for_the_calculator(
    shop, polo, demo, django_capture_on_commit_callbacks
):
    _opt_in(shop)
    supplier = _demo_supplier(shop, demo)
    with django_capture_on_commit_callbacks(execute=True):
        services.search_start(shop=shop, by=None, numbers=[HEADLAMP])
    memo = KnownPrice.objects.get(supplier=supplier, number_key=HEADLAMP)
    assert memo.offers and all(o["fetched_at"] for o in memo.offers)
    estimate = calc_services.estimate_compute(
        shop=shop,
        generation=polo,
        body_type="sedan",
        damages=[engine.Damage("headlamp_left", "broken", "")],
    )
    assert estimate.lines[0].price_source == engine.SOURCE_SUPPLIER


@pytest.mark.timeout(120)
def test_the_daily_refresh_asks_for_the_catalogue_numbers_within_half_the_quota(
    shop, other_shop, demo
):
    _opt_in(shop)
    limited = _demo_supplier(shop, demo, daily_request_limit=40)
    elsewhere = _demo_supplier(other_shop, demo)  # the other shop did not opt in
    counts = live_prices.live_prices_refresh()
    # At most half of the 40 requests: 5 numbers at 4 requests reserved each.
    used = SupplierRequestCount.objects.get(supplier=limited, day=services.quota_day()).requests
    assert 0 < used <= 20
    assert counts["skipped_quota"] > 0
    assert KnownPrice.objects.filter(supplier=limited).count() == counts["asked"] >= 5
    assert not KnownPrice.objects.filter(supplier=elsewhere).exists()
    # A second run the same day asks nothing more: what it has is fresh, the rest over quota.
    again = live_prices.live_prices_refresh()
    assert again["asked"] == 0


def test_the_daily_refresh_stops_asking_at_its_time_budget(shop):
    _opt_in(shop)
    supplier = SupplierFactory(shop=shop)  # its address answers nothing: never reached
    numbers = [services.numbers_parse(n)[0] for n in calc_selectors.catalogue_oem_numbers(shop)]
    counts = live_prices.live_prices_refresh(budget_s=0)
    assert counts["skipped_time"] == len(numbers) and counts["asked"] == 0
    assert not KnownPrice.objects.filter(supplier=supplier).exists()


@pytest.mark.timeout(120)
def test_an_abcp_supplier_that_allows_batches_is_refreshed_in_one_search_batch_call(shop, demo):
    _opt_in(shop)
    supplier = _demo_supplier(shop, demo, batch=True, daily_request_limit=1000)
    # Two more numbers the demo supplier sells, in the shop's own price list.
    for part, number in (("bumper_front", "6RU807221"), ("bonnet", "6RU823031")):
        ShopPartPrice.objects.create(
            shop=shop,
            vehicle_model=Generation.objects.get(
                model__make__name="Volkswagen", model__name="Polo", name="седан"
            ).model,
            part=part,
            oem_number=number,
            original_rub=D("30000"),
        )
    due = [HEADLAMP, "6RU807221", "6RU823031"]
    for number in calc_selectors.catalogue_oem_numbers(shop):
        key = services.numbers_parse(number)[0]
        if key in due:  # searched two days ago: the brand is known, the price is not fresh
            result = services.supplier_ask(
                supplier=supplier, number=key, deadline=time.monotonic() + 5
            )
            assert result.state == "answered", result.message
            services.known_price_remember(
                supplier=supplier,
                number=key,
                payload={
                    "offers": [services.offer_json(o) for o in result.offers],
                    "fetched_at": (timezone.now() - dt.timedelta(days=2)).isoformat(),
                },
            )
        else:  # fresh: not asked again
            _answer(supplier, key, lambda make, n: [], hours_ago=1)
    crosses_before = {
        m.number_key: [o for o in m.offers if o["is_cross"]]
        for m in KnownPrice.objects.filter(supplier=supplier, number_key__in=due)
    }
    SupplierRequestCount.objects.all().delete()

    counts = live_prices.live_prices_refresh()

    assert counts == {
        "asked": 0,
        "batched": 3,
        "skipped_quota": 0,
        "skipped_time": 0,
        "errors": 0,
    }
    # One search/batch call for the three numbers, counted against the daily quota.
    assert SupplierRequestCount.objects.get(supplier=supplier).requests == 1
    for memo in KnownPrice.objects.filter(supplier=supplier, number_key__in=due):
        assert timezone.now() - memo.fetched_at < dt.timedelta(minutes=1)
        fresh = [o for o in memo.offers if not o["is_cross"]]
        assert fresh and all(o["number_key"] == memo.number_key for o in fresh)
        # search/batch gives no analogues: those of the last full answer stay, with their date.
        assert [o for o in memo.offers if o["is_cross"]] == crosses_before[memo.number_key]
