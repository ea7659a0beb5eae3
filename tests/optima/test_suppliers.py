"""Supplier adapters against real demo supplier services on loopback ports (no HTTP mocks)."""

from __future__ import annotations

import hashlib
import io
import math
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optima.demo_supplier import ON_ORDER, DemoCatalogue, start_in_thread
from optima.demo_supplier.formats import abcp_condition, deadline_replace
from optima.suppliers import (
    ADAPTERS,
    Offer,
    adapter_for,
    canonical_brand,
    mask_url,
    normalize_number,
    quality_for_brand,
)
from optima.suppliers.pricelist import PriceRow, parse_pricelist

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUSSIAN = re.compile("[а-яё]", re.IGNORECASE)
EXPECTED_QUALITY = {"original": "original", "oe": "oe_replacement"}


@pytest.fixture(scope="module")
def supplier():
    handle = start_in_thread(seed=2, name="Тест-2")
    yield handle
    handle.stop()


def abcp(handle, timeout_s: float = 5.0, **credentials):
    return adapter_for(
        "abcp",
        supplier_id="abcp:test",
        base_url=handle.url,
        credentials=credentials or handle.abcp_credentials,
        timeout_s=timeout_s,
    )


def armtek(handle, timeout_s: float = 5.0, **credentials):
    return adapter_for(
        "armtek",
        supplier_id="armtek:test",
        base_url=handle.url,
        credentials={**handle.armtek_credentials, **credentials},
        timeout_s=timeout_s,
    )


def originals(catalogue: DemoCatalogue) -> dict[str, object]:
    return {p.key: p for p in catalogue.parts if p.tier == "original"}


# --- ABCP and Armtek shapes ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2], ids=["objects-keyed-by-index", "arrays"])
def test_abcp_offers_are_normalised_from_the_catalogue(seed):
    with start_in_thread(seed=seed) as handle:
        adapter = abcp(handle)
        by_item_key = {o.item_key: o for o in handle.catalogue.all_offers}
        seen_stock, seen_quality, seen_cross, seen_multiples = set(), set(), set(), set()
        seen_condition = set()
        for number in handle.catalogue.oem_numbers:
            result = adapter.search(number)
            assert result.state == "answered", result.message
            original = originals(handle.catalogue)[normalize_number(number)]
            assert len(result.offers) == len(handle.catalogue.offers(original, with_analogues=True))
            for offer in result.offers:
                demo = by_item_key[offer.order_ref["itemKey"]]
                assert offer.price_rub == demo.price
                assert offer.price_rub.as_tuple().exponent == -2
                if demo.stock >= 0:
                    assert (offer.qty, offer.qty_min, offer.qty_on_order) == (
                        demo.stock,
                        demo.stock,
                        False,
                    )
                elif demo.stock == ON_ORDER:
                    assert (offer.qty, offer.qty_min, offer.qty_on_order) == (None, 0, True)
                else:
                    assert offer.qty is None and not offer.qty_on_order
                    assert offer.qty_min == {-1: 1, -2: 10, -3: 99}[demo.stock]
                hours_max = demo.hours_max if demo.hours_max is not None else demo.hours_min
                if deadline_replace(demo):  # "до 15 раб.дн.": the supplier's words win
                    assert offer.delivery_term_text == deadline_replace(demo)
                    assert offer.delivery_days_max == math.ceil(
                        math.ceil(hours_max / 24 * 5 / 7) * 7 / 5
                    )
                    assert offer.delivery_days_min == min(
                        math.ceil(demo.hours_min / 24), offer.delivery_days_max
                    )
                else:
                    assert offer.delivery_term_text == ""
                    assert offer.delivery_days_min == math.ceil(demo.hours_min / 24)
                    assert offer.delivery_days_max == math.ceil(hours_max / 24)
                assert offer.multiple == demo.packing
                assert offer.order_ref == {
                    "brand": demo.part.brand_abcp,
                    "number": demo.part.number,
                    "supplierCode": demo.warehouse.code,
                    "itemKey": demo.item_key,
                    "code": demo.code,
                }
                assert offer.warehouse_id == demo.warehouse.code
                condition, wear = abcp_condition(demo)
                assert (offer.condition, offer.wear_pct) == (
                    condition,
                    wear if condition == "used" else None,
                )
                # Used and clearance lines are sold as they are: not returnable.
                assert offer.returnable == (demo.returnable and condition == "new")
                seen_condition.add(condition)
                assert offer.quality == EXPECTED_QUALITY.get(demo.part.tier, "aftermarket")
                assert offer.is_cross == (demo.part is not original)
                assert offer.fetched_at.utcoffset().total_seconds() == 0
                seen_stock.add(demo.stock if demo.stock < 0 else "exact")
                seen_quality.add(offer.quality)
                seen_cross.add(offer.is_cross)
                seen_multiples.add(offer.multiple)
        # The catalogue exercises every mapping rule, so the loop above checked them all.
        assert seen_stock == {"exact", -1, -2, -3, ON_ORDER}
        assert seen_quality == {"original", "oe_replacement", "aftermarket"}
        assert seen_cross == {True, False}
        assert len(seen_multiples) > 1
        assert seen_condition == {"new", "used", "clearance"}


def test_armtek_and_abcp_give_the_same_offers(supplier):
    # The same lines, prices and stock through both protocols. What only ABCP says is left
    # out: used and clearance lines (not returnable there) and its own words for the term
    # of lines on order (deadlineReplace).
    def essence(offer: Offer) -> tuple:
        qty = None if offer.qty_on_order else offer.qty  # ABCP −10 vs Armtek "0"
        days = None if offer.qty_on_order else (offer.delivery_days_min, offer.delivery_days_max)
        return (
            offer.brand,
            offer.number_key,
            offer.price_rub,
            qty,
            offer.qty_min,
            offer.qty_on_order,
            offer.multiple,
            days,
            offer.warehouse_id,
            offer.quality,
            offer.is_cross,
            offer.delivery_probability,
        )

    abcp_adapter, armtek_adapter = abcp(supplier), armtek(supplier)
    for number in supplier.catalogue.oem_numbers:
        from_abcp = abcp_adapter.search(number)
        from_armtek = armtek_adapter.search(number)
        assert from_armtek.state == "answered", from_armtek.message
        assert sorted(map(essence, from_abcp.offers), key=repr) == sorted(
            map(essence, from_armtek.offers), key=repr
        )


def test_armtek_more_than_ten_is_a_lower_bound_and_order_ref_keeps_keyzak(supplier):
    demo = next(o for o in supplier.catalogue.all_offers if o.stock == -2)
    result = armtek(supplier).search(demo.part.number, with_analogues=False)
    offer = next(o for o in result.offers if o.warehouse_id == demo.warehouse.code)
    assert (offer.qty, offer.qty_min, offer.qty_on_order) == (None, 10, False)
    assert offer.order_ref["KEYZAK"] == demo.warehouse.code
    assert offer.order_ref["PIN"] == demo.part.number
    assert Decimal(offer.order_ref["PRICE"]) == demo.price


@pytest.mark.parametrize("make_adapter", [abcp, armtek], ids=["abcp", "armtek"])
def test_without_analogues_only_the_requested_part_comes_back(supplier, make_adapter):
    result = make_adapter(supplier).search("6RU 807 221", with_analogues=False)
    assert result.state == "answered"
    assert {(o.brand, o.number_key) for o in result.offers} == {("VAG", "6RU807221")}
    assert not any(o.is_cross for o in result.offers)


@pytest.mark.parametrize("make_adapter", [abcp, armtek], ids=["abcp", "armtek"])
def test_unknown_number_is_no_stock(supplier, make_adapter):
    result = make_adapter(supplier).search("ZZ-0000-NOPE")
    assert result.state == "no_stock"
    assert result.offers == []
    assert RUSSIAN.search(result.message)


def test_number_typed_with_cyrillic_letters_finds_the_part(supplier):
    result = abcp(supplier).search("86511-Н5000")  # Cyrillic Н
    assert result.state == "answered"
    assert result.offers[0].number_key == "86511H5000"


# --- failures --------------------------------------------------------------------------------


def test_bad_abcp_password_is_auth_error_without_the_password(supplier, caplog):
    password = "Неверный-s3cret"
    md5 = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
    result = abcp(supplier, login="demo", password=password).search("6RU807221")
    assert result.state == "auth_error"
    assert RUSSIAN.search(result.message)
    assert password not in result.message and md5 not in result.message
    assert password not in caplog.text and md5 not in caplog.text


def test_bad_armtek_password_is_auth_error_without_the_password(supplier, caplog):
    result = armtek(supplier, password="Неверный-s3cret").search("6RU807221")
    assert result.state == "auth_error"
    assert RUSSIAN.search(result.message)
    assert "s3cret" not in result.message and "s3cret" not in caplog.text


@pytest.mark.parametrize("make_adapter", [abcp, armtek], ids=["abcp", "armtek"])
def test_slow_supplier_past_the_deadline_times_out(make_adapter):
    with start_in_thread(seed=3, latency_ms="800:800") as handle:
        result = make_adapter(handle).search("6RU807221", deadline=time.monotonic() + 0.2)
    assert result.state == "timeout"
    assert RUSSIAN.search(result.message)


def test_deadline_already_passed_times_out_without_asking(supplier):
    result = abcp(supplier).search("6RU807221", deadline=time.monotonic() - 1)
    assert result.state == "timeout"
    assert result.offers == []


@pytest.mark.timeout(30)
@pytest.mark.parametrize("make_adapter", [abcp, armtek], ids=["abcp", "armtek"])
def test_hanging_supplier_times_out_and_the_service_still_stops(make_adapter):
    handle = start_in_thread(seed=4, hang=True)
    try:
        result = make_adapter(handle, timeout_s=0.5).search("6RU807221")
    finally:
        handle.stop()
    assert result.state == "timeout"


@pytest.mark.parametrize("make_adapter", [abcp, armtek], ids=["abcp", "armtek"])
def test_server_error_is_error_state_and_the_log_masks_credentials(make_adapter, caplog):
    with start_in_thread(seed=5, error_rate=1.0, password="pa55-word") as handle:
        result = make_adapter(handle).search("6RU807221")
    assert result.state == "error"
    assert "HTTP 500" in result.message
    md5 = hashlib.md5(b"pa55-word", usedforsecurity=False).hexdigest()
    assert "pa55-word" not in caplog.text and md5 not in caplog.text


@pytest.mark.parametrize("make_adapter", [abcp, armtek], ids=["abcp", "armtek"])
def test_garbage_is_error_state_never_an_exception(make_adapter):
    with start_in_thread(seed=6, garbage_rate=1.0) as handle:
        adapter = make_adapter(handle)
        for number in handle.catalogue.oem_numbers[:6]:
            for with_analogues in (True, False):
                result = adapter.search(number, with_analogues=with_analogues)
                assert result.state == "error", result.message
                assert RUSSIAN.search(result.message)


def test_refused_connection_is_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = adapter_for(
        "abcp",
        supplier_id="abcp:gone",
        base_url=f"http://127.0.0.1:{port}",
        credentials={"login": "x", "password": "y"},
        timeout_s=2,
    )
    result = adapter.search("6RU807221")
    assert result.state == "error"
    assert "соединение отклонено" in result.message


# --- the demo service ----------------------------------------------------------------------


def test_same_seed_gives_the_same_offers_and_another_seed_differs():
    first, second, other = (start_in_thread(seed=s) for s in (7, 7, 8))
    try:
        numbers = first.catalogue.oem_numbers[::5]
        offers = [[abcp(h).search(n).offers for n in numbers] for h in (first, second, other)]
    finally:
        for handle in (first, second, other):
            handle.stop()
    assert offers[0] == offers[1]
    assert offers[0] != offers[2]


def test_demo_price_list_imports_without_errors(supplier):
    with urllib.request.urlopen(f"{supplier.url}/pricelist.csv", timeout=5) as response:
        rows, errors = parse_pricelist(response.read(), "pricelist.csv")
    assert errors == []
    assert len(rows) == len(supplier.catalogue.all_offers)


@pytest.mark.timeout(30)
def test_demo_supplier_runs_as_its_own_process_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "optima.demo_supplier", "--port", "0", "--seed", "9"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline()).group(0)
        adapter = adapter_for(
            "armtek",
            supplier_id="armtek:process",
            base_url=url,
            credentials={"login": "demo", "password": "demo", "VKORG": "4000", "KUNNR_RG": "1"},
            timeout_s=5,
        )
        assert adapter.search("8450006950").state == "answered"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()


# --- numbers, money, brands ---------------------------------------------------------------


@given(st.text())
def test_number_key_is_idempotent_and_alphanumeric(raw):
    key = normalize_number(raw)
    assert re.fullmatch(r"[A-Z0-9]*", key)
    assert normalize_number(key) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("86511-4l000", "865114L000"),
        ("6RU 807 221", "6RU807221"),
        ("0 986 424 815", "0986424815"),
        ("А21.02/Х", "A2102X"),  # Cyrillic А and Х
        ("21900-2803015-00", "21900280301500"),
        ("", ""),
    ],
)
def test_number_key_examples(raw, key):
    assert normalize_number(raw) == key


@pytest.mark.parametrize(
    ("raw", "brand", "quality"),
    [
        ("Mann", "MANN-FILTER", "oe_replacement"),
        ("Knecht", "MAHLE", "oe_replacement"),
        ("MOBIS", "HYUNDAI/KIA", "original"),
        ("Hyundai-KIA", "HYUNDAI/KIA", "original"),
        ("VW", "VAG", "original"),
        ("ВАЗ", "LADA", "original"),
        ("General Motors", "GM", "original"),
        ("ЛУКОЙЛ", "LUKOIL", "aftermarket"),
        ("Lemförder", "LEMFORDER", "oe_replacement"),
        ("van  wezel", "VAN WEZEL", "aftermarket"),
        ("Klokkerholm", "KLOKKERHOLM", "aftermarket"),
        ("", "", "unknown"),
    ],
)
def test_canonical_brand_and_quality(raw, brand, quality):
    assert canonical_brand(raw) == brand
    assert quality_for_brand(brand) == quality


def test_offer_refuses_a_naive_timestamp_and_a_zero_price():
    fields = dict(
        supplier="s", brand_raw="VAG", number_raw="1", brand="VAG", number_key="1", name="",
        is_cross=False, quality="original", price_rub=Decimal("1"), currency_raw="RUB", qty=1,
        qty_min=1, qty_on_order=False, multiple=1, delivery_days_min=0, delivery_days_max=0,
        delivery_probability=None, warehouse_id="", warehouse_name="", own_stock=None,
        returnable=None, warranty_months=None, order_ref={}, fetched_at=datetime.now(UTC),
    )  # fmt: skip
    assert Offer(**fields).price_rub == Decimal("1.00")
    with pytest.raises(ValueError):
        Offer(**{**fields, "fetched_at": datetime.now()})
    with pytest.raises(ValueError):
        Offer(**{**fields, "price_rub": Decimal("0")})


def test_registry_and_url_masking():
    assert {"abcp", "armtek", "pricelist"} <= set(ADAPTERS)
    with pytest.raises(ValueError):
        adapter_for("nope", supplier_id="x", base_url="", credentials={}, timeout_s=1)
    masked = mask_url("https://id1.public.api.abcp.ru/search/brands?number=1&userlogin=a&userpsw=b")
    assert "userpsw=***" in masked and "userlogin=***" in masked and "number=1" in masked


# --- price lists ---------------------------------------------------------------------------


PRICE_LIST_UTF8 = """brand;number;name;price;qty;delivery_days;warehouse;warranty_months
LADA;8450006950;Бампер передний Vesta;12 340,50;3;1;Москва;12
Polcar;4007071;Бампер передний Vesta;6 100;>10;2-4;Москва;6
;8450006968;Капот Vesta;15000;1;1;;
LADA;8450006977;Крыло;дорого;1;1;;
LADA;8450100952;Фара;14000;много;скоро;;
Klokkerholm;8450006950;Бампер передний Vesta;7 000;2;3;Склад 2;24 месяца
"""


def test_price_list_reports_broken_rows_by_row_number():
    rows, errors = parse_pricelist(PRICE_LIST_UTF8.encode(), "prices.csv")
    assert [row.number for row in rows] == ["8450006950", "4007071"]
    assert rows[0].price_rub == Decimal("12340.50")
    assert (rows[1].qty, rows[1].qty_min) == (None, 10)
    assert (rows[1].delivery_days_min, rows[1].delivery_days_max) == (2, 4)
    assert [number for number, _ in errors] == [4, 5, 6, 7]
    reasons = dict(errors)
    assert "бренд" in reasons[4]
    assert "цена «дорого»" in reasons[5]
    assert "количество" in reasons[6] and "срок поставки" in reasons[6]
    assert "гарантия" in reasons[7]


def test_price_list_in_cp1251_with_commas_and_russian_headers():
    text = (
        "Производитель,Артикул,Наименование,Цена,Количество,Срок поставки\r\n"
        'ВАЗ,21900-2803015-00,"Бампер передний Granta, неокрашенный","7 450,00",4,0\r\n'
    )
    rows, errors = parse_pricelist(text.encode("cp1251"), "ПРАЙС.CSV")
    assert errors == []
    assert rows[0].name == "Бампер передний Granta, неокрашенный"
    assert rows[0].price_rub == Decimal("7450.00")
    assert canonical_brand(rows[0].brand) == "LADA"


def test_price_list_xlsx_keeps_numeric_part_numbers():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Бренд", "Номер", "Название", "Цена", "Остаток", "Срок", "Склад"])
    sheet.append(["LADA", 8450006950, "Бампер", 12340.5, 3, 1, "Москва"])
    sheet.append(["LADA", None, "Капот", 100, 1, 1, ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows, errors = parse_pricelist(buffer.getvalue(), "prices.xlsx")
    assert [(r.number, r.price_rub) for r in rows] == [("8450006950", Decimal("12340.50"))]
    assert errors == [(3, "не указан номер детали")]


def test_price_list_with_missing_columns_says_which():
    rows, errors = parse_pricelist(b"brand;number;name\nLADA;1;x\n", "p.csv")
    assert rows == []
    assert errors == [(1, "В заголовке нет столбцов: цена, количество, срок поставки")]


def test_price_list_adapter_searches_by_number_key():
    rows, _ = parse_pricelist(PRICE_LIST_UTF8.encode(), "prices.csv")
    stored = [row.as_dict() for row in rows]  # as the caller keeps them
    stored.append(
        PriceRow(
            brand="Klokkerholm", number="8450-006950", name="Бампер", price_rub=Decimal("7000"),
            qty=2, qty_min=2, delivery_days_min=3, delivery_days_max=3, warranty_months=12,
        )
    )  # fmt: skip
    adapter = adapter_for(
        "pricelist",
        supplier_id="pricelist:1",
        base_url="",
        credentials={"rows": stored},
        timeout_s=1,
    )
    result = adapter.search("8450 006 950")
    assert result.state == "answered"
    by_brand = {o.brand: o for o in result.offers}
    assert by_brand["LADA"].quality == "original" and not by_brand["LADA"].is_cross
    assert by_brand["KLOKKERHOLM"].is_cross and by_brand["KLOKKERHOLM"].warranty_months == 12
    assert by_brand["LADA"].warranty_months == 12
    assert adapter.search("0000").state == "no_stock"


def test_price_list_adapter_reads_database_shaped_rows():
    row = {
        "brand": "Prasco",
        "number_raw": "HN324-1001",
        "number_key": "HN3241001",
        "name": "Бампер",
        "price_rub": Decimal("6100.00"),
        "qty": 4,
        "delivery_days": 2,
        "warehouse": "Москва",
        "warranty_months": 6,
    }
    adapter = adapter_for(
        "pricelist", supplier_id="p", base_url="", credentials={"rows": [row]}, timeout_s=1
    )
    [offer] = adapter.search("HN3241001").offers
    assert (offer.number_raw, offer.qty, offer.qty_min) == ("HN324-1001", 4, 4)
    assert (offer.delivery_days_min, offer.delivery_days_max) == (2, 2)
    assert offer.price_rub == Decimal("6100.00") and offer.warranty_months == 6
