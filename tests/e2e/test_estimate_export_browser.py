"""An advisor on a desktop (1440×900) sees the export buttons under the estimate and downloads
the version as XLSX and JSON; the workbook opens with the estimate's lines and total. The
screenshot is kept in /work/shots/h3/ (or SHOTS_DIR) for a person to look at."""

from __future__ import annotations

import io
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from smartcalc.loader import load_calc_data
from smartcalc.models import ShopRates

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots-export"))


def test_advisor_downloads_the_estimate_as_xlsx_and_json(browser, live_server, shop, advisor):
    load_calc_data()
    from smartcalc import engine
    from tests.factories import EstimateFactory

    SHOTS.mkdir(parents=True, exist_ok=True)
    ShopRates.objects.update_or_create(
        shop=shop, defaults={"tax_regime": "osn_22", "rates_include_vat": False}
    )
    estimate = EstimateFactory(
        shop=shop,
        damages=[
            engine.Damage("bumper_front", "crack", "1"),
            engine.Damage("headlamp_left", "broken", ""),
        ],
    )
    total = estimate.versions.get().total_rub
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="ru-RU", accept_downloads=True
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", advisor.user.username)
        page.fill("#id_password", "correct-horse-42")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/staff/"))
        page.goto(f"{live_server.url}/staff/calc/{estimate.pk}/")
        xlsx_button = page.get_by_role("link", name="Выгрузка XLSX")
        json_button = page.get_by_role("link", name="Выгрузка JSON")
        assert xlsx_button.is_visible() and json_button.is_visible()
        xlsx_button.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "estimate-export-buttons-1440.png"))

        with page.expect_download() as info:
            xlsx_button.click()
        download = info.value
        assert download.suggested_filename == f"smeta-{estimate.pk}-v1.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
        head = dict(book["Смета"].iter_rows(values_only=True))
        assert Decimal(str(head["Итого с НДС, ₽"])).quantize(Decimal("0.01")) == total
        kinds = {row[2] for row in list(book["Строки"].iter_rows(values_only=True))[1:]}
        assert {"repair", "remove_refit", "paint", "materials", "replace", "part"} <= kinds

        with page.expect_download() as info:
            json_button.click()
        data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        assert Decimal(data["totals"]["amount_with_vat_rub"]) == total

        # On a phone the four buttons wrap instead of running off the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        json_button.scroll_into_view_if_needed()
        box = json_button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        page.screenshot(path=str(SHOTS / "estimate-export-buttons-390.png"))
    finally:
        context.close()
