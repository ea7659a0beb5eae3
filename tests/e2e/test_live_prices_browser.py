"""On a phone (390×844) a driver of a VW Polo sedan marks three broken parts at a shop that
shows its suppliers' prices: the bumper is priced from a supplier's answer of today (dated),
the bonnet from the shop's price list, the headlamp from the reference price, and each says
so in plain Russian. The manager turns the option on from the parts page (1440×900).
Screenshots go to /work/shots/h6/ for a person to look at."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from optima import services
from optima.models import KnownPrice, PricingSettings
from smartcalc.loader import load_calc_data
from smartcalc.models import Generation, ShopPartPrice, ShopRates
from tests.factories import SupplierFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/work/shots/h6")


def _mark_broken(page, part: str) -> None:
    page.locator(f"#part-{part}").tap()
    page.locator("label[for='damage-sheet-kind-broken']").tap()
    page.locator(".damage-sheet [data-action='done']").tap()
    page.wait_for_selector(f"#estimate .estimate-line[data-part='{part}']")


def test_the_driver_sees_which_source_priced_each_part(phone_page, live_server, shop):
    load_calc_data()  # the live server's database is flushed between browser tests
    ShopRates.objects.update_or_create(shop=shop, defaults={"tax_regime": "usn_none"})
    PricingSettings.objects.update_or_create(
        shop=shop, defaults={"show_supplier_prices_to_drivers": True, "round_to_rub": 100}
    )
    polo = Generation.objects.get(model__make__name="Volkswagen", model__name="Polo", name="седан")
    ShopPartPrice.objects.create(
        shop=shop, vehicle_model=polo.model, part="bonnet", original_rub=Decimal("41000")
    )
    supplier = SupplierFactory(shop=shop, name="Автодеталь")
    answered = timezone.now() - dt.timedelta(hours=2)
    offer = {
        "supplier": str(supplier.pk),
        "brand": "VAG",
        "brand_raw": "VAG",
        "number_key": "6RU807221A",
        "number_raw": "6RU807221A",
        "name": "Бампер передний",
        "is_cross": False,
        "quality": "original",
        "price_rub": "27350.00",
        "qty": 2,
        "condition": "new",
        "fetched_at": answered.isoformat(),
    }
    services.known_price_remember(
        supplier=supplier,
        number="6RU807221A",
        payload={"offers": [offer], "fetched_at": answered.isoformat()},
    )
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = phone_page
    page.goto(f"{live_server.url}/s/{shop.slug}/calc/{polo.pk}/sedan/")
    for part in ("bumper_front", "bonnet", "headlamp_left"):
        _mark_broken(page, part)

    as_of = KnownPrice.objects.get().fetched_at.astimezone(shop.tzinfo).strftime("%d.%m")
    bumper, bonnet, headlamp = (
        re.sub(r"[\u202f\xa0]", " ", page.locator(f"#estimate [data-part='{part}']").inner_text())
        for part in ("bumper_front", "bonnet", "headlamp_left")
    )
    assert f"цена поставщика на {as_of}" in bumper and "27 400" in bumper  # rounded to 100 ₽
    assert "прайс сервиса" in bonnet and "41 000" in bonnet
    assert "справочная цена" in headlamp
    page.locator("#estimate").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "calc-live-prices-390.png"), full_page=True)
    page.locator("#estimate .estimate-line[data-part='bumper_front']").screenshot(
        path=str(SHOTS / "calc-live-prices-line-390.png")
    )


def test_the_manager_turns_supplier_prices_for_drivers_on(desktop_page, live_server, manager):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = desktop_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", manager.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))
    page.goto(f"{live_server.url}/staff/parts/suppliers/")
    box = page.locator("#id_rules-show_supplier_prices_to_drivers")
    assert not box.is_checked()
    box.check()
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "parts-settings-live-prices-1440.png"))
    page.locator("#id_rules-show_supplier_prices_to_drivers").evaluate(
        "el => el.form.requestSubmit()"
    )
    page.wait_for_selector("text=Правила цен сохранены")
    assert PricingSettings.objects.get(shop=manager.shop).show_supplier_prices_to_drivers
