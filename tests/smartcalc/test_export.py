"""The estimate export (smartcalc/EXPORT.md): every tax regime and both roundings, the totals
equal the version's to the kopeck, the operations add up to their positions, the XLSX holds
the same lines, and the staff downloads are the shop's own."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from smartcalc import engine, services
from smartcalc.models import ShopRates
from tests.factories import EstimateFactory, ShopFactory

pytestmark = pytest.mark.django_db

D = Decimal
# Repair with its bumper removal, a spot repair, a broken headlamp (the platform's reference
# price, VAT included whatever the shop says), a replaced and painted wing with its blends.
DAMAGES = [
    engine.Damage("door_front_left", "dent", "2"),
    engine.Damage("bumper_front", "crack", "1"),
    engine.Damage("door_rear_right", "scratch", "1"),
    engine.Damage("headlamp_left", "broken", ""),
    engine.Damage("wing_front_right", "broken", ""),
]
SETTINGS = [
    # regime, rates include VAT, price list includes VAT, rounding
    ("osn_22", True, True, "line"),
    ("osn_22", False, True, "line"),
    ("osn_22", False, False, "total"),
    ("usn_5", False, True, "total"),
    ("usn_7", True, False, "line"),
    ("usn_none", True, True, "line"),
    ("", True, True, "line"),
]


def _estimate(regime, rates_vat, list_vat, rounding, **rates):
    shop = ShopFactory()
    ShopRates.objects.create(
        shop=shop,
        tax_regime=regime,
        rates_include_vat=rates_vat,
        price_list_includes_vat=list_vat,
        vat_rounding=rounding,
        blend_policy="always",
        body_rate_rub=rates.get("body", D("2345.67")),
        paint_rate_rub=rates.get("paint", D("2789.13")),
        material_unit_rub=rates.get("material", D("1999.99")),
    )
    return EstimateFactory(shop=shop, damages=DAMAGES)


def _sum(values) -> Decimal:
    return sum((D(v) for v in values), D("0"))


@pytest.mark.parametrize(("regime", "rates_vat", "list_vat", "rounding"), SETTINGS)
def test_totals_equal_the_versions_to_the_kopeck(regime, rates_vat, list_vat, rounding):
    estimate = _estimate(regime, rates_vat, list_vat, rounding)
    version = estimate.versions.get()
    result = version.result
    data = services.estimate_export(version)
    totals = data["totals"]

    assert D(totals["amount_with_vat_rub"]) == version.total_rub == D(result["total_rub"])
    assert D(totals["vat_rub"]) == D(result["vat_in_total_rub"])
    assert D(totals["amount_without_vat_rub"]) + D(totals["vat_rub"]) == version.total_rub
    assert D(totals["amount_rub"]) == _sum(p["amount_rub"] for p in data["positions"])
    # The positions are the engine's lines, with the VAT the engine stored on each.
    assert len(data["positions"]) == len(result["lines"])
    for position, line in zip(data["positions"], result["lines"], strict=True):
        assert D(position["amount_with_vat_rub"]) == D(line["total_rub"])
        assert D(position["vat_rub"]) == D(line["vat_included_rub"]) + D(line["vat_on_top_rub"])
        operations = position["operations"]
        for key in ("amount_rub", "amount_without_vat_rub", "vat_rub", "amount_with_vat_rub"):
            assert _sum(o[key] for o in operations) == D(position[key]), key
        for op in operations:
            assert D(op["amount_without_vat_rub"]) + D(op["vat_rub"]) == D(
                op["amount_with_vat_rub"]
            )
    positions_with_vat = _sum(p["amount_with_vat_rub"] for p in data["positions"])
    if rounding == "line":
        assert positions_with_vat == version.total_rub
    # Rounded once on the total, the lines may differ by kopecks: the export says by how much.
    assert D(totals["positions_vat_rub"]) + D(totals["vat_rounding_difference_rub"]) == D(
        totals["vat_rub"]
    )
    if regime in ("", "usn_none"):
        assert totals["vat_rub"] == "0.00"
        assert all(p["vat_rub"] == "0.00" for p in data["positions"])
    else:
        assert D(totals["vat_rub"]) > 0


def test_the_line_structure_names_each_operation():
    estimate = _estimate("osn_22", False, True, "line")
    data = services.estimate_export(estimate.versions.get())
    kinds = {op["kind"] for p in data["positions"] for op in p["operations"]}
    assert {"repair", "remove_refit", "paint", "materials", "spot_repair", "replace", "part"} <= (
        kinds
    )
    assert "blend" in kinds  # the shop blends always
    by_part = {p["part_code"]: p for p in data["positions"]}
    bumper = by_part["bumper_front"]["operations"]
    refit = next(o for o in bumper if o["kind"] == "remove_refit")
    assert refit["name"] == "Снятие и установка переднего бампера"
    assert refit["rate_rub"] == "2345.67"
    # Labour under ОСН with rates without VAT: 22 % on top of the work.
    assert refit["price_includes_vat"] is False
    assert D(refit["vat_rub"]) == (D(refit["amount_rub"]) * D("0.22")).quantize(D("0.01"))
    lamp = by_part["headlamp_left"]
    part = next(o for o in lamp["operations"] if o["kind"] == "part")
    # The reference price includes VAT: stated inside, never added.
    assert part["price_includes_vat"] is True and part["quantity"] == "1"
    assert part["amount_with_vat_rub"] == part["amount_rub"] == lamp["part_price_rub"]
    assert data["vehicle"]["make"] == "Hyundai" and data["vehicle"]["model"] == "Solaris"
    assert data["vehicle"]["body_type_name"] == "седан"
    assert data["data_version"] == estimate.versions.get().data_version
    assert data["tax"]["regime_name"] == "ОСН, НДС 22 %"
    assert data["shop"]["name"] == estimate.shop.name
    assert data["estimate"]["version"] == 1


def test_oem_number_comes_from_the_catalogue_when_the_line_has_none():
    from smartcalc.models import Generation, ReferencePrice

    generation = Generation.objects.get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )
    ReferencePrice.objects.filter(
        vehicle_model=generation.model, part="headlamp_left", version__is_current=True
    ).update(oem_number="92101-4L000")
    estimate = _estimate("osn_22", True, True, "line")
    version = estimate.versions.get()
    for line in version.result["lines"]:
        line["oem_number"] = ""
    version.save()
    data = services.estimate_export(version)
    lamp = next(p for p in data["positions"] if p["part_code"] == "headlamp_left")
    assert lamp["oem_number"] == "92101-4L000"
    assert next(o for o in lamp["operations"] if o["kind"] == "part")["oem_number"] == (
        "92101-4L000"
    )


def test_xlsx_holds_the_same_lines():
    estimate = _estimate("usn_7", False, False, "total")
    version = estimate.versions.get()
    data = services.estimate_export(version)
    book = openpyxl.load_workbook(io.BytesIO(services.estimate_export_xlsx(version)))
    assert book.sheetnames == ["Смета", "Строки"]
    rows = list(book["Строки"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:4] == ("№", "Позиция", "Вид операции (код)", "Вид операции")
    column = {title: i for i, title in enumerate(header)}
    operations = [op for p in data["positions"] for op in p["operations"]]
    assert len(body) == len(operations)
    for row, op in zip(body, operations, strict=True):
        assert row[column["№"]] == op["line"]
        assert row[column["Вид операции (код)"]] == op["kind"]
        assert row[column["Наименование"]] == op["name"]
        for title, key in (
            ("Сумма по цене, ₽", "amount_rub"),
            ("Без НДС, ₽", "amount_without_vat_rub"),
            ("НДС, ₽", "vat_rub"),
            ("С НДС, ₽", "amount_with_vat_rub"),
        ):
            assert D(str(row[column[title]])).quantize(D("0.01")) == D(op[key]), (title, op)
    head = dict(book["Смета"].iter_rows(values_only=True))
    assert D(str(head["Итого с НДС, ₽"])).quantize(D("0.01")) == version.total_rub
    assert head["Версия данных"] == version.data_version


def test_staff_download_json_and_xlsx(advisor_client, shop):
    ShopRates.objects.create(shop=shop, tax_regime="osn_22")
    estimate = EstimateFactory(shop=shop, damages=DAMAGES)
    base = reverse("smartcalc:estimate_export", args=[estimate.pk, 1, "json"])
    response = advisor_client.get(base)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert D(response.json()["totals"]["amount_with_vat_rub"]) == estimate.versions.get().total_rub
    response = advisor_client.get(
        reverse("smartcalc:estimate_export", args=[estimate.pk, 1, "xlsx"])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    openpyxl.load_workbook(io.BytesIO(response.content))
    page = advisor_client.get(reverse("smartcalc:estimate_detail", args=[estimate.pk]))
    assert base in page.content.decode()


def test_staff_download_of_another_shop_is_404(advisor_client, other_shop):
    estimate = EstimateFactory(shop=other_shop)
    for fmt in ("json", "xlsx"):
        url = reverse("smartcalc:estimate_export", args=[estimate.pk, 1, fmt])
        assert advisor_client.get(url).status_code == 404


def test_staff_download_of_a_missing_version_is_404(advisor_client, shop):
    estimate = EstimateFactory(shop=shop)
    url = reverse("smartcalc:estimate_export", args=[estimate.pk, 7, "json"])
    assert advisor_client.get(url).status_code == 404


def test_anonymous_cannot_download(client, shop):
    estimate = EstimateFactory(shop=shop)
    response = client.get(reverse("smartcalc:estimate_export", args=[estimate.pk, 1, "json"]))
    assert response.status_code in (302, 403)


def test_a_revised_version_with_found_items_adds_up(advisor):
    shop = advisor.shop
    ShopRates.objects.create(shop=shop, tax_regime="usn_5", rates_include_vat=False)
    estimate = EstimateFactory(shop=shop, damages=DAMAGES[:2])
    version = services.estimate_revise(
        estimate=estimate,
        by=advisor,
        damages=DAMAGES[:2],
        extras=[
            engine.ExtraItem("Кронштейн бампера", D("0.4"), D("0"), D("1250.50")),
            engine.ExtraItem("Датчик парковки", D("0.3"), D("0.5"), D("0")),
        ],
        note="после осмотра",
    )
    data = services.estimate_export(version)
    assert data["estimate"]["version"] == 2 and data["estimate"]["note"] == "после осмотра"
    assert data["estimate"]["author"] == advisor.display_name
    found = [p for p in data["positions"] if p["part_code"] == "extra"]
    assert [p["part_name"] for p in found] == ["Кронштейн бампера", "Датчик парковки"]
    kinds = [[o["kind"] for o in p["operations"]] for p in found]
    assert kinds == [["other", "part"], ["other", "paint", "materials"]]
    assert _sum(p["amount_with_vat_rub"] for p in data["positions"]) == version.total_rub
    assert D(data["totals"]["amount_with_vat_rub"]) == version.total_rub


def test_a_version_saved_before_vat_and_rates_were_kept_still_exports():
    """Versions stored before the engine kept VAT per line and the rates in the inputs: the
    export shows them as they were, VAT zero, the total the version's."""
    estimate = _estimate("", True, True, "line")
    version = estimate.versions.get()
    version.inputs.pop("rates")
    for line in version.result["lines"]:
        for key in ("vat_included_rub", "vat_on_top_rub", "total_rub", "vat_base_included_rub"):
            line.pop(key)
    for key in ("vat_in_total_rub", "vat_on_top_rub", "tax_regime", "vat_rounding"):
        version.result.pop(key)
    version.save()
    data = services.estimate_export(version)
    assert D(data["totals"]["amount_with_vat_rub"]) == version.total_rub
    assert data["totals"]["vat_rub"] == "0.00"
    assert data["rates"]["body_rate_rub"] is None
    for position in data["positions"]:
        assert position["amount_with_vat_rub"] == position["amount_rub"]
        assert _sum(o["amount_rub"] for o in position["operations"]) == D(position["amount_rub"])
