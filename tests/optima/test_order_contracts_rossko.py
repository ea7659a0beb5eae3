"""The Rossko order client against the documented GetCheckout and GetOrders answers
(tests/optima/contracts/rossko/, sources in its README: the v2.1 answer examples, Docpart's
live CheckoutResult dump, the documented line-status dictionary), replayed over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from optima.suppliers.orders import (
    LineState,
    OrderLineRequest,
    OrderNotSent,
    OrderRejected,
    OrderUnknown,
    order_client_for,
)

from .contract_replay import Replay

BASE = "/service/v2.1"
CHECKOUT = ("POST", f"{BASE}/GetCheckout")
ORDERS = ("POST", f"{BASE}/GetOrders")
NS = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "r": "https://api.rossko.ru/"}
CREDENTIALS = {
    "login": "k1-0f3c9a7e51",
    "password": "k2-88d41b0c2e",
    "delivery_id": "000000002",
    "address_id": "112233",
    "payment_id": "1",
    "requisite_id": "112233",
    "contact_name": "Мастер-приёмщик",
    "contact_phone": "+74951234567",
}
LINES = [
    OrderLineRequest(
        position=1,
        brand="Denso",
        number="IQ16TT#4",
        number_key="IQ16TT4",
        qty=1,
        price_rub=Decimal("363.13"),
        order_ref={"partnumber": "IQ16TT#4", "brand": "Denso", "stock": "HST123"},
    ),
    OrderLineRequest(
        position=2,
        brand="KYB",
        number="333114",
        number_key="333114",
        qty=1,
        price_rub=Decimal("2449.85"),
        order_ref={"partnumber": "333114", "brand": "KYB", "stock": "HST154"},
    ),
]


def client(replay: Replay, **credentials):
    return order_client_for(
        "rossko",
        base_url=replay.url + BASE,
        credentials={**CREDENTIALS, **credentials},
        timeout_s=5,
    )


def test_checkout_orders_the_lines_and_names_the_refused_one():
    with Replay({CHECKOUT: (200, "rossko/checkout.xml")}) as replay:
        state = client(replay).place("AS1-20-3", LINES)
    assert state.supplier_number == "1234567"
    ordered = next(line for line in state.lines if line.state == LineState.ORDERED)
    refused = next(line for line in state.lines if line.state == LineState.REJECTED)
    assert (ordered.position, ordered.price_rub, ordered.qty) == (1, Decimal("363.13"), 1)
    assert ordered.supplier_line_ref == "1234567"
    assert (refused.position, refused.reason) == (2, "Нет в наличии")


def test_checkout_request_carries_our_number_and_each_lines_stock():
    with Replay({CHECKOUT: (200, "rossko/checkout.xml")}) as replay:
        client(replay).place("AS1-20-3", LINES)
    (seen,) = replay.calls(f"{BASE}/GetCheckout")
    call = etree.fromstring(seen.body.encode()).find("s:Body/r:GetCheckout", NS)

    def value(path: str) -> str:
        return call.findtext(path, namespaces=NS)

    assert value("r:KEY1") == "k1-0f3c9a7e51" and value("r:KEY2") == "k2-88d41b0c2e"
    assert value("r:delivery/r:delivery_id") == "000000002"
    assert value("r:delivery/r:address_id") == "112233"
    assert value("r:payment/r:payment_id") == "1"
    assert value("r:contact/r:comment") == "AS1-20-3"
    parts = call.findall("r:PARTS/r:Part", NS)
    assert [p.findtext("r:stock", namespaces=NS) for p in parts] == ["HST123", "HST154"]
    assert [p.findtext("r:comment", namespaces=NS) for p in parts] == ["AS1-20-3/1", "AS1-20-3/2"]


def test_a_refused_checkout_is_rejected_with_the_suppliers_words():
    with Replay({CHECKOUT: (200, "rossko/checkout_refused.xml")}) as replay:
        with pytest.raises(OrderRejected) as problem:
            client(replay).place("AS1-20-3", LINES)
    assert problem.value.message == "Росско не принял заказ: Не указан способ оплаты"


def test_a_fault_or_a_broken_answer_to_checkout_leaves_the_outcome_unknown():
    with Replay({CHECKOUT: (500, "rossko/fault.xml")}) as replay:
        with pytest.raises(OrderUnknown):
            client(replay).place("AS1-20-3", LINES)
    with Replay({CHECKOUT: (502, "rossko/not_soap.html")}) as replay:
        with pytest.raises(OrderUnknown):
            client(replay).place("AS1-20-3", LINES)


def test_without_payment_or_keys_nothing_is_sent():
    with Replay({CHECKOUT: (200, "rossko/checkout.xml")}) as replay:
        with pytest.raises(OrderNotSent):
            client(replay, payment_id="").place("AS1-20-3", LINES)
        with pytest.raises(OrderNotSent):
            client(replay, login="").place("AS1-20-3", LINES)
    assert replay.seen == []


def test_order_state_maps_the_documented_line_statuses():
    with Replay({ORDERS: (200, "rossko/orders.xml")}) as replay:
        state = client(replay).state("1234567", "ZK-2031-0001")
    (seen,) = replay.calls(f"{BASE}/GetOrders")
    call = etree.fromstring(seen.body.encode()).find("s:Body/r:GetOrders", NS)
    assert [i.text for i in call.findall("r:order_ids/r:id", NS)] == ["1234567"]
    picked, missing = state.lines
    assert (picked.position, picked.state, picked.price_rub) == (
        1,
        LineState.CONFIRMED,  # 1 «комплектуется»
        Decimal("363.13"),
    )
    assert (missing.position, missing.state) == (2, LineState.REJECTED)  # 7 «нет в наличии»
    assert missing.reason == "Росско: нет в наличии"


def test_find_looks_up_our_number_in_the_line_comments():
    with Replay({ORDERS: (200, "rossko/orders.xml")}) as replay:
        found = client(replay).find("ZK-2031-0001")
        missing = client(replay).find("AS9-9-9")
    assert found is not None and found.supplier_number == "1234567"
    assert [line.position for line in found.lines] == [1, 2]
    assert missing is None
    call = etree.fromstring(replay.seen[0].body.encode()).find("s:Body/r:GetOrders", NS)
    assert call.find("r:order_ids", NS) is None  # the account's recent orders, all of them
