"""Estimates, offers and intake records: read with their versions, few queries per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    OfferVersionFactory,
    SupplierOrderFactory,
)

pytestmark = pytest.mark.django_db


def test_estimate_shows_versions_with_lines_and_totals(api, shop):
    estimate = EstimateFactory(shop=shop)
    body = api.get(reverse("api:estimate", args=[estimate.pk])).json()
    assert body["make"] == "Hyundai"
    [version] = body["versions"]
    assert version["number"] == 1
    assert version["total_rub"] == str(estimate.versions.get().total_rub)
    assert version["data_version"]
    assert version["result"]
    assert version["export_url"] == (
        f"http://testserver/api/v1/estimates/{estimate.pk}/versions/1/export"
    )
    assert api.get(version["export_url"]).json()["estimate"]["id"] == estimate.pk


def test_offer_shows_options_and_acceptance(api, shop):
    version = OfferVersionFactory(
        offer__shop=shop,
        status="accepted",
        accepted_at=timezone.now(),
        accepted_choice={"0": 1},
        accepted_total_rub="19500.00",
    )
    body = api.get(reverse("api:offer", args=[version.offer_id])).json()
    [shown] = body["versions"]
    assert len(shown["positions"][0]["options"]) == 2
    assert shown["accepted_total_rub"] == "19500.00"
    assert shown["accepted_choice"] == {"0": 1}
    assert body["lead_number"] == version.offer.lead.number


def test_intake_records_filter_by_seal(api, shop):
    record = IntakeRecordFactory(shop=shop)
    assert [r["id"] for r in api.get(reverse("api:intake_records")).json()["results"]] == [
        record.pk
    ]
    assert api.get(reverse("api:intake_records"), {"sealed": "true"}).json()["results"] == []
    response = api.get(reverse("api:intake_records"), {"sealed": "1"})
    assert response.status_code == 400
    assert "sealed" in response.json()["errors"]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("api:estimates", lambda shop: EstimateFactory(shop=shop)),
        ("api:offers", lambda shop: OfferVersionFactory(offer__shop=shop)),
        ("api:intake_records", lambda shop: IntakeRecordFactory(shop=shop)),
        ("api:orders", lambda shop: SupplierOrderFactory(shop=shop)),
    ],
)
def test_list_queries_do_not_grow_with_the_page(api, shop, name, make):
    make(shop)
    api.get(reverse(name))  # the token's last use is written once a minute
    with CaptureQueriesContext(connection) as one:
        api.get(reverse(name))
    for _ in range(4):
        make(shop)
    with CaptureQueriesContext(connection) as five:
        body = api.get(reverse(name)).json()
    assert len(body["results"]) == 5
    assert len(five) == len(one)


def test_wrong_method_is_a_405_problem(api, shop):
    response = api.delete(reverse("api:leads"))
    assert response.status_code == 405
    assert response.json()["type"].endswith("/api/problems/method-not-allowed")
    assert "DELETE" in response.json()["detail"]


def test_html_only_client_gets_a_406_problem(api, shop):
    response = api.get(reverse("api:leads"), HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["type"].endswith("/api/problems/not-acceptable")
