"""Supplier orders (lines, status history, filters) and the estimate export in the API."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from autoservice.models import ApiScope
from optima.models import SupplierOrder
from smartcalc import services
from smartcalc.models import ShopRates
from tests.factories import EstimateFactory, LeadFactory, SupplierOrderFactory

from .conftest import bearer

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_order_shows_lines_and_status_history(api, shop):
    order = SupplierOrderFactory(shop=shop)
    later = timezone.now() + dt.timedelta(hours=2)
    SupplierOrder.objects.filter(pk=order.pk).update(status="confirmed", confirmed_at=later)
    body = api.get(reverse("api:order", args=[order.pk])).json()
    assert body["client_number"] == order.client_number
    assert body["status"] == "confirmed"
    assert body["lead"] == order.version.offer.lead_id
    assert body["lead_number"] == order.version.offer.lead.number
    assert body["supplier"] == order.supplier.name
    [line] = body["lines"]
    assert line["number"] == "86511-4L000" and line["price_agreed_rub"] == "18000.00"
    assert line["price_confirmed_rub"] is None
    assert body["total_agreed_rub"] == "18000.00"
    assert [h["status"] for h in body["status_history"]] == [
        "draft",
        "placing",
        "placed",
        "confirmed",
    ]
    assert dt.datetime.fromisoformat(body["updated_at"]) == later


def test_orders_filter_by_status_lead_and_update(api, shop):
    first = SupplierOrderFactory(shop=shop)
    second = SupplierOrderFactory(shop=shop)
    SupplierOrder.objects.filter(pk=second.pk).update(status="shipped")
    url = reverse("api:orders")

    def ids(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.json()
        return [o["id"] for o in response.json()["results"]]

    assert ids() == [second.pk, first.pk]
    assert ids(status="shipped") == [second.pk]
    assert ids(lead=first.version.offer.lead_id) == [first.pk]
    assert ids(lead=LeadFactory(shop=shop).pk) == []
    # A poll of the supplier counts as a change: a confirmed price may have moved.
    since = timezone.now() + dt.timedelta(minutes=5)
    SupplierOrder.objects.filter(pk=first.pk).update(polled_at=since + dt.timedelta(seconds=1))
    assert ids(updated_since=since.isoformat()) == [first.pk]
    for name, value in (("status", "lost"), ("lead", "abc"), ("lead", "0"), ("updated_since", "x")):
        response = api.get(url, {name: value})
        assert response.status_code == 400, (name, value)
        assert name in response.json()["errors"]


def test_orders_need_the_orders_scope(client, shop, make_token):
    raw = make_token(shop, scopes=[ApiScope.LEADS_READ, ApiScope.OFFERS_READ])
    response = client.get(reverse("api:orders"), **bearer(raw))
    assert response.status_code == 403
    assert "orders:read" in response.json()["detail"]


def test_export_in_the_api_is_the_services_export(api, shop):
    ShopRates.objects.create(shop=shop, tax_regime="osn_22", rates_include_vat=False)
    estimate = EstimateFactory(shop=shop)
    version = estimate.versions.get()
    url = reverse("api:estimate_export", args=[estimate.pk, 1])
    body = api.get(url).json()
    assert body == services.estimate_export(version)
    assert Decimal(body["totals"]["amount_with_vat_rub"]) == version.total_rub

    for response in (api.get(url, {"format": "xlsx"}), api.get(url, HTTP_ACCEPT=XLSX)):
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX
        assert response["Content-Disposition"] == (
            f'attachment; filename="smeta-{estimate.pk}-v1.xlsx"'
        )
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        rows = list(book["Строки"].iter_rows(values_only=True))[1:]
        assert [r[0] for r in rows] == [
            op["line"] for p in body["positions"] for op in p["operations"]
        ]


def test_export_of_a_missing_version_is_a_404_problem(api, shop):
    estimate = EstimateFactory(shop=shop)
    for params in ({}, {"format": "xlsx"}):
        response = api.get(reverse("api:estimate_export", args=[estimate.pk, 2]), params)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/api/problems/not-found")


def test_export_needs_the_estimates_scope(client, shop, make_token):
    estimate = EstimateFactory(shop=shop)
    raw = make_token(shop, scopes=[ApiScope.LEADS_READ])
    response = client.get(reverse("api:estimate_export", args=[estimate.pk, 1]), **bearer(raw))
    assert response.status_code == 403
