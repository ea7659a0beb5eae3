"""Ordering the parts of an accepted offer: exactly once (through a lost answer and a double
click), followed to delivery on the lead's timeline by the polling task, rejections and price
changes alerting the advisor, price-list suppliers ordered by e-mail with an XLSX.

The suppliers are the demo suppliers over HTTP on 127.0.0.1, speaking ABCP and Armtek."""

from __future__ import annotations

import datetime as dt
import io
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from autoservice.models import OutboxMessage
from autoservice.outbox import outbox_deliver_now
from leads.models import LeadEvent
from optima import ordering, services
from optima.demo_supplier import start_in_thread
from optima.models import DeliveryRecord, OfferStatus, PricingSettings
from optima.ordering_models import OrderLineStatus, OrderStatus, SupplierOrder
from optima.reliability import deliveries_open
from optima.suppliers import normalize_number
from optima.tasks import poll_supplier_orders
from tests.factories import OfferVersionFactory, SupplierFactory
from tests.realstack import wait_for


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def _supplier(shop, handle, kind="abcp", **extra):
    credentials = handle.armtek_credentials if kind == "armtek" else {}
    options = {k: v for k, v in credentials.items() if k in ("VKORG", "KUNNR_RG")}
    return SupplierFactory(
        shop=shop,
        name=f"Демо {kind} {handle.port}",
        kind=kind,
        base_url=handle.url,
        login="demo",
        secret="demo",
        options=options,
        timeout_s=Decimal("1.0"),
        **extra,
    )


def _option(supplier, offer) -> dict:
    return {
        "label": "самый выгодный",
        "brand": offer.brand,
        "number": offer.number_raw,
        "name": offer.name,
        "quality": offer.quality,
        "supplier_id": supplier.pk,
        "supplier_name": supplier.name,
        "list_price_rub": str(offer.price_rub),
        "purchase_rub": str(offer.price_rub),
        "customer_rub": str(offer.price_rub * Decimal("1.3")),
        "delivery_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
        "warranty_months": None,
        "order_ref": offer.order_ref,
        "number_key": offer.number_key,
        "in_stock": True,
    }


def _accepted(shop, picks) -> object:
    """An accepted offer whose parts are real demo offers: `picks` is [(supplier, handle,
    how many numbers)]; each position is the first priced offer the supplier gives."""
    positions = []
    for supplier, handle, count in picks:
        for number in handle.catalogue.oem_numbers[:count]:
            answer = services.supplier_ask(
                supplier=supplier,
                number=normalize_number(number),
                deadline=time.monotonic() + 5,
            )
            assert answer.offers, answer.message
            own = [o for o in answer.offers if not o.is_cross] or answer.offers
            positions.append(
                {"number": number, "name": own[0].name, "options": [_option(supplier, own[0])]}
            )
    version = OfferVersionFactory(
        offer__shop=shop,
        positions=positions,
        status=OfferStatus.ACCEPTED,
        accepted_at=timezone.now(),
        accepted_choice={str(i): 0 for i in range(len(positions))},
    )
    deliveries_open(version)
    return version


def _confirm(version, capture, advisor=None):
    with capture(execute=True):
        orders, created = ordering.orders_confirm(version=version, by=advisor)
    return orders, created


def _poll_until(order, condition, what):
    def check():
        poll_supplier_orders.apply()
        order.refresh_from_db()
        return condition(order)

    return wait_for(check, seconds=20, what=what, context=lambda: order.last_error)


def _timeline(version) -> list[LeadEvent]:
    return list(version.offer.lead.events.order_by("created_at", "id"))


# --- exactly once ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["abcp", "armtek"])
def test_order_reaches_the_supplier_once_when_its_answer_is_lost(
    shop, advisor, kind, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=3, order_hang_first=True, order_stage_s=60) as demo:
        supplier = _supplier(shop, demo, kind)
        version = _accepted(shop, [(supplier, demo, 2)])

        (order,), created = _confirm(version, django_capture_on_commit_callbacks, advisor)
        assert created
        order.refresh_from_db()
        # The supplier booked the order and its answer never came: the outcome is unknown.
        assert order.status == OrderStatus.PLACING
        assert "не ответил" in order.last_error
        assert demo.orders.create_calls == 1 and len(demo.orders.orders) == 1

        # The next attempt (the poller's) finds the order under our number instead of placing
        # it again.
        poll_supplier_orders.apply()
        order.refresh_from_db()
        booked = next(iter(demo.orders.orders.values()))
        assert order.status == OrderStatus.PLACED
        assert order.supplier_number == booked.number
        assert booked.client_number == order.client_number
        assert demo.orders.create_calls == 1 and len(demo.orders.orders) == 1
        assert set(order.lines.values_list("status", flat=True)) == {OrderLineStatus.ORDERED}

        poll_supplier_orders.apply()
        assert demo.orders.create_calls == 1


def test_double_click_on_confirm_orders_once(
    advisor_client, shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=4, order_stage_s=60) as first, start_in_thread(seed=5) as second:
        a, b = _supplier(shop, first), _supplier(shop, second, "armtek")
        version = _accepted(shop, [(a, first, 2), (b, second, 1)])
        url = reverse("optima:order_confirm", args=[version.pk])
        with django_capture_on_commit_callbacks(execute=True):
            one = advisor_client.post(url)
            two = advisor_client.post(url)
        assert one.status_code == two.status_code == 302
        assert SupplierOrder.objects.filter(version=version).count() == 2
        assert first.orders.create_calls == 1 and second.orders.create_calls == 1
        page = advisor_client.get(url).content.decode()
        assert "повторно не заказываем" in page
        assert set(SupplierOrder.objects.values_list("status", flat=True)) == {OrderStatus.PLACED}


def test_ordering_page_shows_todays_price_from_the_recheck(advisor_client, shop):
    with start_in_thread(seed=6) as demo:
        supplier = _supplier(shop, demo)
        version = _accepted(shop, [(supplier, demo, 1)])
        agreed = Decimal(version.positions[0]["options"][0]["list_price_rub"])
        version.recheck = [
            {"position": 0, "status": "price_up", "list_price_rub": str(agreed + 100)}
        ]
        version.save()
        page = advisor_client.get(reverse("optima:order_confirm", args=[version.pk]))
        text = page.content.decode()
        assert page.status_code == 200
        assert supplier.name in text and "Подтвердить и заказать" in text
        assert "в наличии" in text and "text-danger fw-semibold" in text


# --- following the order -----------------------------------------------------------------------


def test_status_reaches_delivered_on_the_timeline_through_the_polling_task(
    shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=7, order_stage_s=0.2) as demo:
        supplier = _supplier(shop, demo, "armtek")
        version = _accepted(shop, [(supplier, demo, 2)])
        (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
        _poll_until(order, lambda o: o.status == OrderStatus.DELIVERED, "the order delivered")

    statuses = [e.data.get("order_status") for e in _timeline(version) if e.data]
    statuses = [s for s in statuses if s]
    assert statuses[0] == OrderStatus.PLACED and statuses[-1] == OrderStatus.DELIVERED
    assert statuses == sorted(statuses, key=list(ordering._RANK).index)
    assert order.delivered_at is not None
    # Delivered lines are the supplier's deliveries, arrived today: reliability counts them.
    records = DeliveryRecord.objects.filter(version=version, supplier=supplier)
    assert records.count() == 2
    assert all(r.arrived_on == timezone.localdate() for r in records)


def test_a_rejected_line_alerts_the_advisor_with_the_reason(
    shop, django_capture_on_commit_callbacks
):
    shop.notification_emails = "master@example.ru"
    shop.save()
    with start_in_thread(seed=8, order_stage_s=0.2, order_reject_rate=1.0) as demo:
        supplier = _supplier(shop, demo)
        version = _accepted(shop, [(supplier, demo, 2)])
        (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
        _poll_until(
            order,
            lambda o: o.lines.filter(status=OrderLineStatus.REJECTED).exists(),
            "a line rejected",
        )
    rejected = order.lines.get(status=OrderLineStatus.REJECTED)
    assert rejected.reject_reason == "Нет у поставщика, поставка отменена"
    alerts = [e for e in _timeline(version) if e.data.get("alert")]
    assert len(alerts) == 1 and rejected.number in alerts[0].text
    assert order.status in (OrderStatus.PARTLY_REJECTED, OrderStatus.SHIPPED)
    message = OutboxMessage.objects.get(kind=ordering.NOTIFY_ORDER_ALERT)
    assert outbox_deliver_now(message.pk) == "sent"
    assert mail.outbox[-1].to == ["master@example.ru"]
    assert "Нет у поставщика" in mail.outbox[-1].body


def test_a_price_change_above_the_shops_tolerance_alerts_once(shop):
    PricingSettings.objects.update_or_create(
        shop=shop, defaults={"order_price_tolerance_pct": Decimal("5")}
    )
    version = OfferVersionFactory(
        offer__shop=shop, status=OfferStatus.ACCEPTED, accepted_choice={"0": 0}
    )
    supplier = SupplierFactory(shop=shop)
    order = SupplierOrder.objects.create(
        shop=shop,
        supplier=supplier,
        version=version,
        client_number="AS-T-1",
        status=OrderStatus.PLACED,
        supplier_number="1",
    )
    order.lines.create(
        position=0,
        brand="HYUNDAI/KIA",
        number="86511-4L000",
        number_key="865114L000",
        price_agreed_rub=Decimal("20000.00"),
        status=OrderLineStatus.ORDERED,
    )
    from optima.suppliers.orders import SupplierLine, SupplierOrderState

    def report(price):
        state = SupplierOrderState("1", [SupplierLine(0, "865114L000", "confirmed", "", price)])
        ordering.order_state_apply(order_id=order.pk, state=state)

    report(Decimal("20900.00"))  # +4.5 %: within the tolerance
    assert not [e for e in _timeline(version) if e.data.get("alert")]
    report(Decimal("21500.00"))  # +7.5 %
    report(Decimal("21500.00"))  # the same answer again: no second alert
    alerts = [e for e in _timeline(version) if e.data.get("alert")]
    assert len(alerts) == 1 and "21500.00" in alerts[0].text
    assert OutboxMessage.objects.filter(kind=ordering.NOTIFY_ORDER_ALERT).count() == 1


def test_armtek_test_mode_checks_the_order_and_books_nothing(
    shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=9, order_stage_s=0.2) as demo:
        supplier = _supplier(shop, demo, "armtek", order_test_mode=True)
        version = _accepted(shop, [(supplier, demo, 1)])
        (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
        order.refresh_from_db()
        assert order.test_mode and order.status == OrderStatus.PLACED
        assert demo.orders.test_calls == 1 and not demo.orders.orders
        poll_supplier_orders.apply()
        order.refresh_from_db()
        assert order.status == OrderStatus.PLACED and order.polled_at is None


# --- price-list suppliers: an e-mail with an XLSX -----------------------------------------------


def _pricelist_version(shop, supplier):
    option = {
        "label": "самый выгодный",
        "brand": "SAT",
        "number": "ST-HN01-000",
        "name": "Бампер передний",
        "quality": "aftermarket",
        "supplier_id": supplier.pk,
        "supplier_name": supplier.name,
        "list_price_rub": "6000.00",
        "purchase_rub": "6000.00",
        "customer_rub": "7500.00",
        "delivery_date": "2026-12-01",
        "warranty_months": None,
        "order_ref": {},
        "number_key": "STHN01000",
    }
    return OfferVersionFactory(
        offer__shop=shop,
        positions=[{"number": "865114L000", "name": "Бампер", "options": [option]}],
        status=OfferStatus.ACCEPTED,
        accepted_choice={"0": 0},
    )


def test_price_list_supplier_gets_the_order_by_email_with_an_xlsx_once(
    shop, django_capture_on_commit_callbacks
):
    from openpyxl import load_workbook

    supplier = SupplierFactory(
        shop=shop, kind="pricelist", base_url="", order_email="zakaz@parts.example.ru"
    )
    version = _pricelist_version(shop, supplier)
    (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
    _confirm(version, django_capture_on_commit_callbacks)  # a second click: nothing new
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    # Queued through the outbox after the commit, delivered once.
    message = OutboxMessage.objects.get(kind=ordering.NOTIFY_ORDER_EMAIL)
    assert outbox_deliver_now(message.pk) in ("sent", "skipped")
    message.refresh_from_db()
    assert message.status == "sent"
    (email,) = mail.outbox
    assert email.to == ["zakaz@parts.example.ru"] and order.client_number in email.subject
    name, content, mimetype = email.attachments[0]
    assert name.endswith(".xlsx") and "spreadsheetml" in mimetype
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert ("SAT", "ST-HN01-000", "Бампер передний", 1, 6000) in rows
    assert any("отправлен поставщику" in e.text for e in _timeline(version))


def test_price_list_supplier_without_an_order_address_is_named_and_nothing_is_ordered(
    advisor_client, shop
):
    supplier = SupplierFactory(shop=shop, kind="pricelist", base_url="", name="Прайс Юг")
    version = _pricelist_version(shop, supplier)
    response = advisor_client.post(reverse("optima:order_confirm", args=[version.pk]))
    assert response.status_code == 400
    assert "У поставщика «Прайс Юг» не указан адрес для заказов" in response.content.decode()
    assert not SupplierOrder.objects.exists()


def test_an_offer_not_accepted_cannot_be_ordered(advisor_client, shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    response = advisor_client.post(reverse("optima:order_confirm", args=[version.pk]))
    assert response.status_code == 400
    assert "только принятое клиентом" in response.content.decode()
    assert not SupplierOrder.objects.exists()


def test_orders_list_and_detail_show_the_order(
    advisor_client, shop, django_capture_on_commit_callbacks
):
    supplier = SupplierFactory(
        shop=shop, kind="pricelist", base_url="", order_email="zakaz@parts.example.ru"
    )
    version = _pricelist_version(shop, supplier)
    (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
    listing = advisor_client.get(reverse("optima:orders")).content.decode()
    assert order.client_number in listing and supplier.name in listing
    detail = advisor_client.get(reverse("optima:order_detail", args=[order.pk])).content.decode()
    assert "ST-HN01-000" in detail and "размещён" in detail


def test_orders_list_queries_do_not_grow_with_the_orders(advisor_client, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_orders(count):
        for _ in range(count):
            version = OfferVersionFactory(
                offer__shop=shop, status=OfferStatus.ACCEPTED, accepted_choice={"0": 0}
            )
            order = SupplierOrder.objects.create(
                shop=shop,
                supplier=SupplierFactory(shop=shop),
                version=version,
                client_number=f"AS{shop.pk}-{version.pk}",
            )
            order.lines.create(
                position=0,
                brand="SAT",
                number="ST-HN01-000",
                number_key="STHN01000",
                price_agreed_rub=Decimal("6000.00"),
                status=OrderLineStatus.REJECTED,
            )

    url = reverse("optima:orders")
    add_orders(1)
    with CaptureQueriesContext(connection) as one:
        assert advisor_client.get(url).status_code == 200
    add_orders(6)
    with CaptureQueriesContext(connection) as seven:
        response = advisor_client.get(url)
    assert response.content.decode().count("отказ по 1 строке") == 7
    assert len(seven) == len(one)


# --- the supplier's order lots ----------------------------------------------------------------


def test_lot_quantity_is_raised_to_the_minimum_and_rounded_up_to_the_lot():
    assert ordering.lot_quantity(1, 1, 1) == 1
    assert ordering.lot_quantity(1, 10, 5) == 10  # Armtek MINBM 10, RDPRF 5
    assert ordering.lot_quantity(11, 10, 5) == 15
    assert ordering.lot_quantity(3, 1, 2) == 4  # ABCP packing 2
    assert ordering.lot_quantity(2, 0, 0) == 2  # nonsense rules count as none


@pytest.mark.parametrize("kind", ["armtek", "abcp"])
def test_a_part_sold_in_lots_is_ordered_in_the_suppliers_quantity_once_the_advisor_agrees(
    advisor_client, shop, kind, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=3, order_stage_s=60) as demo:
        supplier = _supplier(shop, demo, kind)
        clip = "N90796001"  # a VAG clip: the demo sells clips by 5 or 10
        answer = services.supplier_ask(
            supplier=supplier, number=clip, deadline=time.monotonic() + 5
        )
        offer = next(o for o in answer.offers if not o.is_cross and o.multiple > 1)
        option = {**_option(supplier, offer), "min_qty": offer.min_qty, "multiple": offer.multiple}
        version = OfferVersionFactory(
            offer__shop=shop,
            positions=[{"number": clip, "name": offer.name, "options": [option]}],
            status=OfferStatus.ACCEPTED,
            accepted_at=timezone.now(),
            accepted_choice={"0": 0},
        )
        lot = offer.order_quantity(1)
        assert lot > 1

        url = reverse("optima:order_confirm", args=[version.pk])
        page = advisor_client.get(url).content.decode()
        assert f"кратно {offer.multiple}" in page and 'name="lots_accepted"' in page
        refused = advisor_client.post(url)
        assert refused.status_code == 400
        assert "продаёт партиями" in refused.content.decode()
        assert f"закажем {lot} шт. вместо 1" in refused.content.decode()
        assert not SupplierOrder.objects.filter(version=version).exists()
        assert demo.orders.create_calls == 0

        with django_capture_on_commit_callbacks(execute=True):
            assert advisor_client.post(url, {"lots_accepted": "on"}).status_code == 302
            # A resent form does not order again, whatever it says about lots.
            assert advisor_client.post(url).status_code == 302
        (order,) = SupplierOrder.objects.filter(version=version)
        (line,) = order.lines.all()
        assert (line.qty, line.qty_needed) == (lot, 1)
        assert demo.orders.create_calls == 1
        (booked,) = demo.orders.orders.values()
        assert [booked_line.qty for booked_line in booked.lines] == [lot]
        # The customer's price is the offer's, untouched; the timeline says why more is ordered.
        version.refresh_from_db()
        assert version.positions[0]["options"][0]["customer_rub"] == option["customer_rub"]
        assert any(f"{lot} шт. вместо 1" in e.text for e in _timeline(version))


# --- cancelling -------------------------------------------------------------------------------


def test_an_advisor_cancels_a_placed_line_then_the_order_once_each_and_is_told_to_call_the_supplier(
    advisor_client, shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=7, order_stage_s=60) as demo:
        supplier = _supplier(shop, demo)
        version = _accepted(shop, [(supplier, demo, 2)])
        (order,), _ = _confirm(version, django_capture_on_commit_callbacks)
        order.refresh_from_db()
        assert order.status == OrderStatus.PLACED
        first, second = order.lines.order_by("position")
        url = reverse("optima:order_cancel", args=[order.pk])

        page = advisor_client.get(reverse("optima:order_detail", args=[order.pk]))
        assert 'name="line"' in page.content.decode()
        response = advisor_client.post(url, {"line": [first.pk], "reason": "клиент передумал"})
        assert response.status_code == 302
        first.refresh_from_db()
        order.refresh_from_db()
        assert first.status == OrderLineStatus.CANCELLED
        assert order.status == OrderStatus.PLACED  # the other line is still on order
        notes = [e.text for e in _timeline(version) if "отменены позиции" in e.text]
        assert len(notes) == 1
        assert "Отмените их у поставщика" in notes[0] and "клиент передумал" in notes[0]
        # Nothing will arrive for the cancelled line: the supplier's record does not wait.
        assert not DeliveryRecord.objects.filter(
            version=version, number=first.number, arrived_on__isnull=True
        ).exists()

        # The same cancel again (a double click) changes nothing and writes nothing.
        advisor_client.post(url, {"line": [first.pk]})
        assert len([e for e in _timeline(version) if "отменены позиции" in e.text]) == 1

        # The supplier still reports the line as ordered: it stays cancelled here.
        poll_supplier_orders.apply()
        first.refresh_from_db()
        assert first.status == OrderLineStatus.CANCELLED

        # Nothing ticked: the whole order (what is left of it).
        advisor_client.post(url)
        order.refresh_from_db()
        second.refresh_from_db()
        assert second.status == OrderLineStatus.CANCELLED
        assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
        assert any("отменён" in e.text for e in _timeline(version) if e.data.get("order_status"))
        # A cancelled order is no longer asked about.
        assert poll_supplier_orders.apply().get()["polled"] == 0
        assert demo.orders.create_calls == 1


def test_a_draft_order_cancelled_before_sending_is_never_placed(shop, advisor):
    with start_in_thread(seed=8) as demo:
        supplier = _supplier(shop, demo)
        version = _accepted(shop, [(supplier, demo, 1)])
        # Confirmed, but the queue never ran it (the broker was down).
        (order,), _ = ordering.orders_confirm(version=version, by=advisor)
        cancelled = ordering.order_cancel(order=order, by=advisor)
        assert len(cancelled) == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        assert any("до отправки поставщику" in e.text for e in _timeline(version))
        SupplierOrder.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=5)
        )
        ordering.orders_place([order.pk])
        poll_supplier_orders.apply()
        assert demo.orders.create_calls == 0
        assert ordering.order_cancel(order=order, by=advisor) == []


def test_an_order_being_sent_or_shipped_cannot_be_cancelled(advisor_client, shop):
    supplier = SupplierFactory(shop=shop)
    version = OfferVersionFactory(
        offer__shop=shop, status=OfferStatus.ACCEPTED, accepted_choice={"0": 0}
    )
    order = SupplierOrder.objects.create(
        shop=shop, supplier=supplier, version=version, client_number="AS-T-1"
    )
    url = reverse("optima:order_cancel", args=[order.pk])
    for status, words in (
        (OrderStatus.PLACING, "ещё отправляется"),
        (OrderStatus.SHIPPED, "оформите возврат"),
    ):
        SupplierOrder.objects.filter(pk=order.pk).update(status=status)
        page = advisor_client.post(url, follow=True).content.decode()
        assert words in page
        order.refresh_from_db()
        assert order.status == status


def test_another_shops_order_cannot_be_cancelled(client, shop, other_shop):
    from tests.factories import MembershipFactory

    supplier = SupplierFactory(shop=other_shop)
    version = OfferVersionFactory(offer__shop=other_shop, status=OfferStatus.ACCEPTED)
    order = SupplierOrder.objects.create(
        shop=other_shop, supplier=supplier, version=version, client_number="AS-O-1"
    )
    client.force_login(MembershipFactory(shop=shop).user)
    assert client.post(reverse("optima:order_cancel", args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
