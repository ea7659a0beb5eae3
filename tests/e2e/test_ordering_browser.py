"""The advisor orders the parts of an accepted offer in a real browser: the page groups the
lines by supplier, a double click on "confirm" places one order per supplier, and the orders
list shows them."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from optima.demo_supplier import start_in_thread
from optima.models import OfferStatus
from optima.ordering_models import SupplierOrder
from optima.suppliers import normalize_number
from tests.factories import OfferVersionFactory, SupplierFactory
from tests.optima.test_ordering import _option

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.timeout(120)
def test_advisor_confirms_the_order_with_a_double_click_and_each_supplier_gets_one(
    desktop_page, live_server, shop, advisor
):
    from optima import services

    with start_in_thread(seed=21, order_stage_s=60) as demo:
        api = SupplierFactory(
            shop=shop,
            name="АвтоРесурс",
            kind="abcp",
            base_url=demo.url,
            login="demo",
            secret="demo",
        )
        mail_supplier = SupplierFactory(
            shop=shop,
            name="Прайс Юг",
            kind="pricelist",
            base_url="",
            order_email="zakaz@yug.example.ru",
        )
        number = demo.catalogue.oem_numbers[0]
        answer = services.supplier_ask(
            supplier=api, number=normalize_number(number), deadline=time.monotonic() + 5
        )
        offer = answer.offers[0]
        by_mail = dict(_option(api, offer), supplier_id=mail_supplier.pk, order_ref={})
        version = OfferVersionFactory(
            offer__shop=shop,
            positions=[
                {"number": number, "name": offer.name, "options": [_option(api, offer)]},
                {"number": number, "name": "Кронштейн", "options": [by_mail]},
            ],
            status=OfferStatus.ACCEPTED,
            accepted_choice={"0": 0, "1": 0},
        )

        page = desktop_page
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", advisor.user.username)
        page.fill("#id_password", "correct-horse-42")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/staff/"))
        page.goto(f"{live_server.url}/staff/parts/offers/{version.pk}/order/")
        expect(page.get_by_text("заказ через API поставщика")).to_be_visible()
        expect(page.get_by_text("заказ письмом с XLSX на zakaz@yug.example.ru")).to_be_visible()

        page.get_by_role("button", name="Подтвердить и заказать").dblclick()
        expect(page.get_by_text("Заказ отправляется поставщикам.")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(r"^AS\d+-"))).to_have_count(2)
        assert SupplierOrder.objects.filter(version=version).count() == 2
        assert demo.orders.create_calls == 1

        page.get_by_role("link", name="Все заказы").first.click()
        expect(page.get_by_role("heading", name="Заказы поставщикам")).to_be_visible()
        expect(page.get_by_text("АвтоРесурс")).to_be_visible()


@pytest.mark.timeout(120)
def test_advisor_orders_a_clip_in_the_suppliers_lot_then_cancels_it(
    desktop_page, live_server, shop, advisor
):
    from pathlib import Path

    from optima import services
    from optima.ordering_models import OrderLineStatus

    shots = Path("/work/shots/h6")
    shots.mkdir(parents=True, exist_ok=True)
    with start_in_thread(seed=3, order_stage_s=60) as demo:
        api = SupplierFactory(
            shop=shop,
            name="АвтоРесурс",
            kind="abcp",
            base_url=demo.url,
            login="demo",
            secret="demo",
        )
        answer = services.supplier_ask(
            supplier=api, number="N90796001", deadline=time.monotonic() + 5
        )
        offer = next(o for o in answer.offers if not o.is_cross and o.multiple > 1)
        option = {**_option(api, offer), "min_qty": offer.min_qty, "multiple": offer.multiple}
        version = OfferVersionFactory(
            offer__shop=shop,
            positions=[{"number": "N90796001", "name": offer.name, "options": [option]}],
            status=OfferStatus.ACCEPTED,
            accepted_choice={"0": 0},
        )
        lot = offer.order_quantity(1)

        page = desktop_page
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", advisor.user.username)
        page.fill("#id_password", "correct-horse-42")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/staff/"))
        page.goto(f"{live_server.url}/staff/parts/offers/{version.pk}/order/")
        expect(page.locator(".lot-rule")).to_contain_text(f"кратно {offer.multiple}")
        expect(page.locator(".lot-rule")).to_contain_text("клиенту 1")
        page.get_by_role("button", name="Подтвердить и заказать").click()
        expect(page.get_by_text("поставщик продаёт партиями")).to_be_visible()
        assert demo.orders.create_calls == 0
        page.locator("#lots_accepted").check()
        page.screenshot(path=str(shots / "order-confirm-lots-1440.png"), full_page=True)
        page.get_by_role("button", name="Подтвердить и заказать").click()
        expect(page.get_by_text("Заказ отправляется поставщикам.")).to_be_visible()
        order = SupplierOrder.objects.get(version=version)
        assert order.lines.get().qty == lot and demo.orders.create_calls == 1

        page.get_by_role("link", name=order.client_number).click()
        page.locator("input[name='line']").check()
        page.fill("input[name='reason']", "клиент нашёл клипсы сам")
        page.get_by_role("button", name="Отменить отмеченные позиции или весь заказ").click()
        expect(page.get_by_text("Отмените заказ у поставщика")).to_be_visible()
        expect(page.get_by_text("Отмените их у поставщика")).to_be_visible()
        page.screenshot(path=str(shots / "order-cancelled-1440.png"), full_page=True)
        assert order.lines.get().status == OrderLineStatus.CANCELLED
