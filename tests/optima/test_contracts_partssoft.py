"""The Parts-Soft adapter against the documented answer shapes (tests/optima/contracts/partssoft/,
each file's source cited in its README: the public clients Donik07/parts-soft
(lib/parts_soft/*, app/views/search/*) and a Python client's zappro_search, plus
`shared/reference/supplier-apis.md` §9), replayed over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optima.suppliers import adapter_for

from .contract_replay import Replay

SHORT = "/api/v1/search"
BACKEND = "/backend/price_items/api/v1/search"
KEY = "ps-api-key-0042"


def adapter(replay: Replay, **options):
    return adapter_for(
        "partssoft",
        supplier_id="partssoft:contract",
        base_url=replay.url,
        credentials={"login": "", "password": KEY, **options},
        timeout_s=5,
    )


def routes(offers_file: str, prefix: str = SHORT, brands_file: str = "brands.json") -> dict:
    return {
        ("GET", f"{prefix}/get_brands_by_oem"): (200, f"partssoft/{brands_file}"),
        ("GET", f"{prefix}/get_offers_by_oem_and_make_name"): (200, f"partssoft/{offers_file}"),
    }


def test_documented_answer_becomes_offers_with_analogues_marked():
    with Replay(routes("offers.json")) as replay:
        result = adapter(replay).search("W 712/95")
    assert result.state == "answered", result.message
    asked = next(o for o in result.offers if o.brand == "MANN-FILTER")
    filtron = next(o for o in result.offers if o.brand == "FILTRON")
    assert (asked.is_cross, asked.price_rub, asked.qty) == (False, Decimal("452.30"), 12)
    assert (asked.delivery_days_min, asked.delivery_days_max) == (1, 2)
    assert asked.order_ref["hash_key"] == "5f1c0e9a7b3d4e21" and asked.warehouse_id == "MSK1"
    # Numbers sent as strings; the lot min_qnt "2" is both the minimum and the multiple.
    assert filtron.is_cross and filtron.price_rub == Decimal("318.00")
    assert (filtron.qty, filtron.min_qty, filtron.multiple) == (3, 2, 2)
    assert (filtron.delivery_days_min, filtron.delivery_days_max) == (5, 9)


def test_the_key_and_analogue_switch_go_in_the_query():
    with Replay(routes("offers.json")) as replay:
        adapter(replay).search("W 712/95")
        adapter(replay).search("W 712/95", with_analogues=False)
    (brands, *_) = replay.calls(f"{SHORT}/get_brands_by_oem")
    assert brands.query == {"oem": "W71295", "api_key": KEY}
    offers = replay.calls(f"{SHORT}/get_offers_by_oem_and_make_name")
    # Mann is MANN-FILTER: one brand step for both spellings, then VAG.
    assert [(c.query["make_name"], c.query["without_cross"]) for c in offers] == [
        ("MANN-FILTER", "false"),
        ("VAG", "false"),
        ("MANN-FILTER", "true"),
        ("VAG", "true"),
    ]


def test_a_shop_answering_under_the_backend_path_is_found():
    with Replay(routes("offers.json", prefix=BACKEND)) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "answered"
    assert len(replay.calls(f"{SHORT}/get_brands_by_oem")) == 1  # the 404 that moved us
    assert replay.calls(f"{SHORT}/get_offers_by_oem_and_make_name") == []
    with Replay(routes("offers.json", prefix=BACKEND)) as replay:
        adapter(replay, api_path=BACKEND).search("W71295")
    assert replay.calls(f"{SHORT}/get_brands_by_oem") == []


def test_odd_values_are_read_or_the_row_is_skipped_and_counted():
    with Replay(routes("offers_odd_values.json")) as replay:
        result = adapter(replay).search("W71295")
    spaced = next(o for o in result.offers if o.order_ref["hash_key"] == "e1")
    negative = next(o for o in result.offers if o.order_ref["hash_key"] == "e2")  # system_hash
    assert spaced.price_rub == Decimal("2040.74") and (spaced.qty, spaced.qty_min) == (None, 10)
    assert (spaced.delivery_days_min, spaced.delivery_days_max) == (0, 0)  # max "": as min
    assert (negative.qty, negative.qty_min) == (None, 0)  # a negative level: unknown amount
    # An empty cost and "скоро" as days: skipped and counted, for each brand asked.
    assert result.skipped_rows == 4


def test_empty_data_is_no_stock():
    with Replay(routes("offers_empty.json")) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "no_stock"
    with Replay(routes("offers.json", brands_file="offers_empty.json")) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "no_stock"
    assert replay.calls(f"{SHORT}/get_offers_by_oem_and_make_name") == []


def test_a_refused_key_is_the_managers_configuration_to_fix():
    with Replay(routes("offers.json", brands_file="error_bad_key.json")) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "config_error" and "Неверный api_key" in result.message
    assert KEY not in result.message


def test_result_other_than_ok_is_an_error_with_the_suppliers_text():
    with Replay(routes("error.json")) as replay:
        result = adapter(replay).search("W71295")
    assert result.state == "error"
    assert result.message == (
        "Поставщик на Parts-Soft ответил ошибкой: Сервис поиска временно недоступен"
    )


@pytest.mark.parametrize(("key", "url"), [("", "set"), (KEY, "")])
def test_without_key_or_site_nothing_is_sent(key, url):
    with Replay(routes("offers.json")) as replay:
        result = adapter_for(
            "partssoft",
            supplier_id="x",
            base_url=replay.url if url else "",
            credentials={"password": key},
            timeout_s=5,
        ).search("W71295")
    assert result.state == "config_error"
    assert replay.seen == []


def test_the_key_in_the_query_never_reaches_a_log_or_a_message(caplog):
    caplog.set_level("DEBUG")
    with Replay({}) as replay:  # every path answers 404: both API paths tried, then an error
        result = adapter(replay).search("W71295")
    assert result.state == "error" and "HTTP 404" in result.message
    assert len(replay.seen) == 2 and all(s.query["api_key"] == KEY for s in replay.seen)
    assert caplog.records and KEY not in caplog.text and KEY not in result.message
