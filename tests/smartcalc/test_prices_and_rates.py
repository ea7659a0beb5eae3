"""Managers set rates and import or export the part price list."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from smartcalc.models import ShopPartPrice, ShopRates


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("price.csv", text.encode("utf-8"), content_type="text/csv")


def test_manager_sets_rates_and_bad_values_are_explained(manager_client, shop):
    url = reverse("smartcalc:calc_settings")
    data = {
        "body_rate_rub": "2700",
        "paint_rate_rub": "2900",
        "material_unit_rub": "2100",
        "tax_regime": "usn_5",
        "rates_include_vat": "on",
        "vat_rounding": "line",
        "price_valid_days": "10",
        "replace_threshold_pct": "70",
        "blend_policy": "never",
    }
    assert manager_client.post(url, data).status_code == 302
    rates = ShopRates.objects.get(shop=shop)
    assert rates.body_rate_rub == Decimal("2700") and rates.tax_regime == "usn_5"
    assert rates.rates_include_vat and not rates.price_list_includes_vat
    assert rates.blend_policy == "never"
    response = manager_client.post(
        url, {**data, "replace_threshold_pct": "5", "body_rate_rub": "0"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "от 30 до 100" in html and "больше нуля" in html


def test_a_shop_must_choose_its_tax_regime_and_keeps_what_it_typed(manager_client, shop):
    url = reverse("smartcalc:calc_settings")
    page = manager_client.get(url).content.decode()
    assert "— выберите режим —" in page
    response = manager_client.post(
        url,
        {
            "body_rate_rub": "2700",
            "paint_rate_rub": "2900",
            "material_unit_rub": "2100",
            "tax_regime": "",
            "vat_rounding": "line",
            "price_valid_days": "10",
            "replace_threshold_pct": "70",
            "blend_policy": "metallic",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Выберите налоговый режим" in html
    assert 'value="2700"' in html
    assert ShopRates.objects.get(shop=shop).tax_regime == ""


def test_staff_see_a_banner_until_the_regime_is_chosen(manager_client, shop):
    url = reverse("smartcalc:estimate_list")
    assert "Не выбран налоговый режим" in manager_client.get(url).content.decode()
    ShopRates.objects.filter(shop=shop).update(tax_regime="usn_none")
    assert "Не выбран налоговый режим" not in manager_client.get(url).content.decode()


def test_clean_price_list_is_imported(manager_client, shop):
    upload = _csv(
        "марка;модель;деталь;номер OEM;оригинал, ₽;аналог, ₽\n"
        "Hyundai;Solaris;bumper_front;86511-X;28 900,50;7900\n"
        "Kia;Rio;фара левая;;41000;\n"
    )
    response = manager_client.post(reverse("smartcalc:price_list"), {"file": upload})
    assert response.status_code == 302
    prices = {p.part: p for p in ShopPartPrice.objects.filter(shop=shop)}
    assert prices["bumper_front"].original_rub == Decimal("28900.50")
    assert prices["headlamp_left"].alternative_rub is None


def test_price_list_reads_prices_written_with_grouping_and_the_rouble_sign(manager_client, shop):
    upload = _csv(
        "марка;модель;деталь;номер OEM;оригинал, ₽;аналог, ₽\n"
        "Hyundai;Solaris;bumper_front;;1.234,50;7\u00a0900 ₽\n"
        "Kia;Rio;фара левая;;41 000 руб.;\n"
    )
    response = manager_client.post(reverse("smartcalc:price_list"), {"file": upload})
    assert response.status_code == 302
    prices = {p.part: p for p in ShopPartPrice.objects.filter(shop=shop)}
    assert prices["bumper_front"].original_rub == Decimal("1234.50")
    assert prices["bumper_front"].alternative_rub == Decimal("7900.00")
    assert prices["headlamp_left"].original_rub == Decimal("41000.00")


def test_a_broken_alternative_price_is_named_in_the_error(manager_client, shop):
    upload = _csv(
        "марка;модель;деталь;номер OEM;оригинал, ₽;аналог, ₽\n"
        "Hyundai;Solaris;bumper_front;;28900;дёшево\n"
    )
    manager_client.post(reverse("smartcalc:price_list"), {"file": upload})
    html = manager_client.get(reverse("smartcalc:price_list")).content.decode()
    assert "строка 2" in html and "цена «дёшево» — не число" in html
    assert ShopPartPrice.objects.count() == 0


def test_broken_rows_are_reported_and_good_rows_wait_for_confirmation(manager_client, shop):
    upload = _csv(
        "марка;модель;деталь;номер OEM;оригинал, ₽;аналог, ₽\n"
        "Hyundai;Solaris;bumper_front;;28900;7900\n"
        "Hyundai;Solyaris;bumper_front;;28900;7900\n"
        "Hyundai;Solaris;wing_front_left;;abc;\n"
        "Hyundai;Solaris;antenna;;1000;\n"
        "Hyundai;Solaris;bonnet;;0;\n"
    )
    manager_client.post(reverse("smartcalc:price_list"), {"file": upload})
    assert ShopPartPrice.objects.count() == 0
    html = manager_client.get(reverse("smartcalc:price_list")).content.decode()
    for row in ("строка 3", "строка 4", "строка 5", "строка 6"):
        assert row in html
    assert "Solyaris" in html and "antenna" in html
    manager_client.post(reverse("smartcalc:price_list"), {"action": "confirm"})
    assert list(ShopPartPrice.objects.values_list("part", flat=True)) == ["bumper_front"]


def test_unreadable_file_is_explained(manager_client, shop):
    upload = SimpleUploadedFile("price.csv", b"\xff\xfe\x00garbage\x00", content_type="text/csv")
    manager_client.post(reverse("smartcalc:price_list"), {"file": upload})
    assert "не читается" in manager_client.get(reverse("smartcalc:price_list")).content.decode()


def test_xlsx_roundtrip(manager_client, shop):
    book = Workbook()
    sheet = book.active
    sheet.append(["марка", "модель", "деталь", "номер OEM", "оригинал, ₽", "аналог, ₽"])
    sheet.append(["Lada", "Vesta", "door_front_left", "", 23900, 14200])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("price.xlsx", buffer.getvalue())
    assert manager_client.post(reverse("smartcalc:price_list"), {"file": upload}).status_code == 302
    exported = manager_client.get(reverse("smartcalc:price_export", args=["xlsx"]))
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("Lada", "Vesta") and rows[1][4] == 23900
    csv_text = manager_client.get(reverse("smartcalc:price_export", args=["csv"])).content.decode(
        "utf-8-sig"
    )
    assert "Lada;Vesta;дверь передняя левая;;23900.00;14200.00" in csv_text


def test_advisor_cannot_change_prices(advisor_client):
    assert advisor_client.get(reverse("smartcalc:price_list")).status_code == 403
    assert advisor_client.get(reverse("smartcalc:calc_settings")).status_code == 403
