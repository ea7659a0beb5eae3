"""The Autoeuro adapter against the documented answer shapes (tests/optima/contracts/autoeuro/,
each file's source cited in its README: the typed clients LX4777/autoeuro-api-client
src/types/Response.ts and src/__tests__/AutoeuroService.test.ts, LX4777/autoeuro-go-api-client
client/responses/search_items_response.go), replayed over real HTTP."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from optima.suppliers import adapter_for
from optima.suppliers.autoeuro import MOSCOW, days_until

from .contract_replay import Replay

BRANDS = ("POST", "/search_brands")
ITEMS = ("POST", "/search_items")
KEY = "aeSecretKey42xYz"


def adapter(replay: Replay, **options):
    return adapter_for(
        "autoeuro",
        supplier_id="autoeuro:contract",
        base_url=replay.url,
        credentials={"login": "", "password": KEY, "delivery_key": "dk-msk-pickup", **options},
        timeout_s=5,
    )


def routes(items_file: str, brands_file: str = "search_brands.json", status: int = 200) -> dict:
    return {
        BRANDS: (200, f"autoeuro/{brands_file}"),
        ITEMS: (status, f"autoeuro/{items_file}"),
    }


def days_from_now(text: str, fmt: str = "%Y-%m-%d %H:%M") -> int:
    moment = datetime.strptime(text, fmt).replace(tzinfo=MOSCOW)
    return max(0, math.ceil((moment - datetime.now(UTC)).total_seconds() / 86400))


def test_documented_answer_becomes_offers_with_crosses_marked():
    with Replay(routes("search_items.json")) as replay:
        result = adapter(replay).search("W 712/95")
    assert result.state == "answered", result.message
    asked, oe, analogue = result.offers
    assert (asked.brand, asked.number_key, asked.is_cross) == ("MANN-FILTER", "W71295", False)
    assert (asked.price_rub, asked.qty, asked.returnable) == (Decimal("452.30"), 12, True)
    assert asked.delivery_days_min == days_from_now("2031-01-15 12:00")
    assert asked.delivery_days_max == days_from_now("2031-01-16 18:00")
    assert asked.warehouse_id == "wh-msk-01" and asked.warehouse_name == "Москва, склад Автоевро"
    assert asked.order_ref["offer_key"] == "a1f0c7e2d9b84e16"
    # cross "1" (a string, as the client notes): the carmaker's supplier's own brand.
    assert oe.is_cross and oe.quality == "oe_replacement" and oe.brand == "FILTRON"
    assert (oe.multiple, oe.qty, oe.returnable) == (2, 3, False)  # packing "2", return "0"
    assert oe.delivery_days_max == days_from_now("2031-01-24 10:00:00", "%Y-%m-%d %H:%M:%S")
    assert analogue.is_cross and analogue.quality == "aftermarket"
    assert analogue.price_rub == Decimal("205.50")  # a number this time
    # A bare date, no maximum: the maximum is the minimum.
    assert analogue.delivery_days_min == analogue.delivery_days_max
    assert analogue.delivery_days_min == days_from_now("2031-01-17", "%Y-%m-%d")


def test_the_key_goes_in_a_header_and_the_delivery_point_in_the_body():
    with Replay(routes("search_items.json")) as replay:
        adapter(replay).search("W 712/95")
        adapter(replay).search("W 712/95", with_analogues=False)
    brands = replay.calls("/search_brands")[0]
    assert brands.headers["key"] == KEY and json.loads(brands.body) == {"code": "W71295"}
    assert KEY not in brands.path and KEY not in json.dumps(brands.query)
    first, *_ = replay.calls("/search_items")
    sent = json.loads(first.body)
    assert sent["brand"] == "MANN-FILTER" and sent["code"] == "W712/95"
    assert sent["delivery_key"] == "dk-msk-pickup"
    assert (sent["with_crosses"], sent["with_offers"]) == (1, 1)
    # MANN is MANN-FILTER: asked once; VAG's own number is a second brand step.
    assert [json.loads(c.body)["brand"] for c in replay.calls("/search_items")] == [
        "MANN-FILTER",
        "VAG",
        "MANN-FILTER",
        "VAG",
    ]
    assert json.loads(replay.calls("/search_items")[-1].body)["with_crosses"] == 0


def test_odd_values_are_read_or_the_row_is_skipped_and_counted():
    with Replay(routes("search_items_odd_values.json")) as replay:
        result = adapter(replay, currency_rates={"USD": "90"}).search("W71295")
    spaced, dollars = sorted(result.offers, key=lambda o: o.order_ref["offer_key"])
    assert spaced.price_rub == Decimal("2040.74")  # "2 040,74"
    assert (spaced.qty, spaced.qty_min) == (None, 10)  # ">10"
    assert dollars.price_rub == Decimal("945.00") and dollars.currency_raw == "USD"
    assert dollars.qty == 0 and dollars.qty_on_order
    # "дорого" as a price and "через неделю" as a date: skipped and counted, per brand asked.
    assert result.skipped_rows == 4 and "пропущено строк с ошибками: 4" in result.message


def test_a_line_in_an_unknown_currency_is_skipped_not_priced_as_rubles():
    with Replay(routes("search_items_odd_values.json")) as replay:
        result = adapter(replay).search("W71295")
    assert [o.order_ref["offer_key"] for o in result.offers] == ["d1"]


def test_empty_data_is_no_stock():
    with Replay(routes("search_items_empty.json")) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "no_stock" and result.offers == []


def test_not_found_error_is_no_stock():
    with Replay({BRANDS: (200, "autoeuro/error_404.json")}) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "no_stock", result.message


@pytest.mark.parametrize("status", [200, 401])
def test_a_refused_key_is_the_managers_configuration_to_fix(status):
    with Replay({BRANDS: (status, "autoeuro/error_bad_key.json")}) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "config_error"
    assert "API-ключ" in result.message and "Неверный ключ API" in result.message
    assert KEY not in result.message


def test_a_refused_delivery_point_names_the_setting():
    with Replay(routes("error_delivery_key.json")) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "config_error" and "delivery_key" in result.message


@pytest.mark.parametrize(
    ("file", "code", "text"),
    [("error_400.json", 400, "Bad Request"), ("error_500.json", 500, "Internal Server Error")],
)
def test_other_errors_are_shown_with_the_suppliers_code_and_text(file, code, text):
    with Replay(routes(file)) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "error"
    assert result.message == f"Автоевро ответил ошибкой {code}: {text}"


def test_without_delivery_key_or_key_nothing_is_sent():
    with Replay(routes("search_items.json")) as replay:
        no_point = adapter(replay, delivery_key="").search("W71295")
        no_key = adapter_for(
            "autoeuro",
            supplier_id="x",
            base_url=replay.url,
            credentials={"delivery_key": "dk"},
            timeout_s=5,
        ).search("W71295")
        typed_in_russian = adapter(replay, password="ключ-из-письма").search("W71295")
    assert no_point.state == "config_error" and "delivery_key" in no_point.message
    assert typed_in_russian.state == "config_error" and "символы" in typed_in_russian.message
    assert no_key.state == "config_error" and "API-ключ" in no_key.message
    assert replay.seen == []


def test_dates_round_up_to_whole_days_in_moscow_time():
    now = datetime(2031, 1, 10, 12, 0, tzinfo=MOSCOW)
    assert days_until("2031-01-10 12:00", now) == 0
    assert days_until("2031-01-10 12:01", now) == 1
    assert days_until("2031-01-12 12:00:00", now) == 2
    assert days_until("2031-01-11", now) == 1  # a bare date: that day's start
    assert days_until("2031-01-01 10:00", now) == 0  # a date past: today
    with pytest.raises(ValueError):
        days_until("скоро", now)
