"""A manager connects Rossko in the browser: loads the account's delivery options from Rossko
(the demo supplier's SOAP desk), picks the delivery address from the list, saves; then an
advisor's search shows Rossko's warehouses, crosses as analogues and its delivery window.
Screenshots at the staff viewports go to /tmp/shots-conformance/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from optima.demo_supplier import start_in_thread
from optima.models import Supplier
from tests.factories import SupplierFactory

from .test_supplier_marks_browser import _log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/tmp/shots-conformance")
VIEWPORTS = {"desktop": (1440, 900), "tablet": (820, 1180)}


@pytest.fixture
def rossko(shop):
    demo = start_in_thread(seed=6, name="Росско")
    supplier = SupplierFactory(
        shop=shop,
        name="Росско",
        kind="rossko",
        base_url=demo.url + "/service/v2.1",
        login="demo",
        secret="demo",
        options={},
    )
    yield supplier, demo
    demo.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_loads_rossko_delivery_options_and_the_search_uses_them(
    browser, live_server, manager, rossko, viewport
):
    supplier, demo = rossko
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    page = context.new_page()
    try:
        _log_in(page, live_server, manager)
        page.goto(f"{live_server.url}/staff/parts/suppliers/{supplier.pk}/")
        page.get_by_role("button", name="Загрузить способы доставки").click()
        expect(page.locator(".alert-success")).to_contain_text("способов получения 2")
        page.select_option("#id_rossko_delivery_id", label="Доставка до сервиса")
        page.select_option("#id_rossko_address_id", label="Москва, Автозаводская, 23")
        page.select_option("#id_rossko_payment_id", label="Безналичный расчёт")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SHOTS / f"rossko-settings-{viewport}.png", full_page=True)
        page.get_by_role("button", name="Сохранить").click()
        page.wait_for_url(re.compile(r"/staff/parts/suppliers/$"))
        supplier.refresh_from_db()
        assert supplier.options["delivery_id"] == "000000002"
        assert supplier.options["address_id"] == "270997"

        page.goto(f"{live_server.url}/staff/parts/")
        page.fill("#id_numbers", demo.catalogue.oem_numbers[0])
        page.get_by_role("button", name="Спросить всех поставщиков").click()
        page.wait_for_url(re.compile(r"/staff/parts/\d+/$"))
        states = page.locator("#parts-table .supplier-states .badge")
        expect(states.filter(has_text="Росско: ответил")).to_be_visible(timeout=20_000)
        table = page.locator("#parts-table .parts-table")
        expect(table).to_contain_text("аналог")
        expect(table).to_contain_text("17:00–20:00")  # the own warehouse's delivery window
        page.screenshot(path=SHOTS / f"rossko-search-{viewport}.png", full_page=True)
    finally:
        context.close()
    assert Supplier.objects.filter(kind="rossko").count() == 1
