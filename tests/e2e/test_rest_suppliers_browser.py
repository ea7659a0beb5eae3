"""The manager connects Autoeuro in a real browser (a missing delivery point is named, nothing
typed is lost), and the advisor's order page says which suppliers take orders by API and
which must be ordered on the supplier's site (Parts-Soft). Screenshots: SHOTS_DIR."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from optima.demo_supplier import start_in_thread
from optima.models import OfferStatus, Supplier
from optima.suppliers import normalize_number
from tests.factories import OfferVersionFactory, SupplierFactory
from tests.optima.test_ordering import _option

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SHOTS = Path(os.environ.get("SHOTS_DIR") or "var/shots")
DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}


def _login(page, live_server, membership) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))


@pytest.mark.timeout(120)
def test_manager_connects_autoeuro_and_is_told_the_missing_delivery_point(
    desktop_page, live_server, shop, manager
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = desktop_page
    page.set_viewport_size(DESKTOP)
    _login(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/parts/suppliers/new/")
    page.fill("#id_name", "Автоевро")
    page.select_option("#id_kind", "autoeuro")
    page.fill("#id_secret", "aeKey0123456789")
    page.fill("#id_autoeuro_payer_key", "payer-3")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_text("укажите способ получения (delivery_key)")).to_be_visible()
    expect(page.locator("#id_autoeuro_payer_key")).to_have_value("payer-3")
    expect(page.locator("#id_name")).to_have_value("Автоевро")
    page.screenshot(path=SHOTS / "autoeuro_form_error_desktop.png", full_page=True)
    page.fill("#id_secret", "aeKey0123456789")  # a password field is never sent back
    page.fill("#id_autoeuro_delivery_key", "dk-msk-17")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_url(re.compile(r"/staff/parts/suppliers/$"))
    page.screenshot(path=SHOTS / "suppliers_desktop.png", full_page=True)
    supplier = Supplier.objects.get(shop=shop, kind="autoeuro")
    assert supplier.options == {"delivery_key": "dk-msk-17", "payer_key": "payer-3"}


@pytest.mark.timeout(120)
def test_order_page_sends_partssoft_lines_to_the_suppliers_site(
    desktop_page, live_server, shop, advisor, settings
):
    from optima import services

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with start_in_thread(seed=5) as demo:
        autoeuro = SupplierFactory(
            shop=shop,
            name="Автоевро",
            kind="autoeuro",
            base_url=f"{demo.url}/api/v2/json",
            login="",
            secret="demo",
            options={"delivery_key": "demo-pickup-msk", "payer_key": "demo-payer"},
        )
        partssoft = SupplierFactory(
            shop=shop,
            name="ЗапчастиПро",
            kind="partssoft",
            base_url=demo.url,
            login="",
            secret="demo",
        )
        number = demo.catalogue.oem_numbers[0]
        positions = []
        for supplier in (autoeuro, partssoft):
            answer = services.supplier_ask(
                supplier=supplier, number=normalize_number(number), deadline=time.monotonic() + 5
            )
            assert answer.offers, answer.message
            offer = answer.offers[0]
            positions.append(
                {"number": number, "name": offer.name, "options": [_option(supplier, offer)]}
            )
        version = OfferVersionFactory(
            offer__shop=shop,
            positions=positions,
            status=OfferStatus.ACCEPTED,
            accepted_choice={"0": 0, "1": 0},
        )
        page = desktop_page
        page.set_viewport_size(TABLET)
        _login(page, live_server, advisor)
        page.goto(f"{live_server.url}/staff/parts/offers/{version.pk}/order/")
        expect(page.get_by_text("заказ через API поставщика")).to_be_visible()
        expect(page.get_by_text("закажите на сайте поставщика")).to_be_visible()
        page.screenshot(path=SHOTS / "order_page_tablet.png", full_page=True)
        page.get_by_role("button", name="Подтвердить и заказать").click()
        expect(
            page.get_by_text(re.compile("на Parts-Soft не принимает заказы через API"))
        ).to_be_visible()
        page.screenshot(path=SHOTS / "order_refused_tablet.png", full_page=True)
        assert demo.orders.create_calls == 0


@pytest.mark.timeout(120)
def test_advisor_search_shows_autoeuro_and_partssoft_answers(
    desktop_page, live_server, shop, advisor, settings
):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with start_in_thread(seed=4) as autoeuro_demo, start_in_thread(seed=5) as partssoft_demo:
        SupplierFactory(
            shop=shop,
            name="Автоевро",
            kind="autoeuro",
            base_url=f"{autoeuro_demo.url}/api/v2/json",
            login="",
            secret="demo",
            options={"delivery_key": "demo-pickup-msk", "payer_key": "demo-payer"},
        )
        SupplierFactory(
            shop=shop,
            name="ЗапчастиПро",
            kind="partssoft",
            base_url=partssoft_demo.url,
            login="",
            secret="demo",
        )
        page = desktop_page
        page.set_viewport_size(DESKTOP)
        _login(page, live_server, advisor)
        page.goto(f"{live_server.url}/staff/parts/")
        page.fill("#id_numbers", autoeuro_demo.catalogue.oem_numbers[0])
        page.get_by_role("button", name="Спросить всех поставщиков").click()
        page.wait_for_url(re.compile(r"/staff/parts/\d+/$"))
        badges = page.locator("#parts-table .supplier-states .badge")
        for name in ("Автоевро", "ЗапчастиПро"):
            expect(badges.filter(has_text=f"{name}: ответил")).to_be_visible(timeout=20_000)
        rows = page.locator("#parts-table .parts-table tbody tr")
        for name in ("Автоевро", "ЗапчастиПро"):
            assert rows.filter(has_text=name).count() > 0, f"no offers from {name}"
        page.screenshot(path=SHOTS / "search_results_desktop.png", full_page=True)
