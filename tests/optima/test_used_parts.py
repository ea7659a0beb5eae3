"""Used and clearance parts are marked, kept out of the "new" options and the 30 % rule, and
offered only where the shop allows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from optima import offers, selectors, services
from optima.models import SupplierAnswer
from optima.suppliers import Offer
from tests.factories import LeadFactory, OptimaSearchFactory, SupplierFactory

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _offer(*, brand: str, price: str, condition: str = "new", wear: int | None = None, key: str):
    return Offer(
        supplier="1",
        brand_raw=brand,
        number_raw="86511-H5000",
        brand=brand,
        number_key="86511H5000",
        name="Бампер передний Hyundai Solaris II",
        is_cross=brand != "HYUNDAI/KIA",
        quality="original" if brand == "HYUNDAI/KIA" else "aftermarket",
        price_rub=Decimal(price),
        currency_raw="RUB",
        qty=2,
        qty_min=2,
        qty_on_order=False,
        multiple=1,
        delivery_days_min=1,
        delivery_days_max=1,
        delivery_probability=95,
        warehouse_id="MSK1",
        warehouse_name="Москва",
        own_stock=True,
        returnable=condition == "new",
        warranty_months=12,
        order_ref={"itemKey": key},
        fetched_at=NOW,
        condition=condition,
        wear_pct=wear,
    )


@pytest.fixture
def search(shop):
    supplier = SupplierFactory(shop=shop, kind="abcp", base_url="http://127.0.0.1:9")
    search = OptimaSearchFactory(shop=shop, numbers=["86511H5000"], lead=LeadFactory(shop=shop))
    lines = [
        _offer(brand="HYUNDAI/KIA", price="24000", key="new-original"),
        _offer(brand="HYUNDAI/KIA", price="9000", condition="used", wear=35, key="used-original"),
        _offer(brand="SAT", price="8000", key="new-aftermarket"),
        _offer(brand="SAT", price="5000", condition="clearance", key="clearance"),
    ]
    SupplierAnswer.objects.create(
        search=search,
        supplier=supplier,
        number_key="86511H5000",
        state="answered",
        offers=[services.offer_json(offer) for offer in lines],
    )
    return search


def _rows(search):
    (block,), _states = selectors.search_table(search)
    return {row.offer["order_ref"]["itemKey"]: row for row in block.rows}


def test_used_and_clearance_parts_are_never_cheapest_or_recommended(search):
    rows = _rows(search)
    assert rows["used-original"].second_hand_excluded and rows["clearance"].second_hand_excluded
    # The cheapest new part is the cheapest; the used original (9 000) would have been the
    # "better part within 30 %" of it, but it is not new.
    assert rows["new-aftermarket"].is_cheapest
    assert not any(
        r.is_cheapest or r.is_fastest or r.is_recommended
        for k, r in rows.items()
        if k in ("used-original", "clearance")
    )


def test_an_offer_to_the_driver_has_new_parts_only(search, advisor):
    version = offers.offer_build(lead=search.lead, search=search, by=advisor)
    chosen = {o["order_ref"]["itemKey"] for p in version.positions for o in p["options"]}
    assert chosen and chosen <= {"new-original", "new-aftermarket"}
    assert {o["condition"] for p in version.positions for o in p["options"]} == {"new"}


def test_a_shop_that_allows_them_gets_them_like_any_part(search, advisor):
    rules = services.pricing_settings(search.shop)
    rules.allow_used_parts = True
    rules.save()
    rows = _rows(search)
    assert not rows["clearance"].second_hand_excluded and rows["clearance"].is_cheapest
    version = offers.offer_build(lead=search.lead, search=search, by=advisor)
    chosen = {o["order_ref"]["itemKey"]: o for p in version.positions for o in p["options"]}
    assert chosen["clearance"]["condition"] == "clearance"


def test_the_results_page_marks_used_clearance_and_the_wear(search, advisor_client):
    page = advisor_client.get(reverse("optima:parts_table", args=[search.pk])).content.decode()
    assert "б/у, износ 35 %" in page
    assert "уценка" in page
    assert page.count("не предлагается как новая деталь") == 2


def test_the_manager_turns_used_parts_on_in_the_pricing_rules(shop, manager_client):
    data = {
        "rules-round_to_rub": "10",
        "rules-search_deadline_s": "4",
        "rules-recommend_threshold_pct": "30",
        "rules-offer_valid_days": "3",
        "rules-allow_used_parts": "on",
        "markup-TOTAL_FORMS": "0",
        "markup-INITIAL_FORMS": "0",
    }
    assert manager_client.post(reverse("optima:suppliers"), data).status_code == 302
    assert services.pricing_settings(shop).allow_used_parts
    del data["rules-allow_used_parts"]
    assert manager_client.post(reverse("optima:suppliers"), data).status_code == 302
    assert not services.pricing_settings(shop).allow_used_parts


def test_what_the_supplier_asks_to_tell_is_shown_above_the_table(search, advisor_client):
    answer = SupplierAnswer.objects.get(search=search)
    answer.message = (
        "Предложений: 4. Armtek сообщает: Цены указаны без учёта доставки до пункта выдачи"
    )
    answer.save()
    page = advisor_client.get(reverse("optima:parts_table", args=[search.pk])).content.decode()
    assert "Цены указаны без учёта доставки до пункта выдачи" in page.split("number-block")[0]


def test_results_rows_carry_what_the_page_filters_on(search, advisor_client, shop):
    """The filter bar (rows_filter.js) reads brand, quality, stock and condition from the
    rows; it stays hidden without the script, and the «б/у» toggle starts as the shop's rule."""
    url = reverse("optima:parts_results", args=[search.pk])
    html = advisor_client.get(url).content.decode()
    rows = re.findall(r"<tr [^>]*data-brand=[^>]*>", html)
    assert len(rows) == 4
    assert any('data-condition="used"' in r and 'data-brand="HYUNDAI/KIA"' in r for r in rows)
    assert any('data-condition="clearance"' in r and 'data-brand="SAT"' in r for r in rows)
    bar = re.search(r"<div class=\"rows-filter\"[^>]*>", html).group(0)
    assert " hidden" in bar and 'data-target="parts-table"' in bar
    used_toggle = re.search(r'<input[^>]*name="f-used"[^>]*>', html).group(0)
    assert "checked" not in used_toggle
    rules = services.pricing_settings(shop)
    rules.allow_used_parts = True
    rules.save()
    html = advisor_client.get(url).content.decode()
    assert "checked" in re.search(r'<input[^>]*name="f-used"[^>]*>', html).group(0)
