"""The Armtek adapter against the documented answer shapes (tests/optima/contracts/armtek/,
each file's source cited in its README), replayed over real HTTP."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from optima.suppliers import adapter_for
from optima.suppliers.armtek import MOSCOW, _days_until

from .contract_replay import Replay

ASSORTMENT = ("POST", "/ws_search/assortment_search")
SEARCH = ("POST", "/ws_search/search")
CREDENTIALS = {"login": "shop@example.ru", "password": "Армтек-пароль-7", "VKORG": "4000"}


def adapter(replay: Replay, **options):
    return adapter_for(
        "armtek",
        supplier_id="armtek:contract",
        base_url=replay.url,
        credentials={**CREDENTIALS, "KUNNR_RG": "43012345", **options},
        timeout_s=5,
    )


def routes(search_file: str) -> dict:
    return {
        ASSORTMENT: (200, "armtek/assortment_search.json"),
        SEARCH: (200, f"armtek/{search_file}"),
    }


def days_from_now(armtek_date: str) -> int:
    moment = datetime.strptime(armtek_date, "%Y%m%d%H%M%S").replace(tzinfo=MOSCOW)
    return max(0, math.ceil((moment - datetime.now(UTC)).total_seconds() / 86400))


def test_documented_array_answer_becomes_offers():
    with Replay(routes("search.json")) as replay:
        result = adapter(replay).search("0986452041")
    assert result.state == "answered", result.message
    own, partner, analogue = (
        next(o for o in result.offers if o.warehouse_id == "MOV0009026" and o.brand == "BOSCH"),
        next(o for o in result.offers if o.warehouse_id == "PAR0000111"),
        next(o for o in result.offers if o.brand == "MANN-FILTER"),
    )
    assert (own.price_rub, own.qty, own.returnable, own.own_stock) == (
        Decimal("452.30"),
        7,
        True,
        True,  # PARNR empty: Armtek's own warehouse
    )
    assert own.delivery_probability == 95  # "95.00"
    assert own.delivery_days_min == days_from_now("20310115120000")
    assert own.delivery_days_max == days_from_now("20310116120000")
    # A partner's warehouse (PARNR), with its own longer dates, its lot rules and ">100".
    assert partner.own_stock is False and partner.order_ref["PARNR"] == "1000234"
    assert (partner.qty, partner.qty_min) == (None, 100)
    assert (partner.min_qty, partner.multiple) == (4, 2)
    assert (partner.order_quantity(1), partner.order_quantity(5)) == (4, 6)
    assert partner.delivery_days_max == days_from_now("20310124180000")
    assert partner.returnable is False  # RETDAYS 0
    assert analogue.is_cross and analogue.qty_on_order and analogue.delivery_probability is None


def test_the_shops_delivery_address_and_pickup_are_sent():
    with Replay(routes("search.json")) as replay:
        adapter(replay, KUNNR_ZA="43099999", INCOTERMS="1").search("0986452041")
        adapter(replay).search("0986452041")
    with_address, without = replay.calls("/ws_search/search")
    assert (with_address.form["KUNNR_ZA"], with_address.form["INCOTERMS"]) == ("43099999", "1")
    assert with_address.form["VKORG"] == "4000" and with_address.form["KUNNR_RG"] == "43012345"
    assert "KUNNR_ZA" not in without.form and "INCOTERMS" not in without.form


def test_the_older_bare_list_answer_is_read_too():
    with Replay(routes("search_legacy_list.json")) as replay:
        result = adapter(replay).search("0986452041")
    assert result.state == "answered" and len(result.offers) == 1


def test_an_empty_array_without_messages_is_no_stock():
    with Replay(routes("search_empty.json")) as replay:
        result = adapter(replay).search("0986452041")
    assert (result.state, result.offers) == ("no_stock", [])
    assert "сообщает" not in result.message


def test_a_warning_is_shown_with_the_offers():
    with Replay(routes("search_warning.json")) as replay:
        result = adapter(replay).search("0986452041")
    assert result.state == "answered" and len(result.offers) == 1
    assert "Цены указаны без учёта доставки до пункта выдачи" in result.message
    assert "Поиск выполнен" not in result.message  # S: success, nothing to tell


def test_an_error_message_with_an_empty_answer_is_an_error_not_no_stock():
    with Replay(routes("search_error_e.json")) as replay:
        result = adapter(replay).search("0986452041")
    assert result.state == "error"
    assert "Не заполнен адрес доставки KUNNR_ZA" in result.message


def test_a_spent_daily_quota_is_reported_as_such():
    with Replay(routes("search_quota_spent.json")) as replay:
        result = adapter(replay).search("0986452041")
    assert result.state == "quota_spent" and result.quota_spent
    assert "лимит" in result.message and "1000 в сутки" in result.message
    assert result.requests == 2  # assortment_search + search: what the quota counts


def test_a_refused_password_is_an_auth_error():
    with Replay({ASSORTMENT: (401, "armtek/auth_401.json")}) as replay:
        result = adapter(replay).search("0986452041")
    assert result.state == "auth_error"
    assert CREDENTIALS["password"] not in result.message


@pytest.mark.parametrize(
    ("now_utc", "dlvdt", "days"),
    [
        # 23:00 Moscow; 22:59 Moscow is a minute ago (read as UTC it would be tomorrow).
        (datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "20261130225900", 0),
        (datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "20261201230000", 1),
        (datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "20261201230100", 2),
    ],
)
def test_armtek_dates_are_moscow_time(now_utc, dlvdt, days):
    assert _days_until(dlvdt, now_utc.astimezone(MOSCOW)) == days
