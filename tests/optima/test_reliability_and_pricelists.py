"""Supplier reliability from marked deliveries; price-list suppliers; editable offers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from optima import reliability, services
from optima.models import DeliveryRecord, OfferStatus, PriceListRow
from optima.selectors import delivery_date, search_table
from tests.factories import OfferVersionFactory, OptimaSearchFactory, SupplierFactory


def _record(shop, supplier, promised, arrived=None, *, claimed=True, was=True):
    return DeliveryRecord.objects.create(
        shop=shop,
        supplier=supplier,
        brand="SAT",
        number="X1",
        promised_on=promised,
        arrived_on=arrived,
        not_delivered=arrived is None,
        claimed_in_stock=claimed,
        was_in_stock=was,
    )


def test_reliability_is_measured_from_marked_deliveries(shop):
    supplier = SupplierFactory(shop=shop)
    day = dt.date(2026, 11, 1)
    _record(shop, supplier, day, day)
    _record(shop, supplier, day, day + dt.timedelta(days=2), was=False)
    _record(shop, supplier, day, day + dt.timedelta(days=1))
    _record(shop, supplier, day, None)
    stats = reliability.reliability_for(shop, [supplier.pk])[supplier.pk]
    assert stats.marked == 4
    assert stats.on_time_share == 0.25
    assert stats.in_stock_true_share == 0.75
    assert stats.extra_days == 2
    assert stats.unreliable


def test_too_few_deliveries_say_nothing(shop):
    supplier = SupplierFactory(shop=shop)
    _record(shop, supplier, dt.date(2026, 11, 1), None)
    stats = reliability.reliability_for(shop, [supplier.pk])[supplier.pk]
    assert stats.on_time_share is None and not stats.unreliable and stats.extra_days == 0


def _answer(search, supplier, price, brand="SAT", quality="aftermarket"):
    now = timezone.now().isoformat()
    offer = {
        "supplier": str(supplier.pk),
        "brand_raw": brand,
        "number_raw": "86511-4L000",
        "brand": brand,
        "number_key": "865114L000",
        "name": "Бампер передний",
        "is_cross": False,
        "quality": quality,
        "price_rub": price,
        "currency_raw": "RUB",
        "qty": 3,
        "qty_min": 3,
        "qty_on_order": False,
        "multiple": 1,
        "delivery_days_min": 1,
        "delivery_days_max": 1,
        "delivery_probability": None,
        "warehouse_id": "1",
        "warehouse_name": "Склад",
        "own_stock": None,
        "returnable": True,
        "warranty_months": None,
        "order_ref": {},
        "fetched_at": now,
    }
    search.answers.create(
        supplier=supplier, number_key="865114L000", state="answered", offers=[offer]
    )


def test_a_late_supplier_is_not_the_cheapest_and_its_date_is_honest(shop):
    late = SupplierFactory(shop=shop, name="Опаздывающий")
    good = SupplierFactory(shop=shop, name="Пунктуальный")
    day = dt.date(2026, 11, 1)
    for _ in range(4):
        _record(shop, late, day, day + dt.timedelta(days=3))
    search = OptimaSearchFactory(shop=shop, numbers=["865114L000"])
    _answer(search, late, "5000.00")
    _answer(search, good, "6000.00")
    blocks, _states = search_table(search)
    rows = {row.supplier.name: row for row in blocks[0].rows}
    assert rows["Пунктуальный"].is_cheapest and not rows["Опаздывающий"].is_cheapest
    now = timezone.now()
    honest = delivery_date(late, 1 + 3, now, shop.tzinfo)
    assert rows["Опаздывающий"].delivery_date == honest


def test_delivery_date_respects_the_cut_off_and_transit(shop):
    supplier = SupplierFactory(shop=shop, transit_days=1)
    supplier.cutoff_time = dt.time(14, 0)
    before = dt.datetime(2026, 11, 25, 13, 0, tzinfo=shop.tzinfo)
    after = dt.datetime(2026, 11, 25, 15, 0, tzinfo=shop.tzinfo)
    assert delivery_date(supplier, 2, before, shop.tzinfo) == dt.date(2026, 11, 28)
    assert delivery_date(supplier, 2, after, shop.tzinfo) == dt.date(2026, 11, 29)


def test_advisor_marks_a_delivery_and_the_scorecard_shows_it(manager_client, shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.ACCEPTED)
    supplier = SupplierFactory(shop=shop)
    record = DeliveryRecord.objects.create(
        shop=shop,
        supplier=supplier,
        version=version,
        brand="SAT",
        number="X",
        promised_on=dt.date(2026, 11, 20),
    )
    url = reverse("optima:offer_detail", args=[version.pk])
    bad = manager_client.post(url, {"action": "mark", "record": record.pk, "outcome": "arrived"})
    assert bad.status_code == 400 and "когда деталь пришла" in bad.content.decode()
    manager_client.post(
        url,
        {
            "action": "mark",
            "record": record.pk,
            "outcome": "arrived",
            "arrived_on": "2026-11-22",
            "was_in_stock": "no",
        },
    )
    record.refresh_from_db()
    assert record.arrived_on == dt.date(2026, 11, 22) and record.was_in_stock is False
    assert "мало данных (1)" in manager_client.get(reverse("optima:suppliers")).content.decode()


def test_draft_labour_lines_are_editable(manager_client, shop):
    version = OfferVersionFactory(offer__shop=shop)
    response = manager_client.post(
        reverse("optima:offer_detail", args=[version.pk]),
        {
            "action": "labour",
            "labour-TOTAL_FORMS": "2",
            "labour-INITIAL_FORMS": "0",
            "labour-0-name": "Окраска бампера",
            "labour-0-price_rub": "9500",
            "labour-1-name": "",
            "labour-1-price_rub": "",
        },
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.labour == [
        {"name": "Окраска бампера", "price_rub": "9500.00", "vat_rub": "0.00"}
    ]


CSV = (
    "brand;number;name;price;qty;delivery_days\n"
    "SAT;ST-HN01-000;Бампер передний;6500;4;1\n"
    "TYG;;Фара;abc;1;2\n"
    "DEPO;221-1191L;Фара левая;9800,50;2;3\n"
).encode("cp1251")


def test_price_list_supplier_loads_good_rows_after_confirmation(manager_client, shop):
    supplier = SupplierFactory(shop=shop, kind="pricelist", base_url="")
    url = reverse("optima:supplier_edit", args=[supplier.pk])
    first = manager_client.post(
        url, {"action": "pricelist", "file": SimpleUploadedFile("price.csv", CSV)}
    )
    assert first.status_code == 400 and "строка 3" in first.content.decode()
    assert PriceListRow.objects.count() == 0
    manager_client.post(
        url,
        {"action": "pricelist", "confirm": "1", "file": SimpleUploadedFile("price.csv", CSV)},
    )
    assert PriceListRow.objects.filter(supplier=supplier).count() == 2
    search = OptimaSearchFactory(shop=shop, numbers=["2211191L"], finished_at=None)
    services.search_run(search.pk)
    answer = search.answers.get()
    assert answer.state == "answered"
    assert Decimal(answer.offers[0]["price_rub"]) == Decimal("9800.50")


def test_price_list_published_at_a_url_is_loaded_on_schedule(shop, tmp_path):
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (tmp_path / "price.csv").write_bytes(CSV)
    handler = lambda *a, **kw: SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **kw)  # noqa: E731
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        supplier = SupplierFactory(
            shop=shop,
            kind="pricelist",
            base_url="",
            pricelist_url=f"http://127.0.0.1:{server.server_address[1]}/price.csv",
        )
        broken = SupplierFactory(
            shop=shop, kind="pricelist", base_url="", pricelist_url="http://127.0.0.1:9/none.csv"
        )
        results = services.pricelists_refresh()
    finally:
        server.shutdown()
    assert results[supplier.pk] == "2 rows, 1 skipped"
    assert results[broken.pk].startswith("error")
    assert PriceListRow.objects.filter(supplier=supplier).count() == 2
    supplier.refresh_from_db()
    assert supplier.pricelist_loaded_at is not None
