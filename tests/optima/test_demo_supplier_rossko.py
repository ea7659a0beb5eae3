"""The demo supplier speaks Rossko's documented SOAP shapes: its answers are read by the same
zeep client and WSDL as the real supplier's (tests/optima/contracts/rossko/)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from optima.demo_supplier import start_in_thread
from optima.suppliers import adapter_for, normalize_number
from optima.suppliers.rossko import WSDL_PATH, checkout_details


@pytest.fixture(scope="module")
def demo():
    with start_in_thread(seed=6) as handle:
        yield handle


def rossko(demo, **credentials):
    return adapter_for(
        "rossko",
        supplier_id="rossko:demo",
        base_url=demo.url + "/service/v2.1",
        credentials={**demo.rossko_credentials, **credentials},
        timeout_s=5,
    )


def test_demo_search_answers_every_catalogue_number_with_offers_and_crosses(demo):
    for number in demo.catalogue.oem_numbers[:5]:
        result = rossko(demo).search(number)
        assert result.state == "answered", (number, result.message)
        assert result.skipped_rows == 0
        own = [o for o in result.offers if o.number_key == normalize_number(number)]
        assert own and all(not o.is_cross for o in own)
        assert all(o.order_ref["stock"] for o in result.offers)
    assert any(
        o.is_cross for n in demo.catalogue.oem_numbers[:5] for o in rossko(demo).search(n).offers
    )


def test_demo_answers_an_unknown_number_with_no_stock_and_wrong_keys_with_refusal(demo):
    assert rossko(demo).search("0000000000").state == "no_stock"
    refused = rossko(demo, password="не тот ключ").search(demo.catalogue.oem_numbers[0])
    assert refused.state == "config_error"


def test_demo_checkout_details_are_read_like_the_documented_ones(demo):
    details = checkout_details(
        base_url=demo.url + "/service/v2.1", credentials=demo.rossko_credentials, timeout_s=5
    )
    assert details.deliveries[0] == ("000000001", "Самовывоз со склада")
    assert details.addresses and details.payments


def test_demo_serves_the_wsdl_the_adapter_ships(demo):
    parts = urlsplit(demo.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.request("GET", "/service/v2.1/GetSearch?wsdl")
    response = connection.getresponse()
    assert response.status == 200
    assert response.read() == WSDL_PATH.read_bytes()
