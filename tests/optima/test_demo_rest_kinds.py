"""The demo suppliers speak Autoeuro and Parts-Soft in the documented shapes (the same fields
as the contract files in tests/optima/contracts/), and a search of the demo shop gets offers
from both."""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from optima import demo, services
from optima.demo_supplier import start_in_thread
from optima.models import Supplier, SupplierAnswer
from optima.suppliers import adapter_for
from tests.factories import OfferVersionFactory

CONTRACTS = Path(__file__).resolve().parent / "contracts"
AUTOEURO = {"password": "demo", "delivery_key": "demo-pickup-msk"}


def contract(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


def autoeuro_raw(url: str, method: str, body: dict, key: str = "demo") -> dict:
    request = urllib.request.Request(
        f"{url}/api/v2/json/{method}",
        data=json.dumps(body).encode(),
        headers={"key": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
        return json.load(response)


def partssoft_raw(url: str, method: str, **query: str) -> dict:
    address = f"{url}/api/v1/search/{method}?{urlencode({**query, 'api_key': 'demo'})}"
    with urllib.request.urlopen(address, timeout=5) as response:  # noqa: S310 (loopback)
        return json.load(response)


@pytest.fixture(scope="module")
def demo_supplier():
    with start_in_thread(seed=4) as handle:
        yield handle


def test_demo_autoeuro_answers_with_the_documented_fields(demo_supplier):
    number = demo_supplier.catalogue.oem_numbers[0]
    brands = autoeuro_raw(demo_supplier.url, "search_brands", {"code": number})
    documented = contract("autoeuro/search_brands.json")
    assert set(brands) == set(documented) == {"META", "DATA"}
    assert set(brands["META"]) == set(documented["META"])
    assert all(set(row) == set(documented["DATA"][0]) for row in brands["DATA"])
    brand = brands["DATA"][0]["brand"]
    items = autoeuro_raw(
        demo_supplier.url,
        "search_items",
        {"code": number, "brand": brand, "delivery_key": "dk", "with_crosses": 1},
    )
    fields = set(contract("autoeuro/search_items.json")["DATA"][0])
    assert items["DATA"] and all(set(row) == fields for row in items["DATA"])
    # Prices and return flags as strings, cross null for the part asked for, as the live API.
    assert all(isinstance(row["price"], str) for row in items["DATA"])
    assert {row["cross"] for row in items["DATA"]} >= {None}
    assert {row["cross"] for row in items["DATA"]} - {None} <= {"1", "2"}


def test_demo_autoeuro_refuses_a_wrong_key_and_a_missing_delivery_point(demo_supplier):
    wrong = autoeuro_raw(demo_supplier.url, "search_brands", {"code": "1"}, key="other")
    assert set(wrong) == set(contract("autoeuro/error_bad_key.json"))
    assert set(wrong["ERROR"]) == {"code", "message"}
    number = demo_supplier.catalogue.oem_numbers[0]
    missing = autoeuro_raw(demo_supplier.url, "search_items", {"code": number, "brand": "X"})
    assert missing["ERROR"]["code"] == 400
    result = adapter_for(
        "autoeuro",
        supplier_id="a",
        base_url=f"{demo_supplier.url}/api/v2/json",
        credentials={**AUTOEURO, "password": "wrong"},
        timeout_s=5,
    ).search(number)
    assert result.state == "config_error"


def test_demo_autoeuro_search_reads_into_offers_with_crosses(demo_supplier):
    autoeuro = adapter_for(
        "autoeuro",
        supplier_id="a",
        base_url=f"{demo_supplier.url}/api/v2/json",
        credentials=AUTOEURO,
        timeout_s=5,
    )
    offers = [o for n in demo_supplier.catalogue.oem_numbers[:6] for o in autoeuro.search(n).offers]
    assert offers and any(o.is_cross for o in offers) and any(not o.is_cross for o in offers)
    assert all(o.order_ref["offer_key"] for o in offers)
    assert any(o.delivery_days_max > o.delivery_days_min for o in offers)


def test_demo_partssoft_answers_with_the_documented_fields(demo_supplier):
    number = demo_supplier.catalogue.oem_numbers[0]
    brands = partssoft_raw(demo_supplier.url, "get_brands_by_oem", oem=number)
    documented = contract("partssoft/brands.json")
    assert brands["result"] == "ok"
    assert all(set(row) == set(documented["data"][0]) for row in brands["data"])
    offers = partssoft_raw(
        demo_supplier.url,
        "get_offers_by_oem_and_make_name",
        oem=number,
        make_name=brands["data"][0]["brand"],
        without_cross="false",
    )
    fields = set(contract("partssoft/offers.json")["data"][0])
    assert offers["data"] and all(set(row) == fields for row in offers["data"])
    wrong = json.load(
        urllib.request.urlopen(  # noqa: S310 (loopback)
            f"{demo_supplier.url}/backend/price_items/api/v1/search/get_brands_by_oem"
            f"?oem={number}&api_key=other",
            timeout=5,
        )
    )
    assert set(wrong) == set(contract("partssoft/error_bad_key.json"))


def test_demo_partssoft_search_reads_into_offers(demo_supplier):
    partssoft = adapter_for(
        "partssoft",
        supplier_id="p",
        base_url=demo_supplier.url,
        credentials={"password": "demo"},
        timeout_s=5,
    )
    results = [partssoft.search(n) for n in demo_supplier.catalogue.oem_numbers[:6]]
    offers = [o for r in results for o in r.offers]
    assert all(r.skipped_rows == 0 for r in results)
    assert offers and any(o.is_cross for o in offers)
    assert all(o.order_ref["hash_key"] for o in offers)


def test_a_search_of_the_demo_shop_gets_offers_from_autoeuro_and_partssoft(shop):
    OfferVersionFactory(offer__shop=shop, offer__lead__shop=shop)  # demo offers exist: no search
    demo.load(shop=shop, stdout=io.StringIO())
    kinds = {s.kind for s in Supplier.objects.filter(shop=shop)}
    assert {"abcp", "armtek", "autoeuro", "partssoft"} <= kinds
    handles = {}
    try:
        # The demo's fixed ports may be another run's; each kind gets a fresh service here.
        for supplier in Supplier.objects.filter(shop=shop):
            _n, _k, port, seed, *_rest = next(
                row for row in demo.DEMO_SUPPLIERS if row[0] == supplier.name
            )
            if port not in handles:
                handles[port] = start_in_thread(seed=seed)
            path = demo.API_PATHS.get(supplier.kind, "")
            supplier.base_url = f"{handles[port].url}{path}"
            supplier.save(update_fields=["base_url"])
        number = handles[8704].catalogue.oem_numbers[0]
        search = services.search_start(shop=shop, by=None, numbers=[number])
        services.search_run(search.pk)
    finally:
        for handle in handles.values():
            handle.stop()
    answers = {
        a.supplier.kind: a
        for a in SupplierAnswer.objects.filter(search=search).select_related("supplier")
        if a.supplier.kind in ("autoeuro", "partssoft")
    }
    assert set(answers) == {"autoeuro", "partssoft"}
    for answer in answers.values():
        assert answer.state == "answered", answer.message
        assert answer.offers


def test_garbled_demo_answers_end_in_an_error_state_not_a_crash():
    with start_in_thread(seed=4, garbage_rate=1.0) as handle:
        autoeuro = adapter_for(
            "autoeuro",
            supplier_id="a",
            base_url=f"{handle.url}/api/v2/json",
            credentials=AUTOEURO,
            timeout_s=5,
        )
        partssoft = adapter_for(
            "partssoft",
            supplier_id="p",
            base_url=handle.url,
            credentials={"password": "demo"},
            timeout_s=5,
        )
        results = [
            adapter.search(number)
            for number in handle.catalogue.oem_numbers[:4]
            for adapter in (autoeuro, partssoft)
        ]
    assert {r.state for r in results} <= {"error", "no_stock"}
    assert all(r.message and not r.offers for r in results)
