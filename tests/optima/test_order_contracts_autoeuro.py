"""The Autoeuro order client against the documented answers (tests/optima/contracts/autoeuro/:
create_order and get_orders from LX4777/autoeuro-api-client src/types/Response.ts and
src/__tests__/AutoeuroService.test.ts), replayed over real HTTP; and ordering end to end
from an accepted offer against the demo supplier speaking Autoeuro."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from optima.demo_supplier import start_in_thread
from optima.models import SupplierKind
from optima.ordering_models import OrderLineStatus, OrderStatus
from optima.suppliers.orders import (
    LineState,
    OrderLineRequest,
    OrderNotSent,
    OrderRejected,
    OrderUnknown,
    order_client_for,
)
from optima.tasks import poll_supplier_orders
from tests.factories import SupplierFactory

from .contract_replay import Replay
from .test_ordering import _accepted, _confirm, _poll_until

CREATE = ("POST", "/create_order")
ORDERS = ("POST", "/get_orders")
KEYS = {"password": "aeKey42", "delivery_key": "dk-msk", "payer_key": "payer-3"}
LINES = [
    OrderLineRequest(
        0, "MANN-FILTER", "W712/95", "W71295", 2, Decimal("452.30"), {"offer_key": "a1"}
    ),
    OrderLineRequest(1, "FILTRON", "OP 641/1", "OP6411", 1, Decimal("318"), {"offer_key": "b7"}),
]


def client(replay: Replay, **credentials):
    return order_client_for(
        "autoeuro", base_url=replay.url, credentials={**KEYS, **credentials}, timeout_s=5
    )


def test_an_order_is_placed_with_our_number_in_its_comments():
    with Replay({CREATE: (200, "autoeuro/create_order.json")}) as replay:
        state = client(replay).place("AS1-2-3", LINES)
    assert state.supplier_number == "123"
    assert [line.state for line in state.lines] == [LineState.ORDERED, LineState.ORDERED]
    (sent,) = replay.calls("/create_order")
    body = json.loads(sent.body)
    assert sent.headers["key"] == "aeKey42"
    assert (body["delivery_key"], body["payer_key"], body["comment"]) == (
        "dk-msk",
        "payer-3",
        "AS1-2-3",
    )
    assert body["stock_items"] == [
        {"offer_key": "a1", "quantity": 2, "comment": "AS1-2-3 #0"},
        {"offer_key": "b7", "quantity": 1, "comment": "AS1-2-3 #1"},
    ]


def test_a_refused_order_names_the_reason():
    with Replay({CREATE: (200, "autoeuro/create_order_refused.json")}) as replay:
        with pytest.raises(OrderRejected, match="Предложение устарело"):
            client(replay).place("AS1-2-3", LINES)


def test_a_server_error_on_ordering_leaves_the_outcome_unknown():
    with Replay({CREATE: (200, "autoeuro/error_500.json")}) as replay:
        with pytest.raises(OrderUnknown):
            client(replay).place("AS1-2-3", LINES)
    with Replay({CREATE: (200, "autoeuro/error_400.json")}) as replay:
        with pytest.raises(OrderRejected, match="Bad Request"):
            client(replay).place("AS1-2-3", LINES)


def test_the_order_is_found_by_our_number_with_its_lines():
    with Replay({ORDERS: (200, "autoeuro/get_orders.json")}) as replay:
        found = client(replay).find("AS1-2-3")
        other = client(replay).find("AS9-9-9")
        state = client(replay).state("123", "AS1-2-3")
    assert other is None
    assert found.supplier_number == "123"
    first, second = found.lines
    assert (first.position, first.state, first.price_rub, first.qty) == (
        0,
        LineState.CONFIRMED,
        Decimal("452.30"),
        2,
    )
    assert (second.position, second.state, second.reason) == (
        1,
        LineState.REJECTED,
        "Отказ поставщика",
    )
    asked = [json.loads(c.body) for c in replay.calls("/get_orders")]
    assert asked[0]["filters"][0]["delivery_key"] == "dk-msk"
    assert asked[-1] == {"orders": [123]}
    assert state.supplier_number == "123" and len(state.lines) == 2


def test_no_orders_is_nothing_found():
    with Replay({ORDERS: (200, "autoeuro/error_404.json")}) as replay:
        assert client(replay).find("AS1-2-3") is None
        with pytest.raises(OrderNotSent):
            client(replay).state("123", "AS1-2-3")


def test_without_payer_nothing_is_sent():
    with Replay({CREATE: (200, "autoeuro/create_order.json")}) as replay:
        with pytest.raises(OrderNotSent, match="payer_key"):
            client(replay, payer_key="").place("AS1-2-3", LINES)
    assert replay.seen == []


# --- end to end ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def _autoeuro_supplier(shop, handle, **options):
    return SupplierFactory(
        shop=shop,
        name=f"Автоевро {handle.port}",
        kind=SupplierKind.AUTOEURO,
        base_url=f"{handle.url}/api/v2/json",
        login="",
        secret="demo",
        options={"delivery_key": "demo-pickup-msk", "payer_key": "demo-payer", **options},
        timeout_s=Decimal("1.0"),
    )


def test_an_autoeuro_order_whose_answer_is_lost_is_found_not_placed_twice(
    shop, advisor, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=4, order_hang_first=True, order_stage_s=60) as demo:
        supplier = _autoeuro_supplier(shop, demo)
        version = _accepted(shop, [(supplier, demo, 2)])
        (order,), created = _confirm(version, django_capture_on_commit_callbacks, advisor)
        order.refresh_from_db()
        assert created and order.status == OrderStatus.PLACING
        assert demo.orders.create_calls == 1
        poll_supplier_orders.apply()
        order.refresh_from_db()
        booked = next(iter(demo.orders.orders.values()))
        assert order.status == OrderStatus.PLACED, order.last_error
        assert order.supplier_number == booked.number
        assert booked.client_number == order.client_number
        assert set(order.lines.values_list("status", flat=True)) == {OrderLineStatus.ORDERED}
        poll_supplier_orders.apply()
        assert demo.orders.create_calls == 1


def test_autoeuro_without_payer_and_partssoft_are_refused_with_what_to_do(
    shop, advisor, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=5) as demo:
        autoeuro = _autoeuro_supplier(shop, demo, payer_key="")
        partssoft = SupplierFactory(
            shop=shop,
            name="ЗапчастиПро",
            kind=SupplierKind.PARTSSOFT,
            base_url=demo.url,
            login="",
            secret="demo",
            options={},
            timeout_s=Decimal("1.0"),
        )
        version = _accepted(shop, [(autoeuro, demo, 1), (partssoft, demo, 1)])
        with pytest.raises(ValidationError) as refused:
            _confirm(version, django_capture_on_commit_callbacks, advisor)
    messages = " ".join(refused.value.messages)
    assert "не указан плательщик (payer_key)" in messages
    assert "ЗапчастиПро" in messages and "закажите на сайте поставщика" in messages
    assert not version.supplier_orders.exists()
    assert demo.orders.create_calls == 0


def test_an_autoeuro_order_is_followed_to_delivered_by_the_poller(
    shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=6, order_stage_s=0.2) as demo:
        supplier = _autoeuro_supplier(shop, demo)
        version = _accepted(shop, [(supplier, demo, 2)])
        (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
        _poll_until(order, lambda o: o.status == OrderStatus.DELIVERED, "the order delivered")
    assert set(order.lines.values_list("status", flat=True)) == {OrderLineStatus.DELIVERED}
