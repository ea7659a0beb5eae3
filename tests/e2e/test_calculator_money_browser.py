"""On a phone (390×844) a driver marks a broken tail lamp without a size and a small scratch
that is priced as a spot repair, picks the paint, and reads plain Russian with comma
decimals; the screenshots are kept in /tmp/shots-money/ for a person to look at."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from smartcalc.loader import load_calc_data
from smartcalc.models import Generation, ShopRates

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/tmp/shots-money")


def _total(page) -> Decimal:
    return Decimal(page.locator("#estimate [data-total]").get_attribute("data-total"))


def _wait_for_line(page, part: str) -> None:
    page.wait_for_selector(f"#estimate .estimate-line[data-part='{part}']")


def test_driver_marks_a_broken_lamp_without_size_and_a_spot_scratch(phone_page, live_server, shop):
    load_calc_data()  # the live server's database is flushed between browser tests
    ShopRates.objects.update_or_create(
        shop=shop, defaults={"tax_regime": "usn_none", "blend_policy": "metallic"}
    )
    SHOTS.mkdir(exist_ok=True)
    polo = Generation.objects.get(model__name="Polo", popular=True)
    page = phone_page
    page.goto(f"{live_server.url}/s/{shop.slug}/calc/{polo.pk}/sedan/")
    page.select_option("#id_paint_type", "solid")

    # A broken lamp: the size choices give way to a note, «Готово» works without them.
    page.locator("#part-taillamp_left").tap()
    page.locator("label[for='damage-sheet-kind-broken']").tap()
    assert page.locator(".damage-size-broken").is_visible()
    assert not page.locator("label[for='damage-sheet-size-1']").is_visible()
    page.screenshot(path=str(SHOTS / "calc-broken-sheet-390.png"))
    page.locator(".damage-sheet [data-action='done']").tap()
    assert page.locator(".damage-sheet").is_hidden()
    _wait_for_line(page, "taillamp_left")
    summary = page.locator(".damage-summary-item[data-part='taillamp_left']").inner_text()
    assert "разбито или отсутствует" in summary and "размер не указан" not in summary

    # A scratch under a palm on the rear fender: a spot repair, no blend on solid paint.
    page.locator("#part-quarter_left").tap()
    page.locator("label[for='damage-sheet-kind-scratch']").tap()
    page.locator("label[for='damage-sheet-size-1']").tap()
    page.locator(".damage-sheet [data-action='done']").tap()
    _wait_for_line(page, "quarter_left")
    spot_line = page.locator("#estimate .estimate-line[data-part='quarter_left']").inner_text()
    assert "локальный ремонт" in spot_line.lower()

    # A dent with labour hours: the hours are written out, with a comma.
    page.locator("#part-door_front_left").tap()
    page.locator("label[for='damage-sheet-kind-dent']").tap()
    page.locator("label[for='damage-sheet-size-2']").tap()
    page.locator(".damage-sheet [data-action='done']").tap()
    _wait_for_line(page, "door_front_left")
    estimate = page.locator("#estimate").inner_text()
    assert "нормо-час" in estimate
    assert re.search(r"\d,\d+ нормо-час", estimate)
    assert "н/ч" not in estimate and "Р2" not in estimate
    # No dot decimals anywhere the driver reads (dates such as 07.12.2026 aside).
    assert not re.search(r"(?<![\d.])\d+\.\d+(?![\d.])", estimate)
    assert "без НДС" in estimate
    assert "Единой методике" in estimate and "Выплата страховщика, примерно" in estimate
    assert _total(page) > 0
    page.locator("#estimate").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "calc-estimate-390.png"), full_page=True)


def test_manager_chooses_the_tax_regime_and_the_banner_goes(
    desktop_page, live_server, shop, manager
):
    load_calc_data()
    SHOTS.mkdir(exist_ok=True)
    page = desktop_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", manager.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))

    page.goto(f"{live_server.url}/staff/calc/")
    banner = page.locator(".tax-regime-missing")
    assert banner.is_visible()
    page.screenshot(path=str(SHOTS / "staff-estimates-banner-1440.png"))
    banner.locator("a").click()
    page.wait_for_url(re.compile(r"/staff/calc/settings/"))
    # Saving without a regime is refused with a Russian message, the rates typed stay.
    page.fill("#id_body_rate_rub", "2700")
    page.get_by_role("button", name="Сохранить").click()
    assert "Выберите налоговый режим" in page.locator("body").inner_text()
    assert page.input_value("#id_body_rate_rub") == "2700"
    page.select_option("#id_tax_regime", "usn_5")
    page.screenshot(path=str(SHOTS / "staff-calc-settings-1440.png"), full_page=True)
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector(".alert-success")
    assert ShopRates.objects.get(shop=shop).tax_regime == "usn_5"
    page.goto(f"{live_server.url}/staff/calc/")
    assert page.locator(".tax-regime-missing").count() == 0


def test_advisor_sees_categories_and_the_paint_on_the_estimate(
    desktop_page, live_server, shop, advisor
):
    load_calc_data()
    from smartcalc import engine
    from tests.factories import EstimateFactory

    SHOTS.mkdir(exist_ok=True)
    ShopRates.objects.update_or_create(
        shop=shop, defaults={"tax_regime": "osn_22", "rates_include_vat": False}
    )
    estimate = EstimateFactory(
        shop=shop,
        damages=[
            engine.Damage("door_front_left", "dent", "2"),
            engine.Damage("headlamp_left", "broken", ""),
        ],
    )
    page = desktop_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", advisor.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))
    page.goto(f"{live_server.url}/staff/calc/{estimate.pk}/")
    text = page.locator("#estimate").inner_text()
    assert "категория Р2" in text
    assert "в т.ч. НДС 22 %" in text and "сверху" in text
    assert page.locator("#id_paint_type").is_visible()
    page.screenshot(path=str(SHOTS / "staff-estimate-detail-1440.png"), full_page=True)
