"""A manager types rates the Russian way in the calculator settings (tablet 820×1180): «2 650,5»
is saved, shown back as «2650,50», and «2,5,0» is refused in Russian with the input kept.
Screenshots go to $PARTS_SHOTS_DIR."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from smartcalc.models import ShopRates
from tests.factories import MembershipFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("PARTS_SHOTS_DIR", "/tmp/shots-parts")
os.makedirs(SHOTS, exist_ok=True)


@pytest.mark.timeout(90)
def test_rates_with_a_comma_are_saved_and_shown_with_a_comma(desktop_page, live_server, shop):
    manager = MembershipFactory(shop=shop, role="manager")
    page = desktop_page
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", manager.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))
    page.goto(f"{live_server.url}/staff/calc/settings/")
    page.select_option("#id_tax_regime", "usn_5")
    page.fill("#id_body_rate_rub", "2 650,5")
    page.fill("#id_paint_rate_rub", "2,5,0")
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_text("Введите число, например 1,5 (запятая или точка).")).to_be_visible()
    expect(page.locator("#id_paint_rate_rub")).to_have_value("2,5,0")
    expect(page.locator("#id_body_rate_rub")).to_have_value("2 650,5")
    page.screenshot(path=f"{SHOTS}/calc-settings-bad-number-820.png", full_page=True)
    page.fill("#id_paint_rate_rub", "2900.5")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#id_body_rate_rub")).to_have_value("2650,50")
    expect(page.locator("#id_paint_rate_rub")).to_have_value("2900,50")
    rates = ShopRates.objects.get(shop=shop)
    assert (rates.body_rate_rub, str(rates.paint_rate_rub)) == (2650.5, "2900.50")
    page.screenshot(path=f"{SHOTS}/calc-settings-comma-820.png", full_page=True)
