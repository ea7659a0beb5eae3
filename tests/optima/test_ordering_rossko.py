"""Ordering from Rossko through the whole machinery: exactly once when GetCheckout's answer
is lost after the supplier booked the order, then followed to delivery by the polling task.
The supplier is the demo supplier's Rossko desk (SOAP over HTTP on 127.0.0.1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optima.demo_supplier import start_in_thread
from optima.ordering_models import OrderLineStatus, OrderStatus
from optima.tasks import poll_supplier_orders
from tests.factories import SupplierFactory

from .test_ordering import _accepted, _confirm, _poll_until


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def _rossko(shop, demo):
    credentials = demo.rossko_credentials
    return SupplierFactory(
        shop=shop,
        name=f"Росско {demo.port}",
        kind="rossko",
        base_url=demo.url + "/service/v2.1",
        login=credentials["login"],
        secret=credentials["password"],
        options={"delivery_id": "000000001", "payment_id": "1"},
        timeout_s=Decimal("1.0"),
    )


def test_rossko_order_reaches_the_supplier_once_when_its_answer_is_lost(
    shop, advisor, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=6, order_hang_first=True, order_stage_s=60) as demo:
        supplier = _rossko(shop, demo)
        version = _accepted(shop, [(supplier, demo, 2)])

        (order,), created = _confirm(version, django_capture_on_commit_callbacks, advisor)
        assert created
        order.refresh_from_db()
        # Rossko booked the order and GetCheckout's answer never came.
        assert order.status == OrderStatus.PLACING
        assert "не ответил" in order.last_error
        assert demo.orders.create_calls == 1 and len(demo.orders.orders) == 1

        # The poller's attempt lists the orders (GetOrders) and finds ours by its number.
        poll_supplier_orders.apply()
        order.refresh_from_db()
        booked = next(iter(demo.orders.orders.values()))
        assert order.status == OrderStatus.PLACED
        assert order.supplier_number == booked.number
        assert booked.client_number == order.client_number
        assert demo.orders.create_calls == 1 and len(demo.orders.orders) == 1
        assert set(order.lines.values_list("status", flat=True)) == {OrderLineStatus.ORDERED}


def test_rossko_order_is_followed_to_delivery_by_the_polling_task(
    shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=6, order_stage_s=0.2) as demo:
        supplier = _rossko(shop, demo)
        version = _accepted(shop, [(supplier, demo, 2)])
        (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
        assert order.status != OrderStatus.FAILED, order.last_error
        _poll_until(order, lambda o: o.status == OrderStatus.DELIVERED, "the order delivered")
    assert set(order.lines.values_list("status", flat=True)) == {OrderLineStatus.DELIVERED}
