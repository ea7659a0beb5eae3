"""The Rossko SOAP adapter against the documented answer shapes (tests/optima/contracts/rossko/,
each file's source cited in its README), replayed over real HTTP on loopback and read by zeep
from the WSDL shipped in optima/suppliers/wsdl/rossko/.

Sources of the shapes (details in the folder's README): the v2.1 answer examples restated in a
public client's test fixture ("Official-shaped SOAP envelopes from api.rossko.ru v2.1 docs /
WSDL": GetSearch, GetCheckoutDetails, GetCheckout, GetOrders), the Docpart Rossko handler's
dump of a live CheckoutResult, and the GetSearch field list of
shared/reference/supplier-apis.md §6.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree

from optima.suppliers import adapter_for
from optima.suppliers.rossko import MOSCOW, CheckoutDetailsProblem, checkout_details

from .contract_replay import Replay

BASE = "/service/v2.1"
SEARCH = ("POST", f"{BASE}/GetSearch")
DETAILS = ("POST", f"{BASE}/GetCheckoutDetails")
CREDENTIALS = {
    "login": "k1-0f3c9a7e51",  # KEY1
    "password": "k2-88d41b0c2e",  # KEY2
    "delivery_id": "000000002",
    "address_id": "112233",
}
NS = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "r": "https://api.rossko.ru/"}


def adapter(replay: Replay, **credentials):
    return adapter_for(
        "rossko",
        supplier_id="rossko:contract",
        base_url=replay.url + BASE,
        credentials={**CREDENTIALS, **credentials},
        timeout_s=5,
    )


def search(file: str, number: str = "333114", status: int = 200, **credentials):
    with Replay({SEARCH: (status, f"rossko/{file}")}) as replay:
        result = adapter(replay, **credentials).search(number)
    return result, replay


def test_documented_answer_becomes_offers_with_crosses_as_analogues():
    result, _ = search("search.xml")
    assert result.state == "answered", result.message
    own = next(o for o in result.offers if o.warehouse_id == "HST154")
    partner = next(o for o in result.offers if o.warehouse_id == "HST162")
    cross = next(o for o in result.offers if o.warehouse_id == "HST25")
    assert (own.brand, own.number_key, own.price_rub, own.qty, own.multiple) == (
        "KYB",
        "333114",
        Decimal("2449.85"),
        20,
        1,
    )
    assert own.is_cross is False
    assert own.warehouse_name == "Новосибирск, ул. Бетонная, 14А"
    # deliveryStart/deliveryEnd: the supplier's own window, shown as sent.
    assert own.delivery_term_text == "30.01 17:00–20:00"
    assert (own.delivery_days_min, own.delivery_days_max) == (0, 0)  # a past window: today
    assert (partner.delivery_days_min, partner.own_stock) == (6, False)  # «Партнерский склад»
    # crosses.Part[…]: analogues, with their own stocks.
    assert (cross.brand, cross.number_key, cross.is_cross, cross.price_rub) == (
        "SACHS",
        "290074",
        True,
        Decimal("3297.72"),
    )
    # What GetCheckout needs to order this very line: partnumber, brand and the stock id.
    assert own.order_ref["stock"] == "HST154"
    assert own.order_ref["partnumber"] == "333114"
    assert own.order_ref["guid"] == "NSIN0000086407"


def test_request_is_a_soap_envelope_with_both_keys_and_the_delivery_settings():
    result, replay = search("search.xml", number="333-114")
    assert result.state == "answered"
    (seen,) = replay.calls(f"{BASE}/GetSearch")
    assert seen.headers["Content-Type"].startswith("text/xml")
    assert "GetSearch" in seen.headers["SOAPAction"]
    body = etree.fromstring(seen.body.encode())
    call = body.find("s:Body/r:GetSearch", NS)
    fields = {etree.QName(child).localname: child.text for child in call}
    assert fields == {
        "KEY1": "k1-0f3c9a7e51",
        "KEY2": "k2-88d41b0c2e",
        "text": "333114",
        "delivery_id": "000000002",
        "address_id": "112233",
    }


def test_without_analogues_the_crosses_are_left_out():
    with Replay({SEARCH: (200, "rossko/search.xml")}) as replay:
        result = adapter(replay).search("333114", with_analogues=False)
    assert {o.warehouse_id for o in result.offers} == {"HST154", "HST162"}


@pytest.mark.parametrize("file", ["search_empty.xml", "search_not_found.xml"])
def test_an_empty_answer_is_no_stock(file):
    result, _ = search(file)
    assert result.state == "no_stock", result.message
    assert result.offers == []


def test_success_false_is_the_suppliers_error_in_its_words():
    result, _ = search("search_error.xml")
    assert result.state == "error"
    assert result.message == (
        "Росско сообщил об ошибке: Сервис временно недоступен, повторите запрос позднее"
    )


def test_rejected_keys_are_a_configuration_error_for_the_manager():
    result, _ = search("search_bad_keys.xml")
    assert result.state == "config_error"
    assert "проверьте их в настройках поставщика" in result.message
    assert "Неверный KEY1 или KEY2" in result.message
    assert CREDENTIALS["password"] not in result.message


def test_a_refused_delivery_address_is_a_configuration_error_too():
    result, _ = search("search_bad_delivery.xml")
    assert result.state == "config_error"
    assert "адрес доставки" in result.message


def test_soap_fault_is_an_error_with_its_faultstring():
    result, _ = search("fault.xml", status=500)
    assert result.state == "error"
    assert result.message == "Росско ответил ошибкой SOAP: Internal Error"


def test_a_proxy_error_page_is_a_server_error_and_html_with_200_is_not_soap():
    result, _ = search("not_soap.html", status=502)
    assert (result.state, result.message) == (
        "error",
        "У поставщика ошибка сервера (HTTP 502); повторите позже",
    )
    result, _ = search("not_soap.html", status=200)
    assert (result.state, result.message) == ("error", "Росско прислал непонятный ответ (не SOAP)")


def test_odd_values_each_read_or_skip_one_row():
    result, _ = search("search_odd_values.xml", number="IQ16TT4")
    assert result.state == "answered", result.message
    # "по запросу" as a price and an empty delivery: those two rows are skipped, counted.
    assert result.skipped_rows == 2
    assert "Росско сообщает: Цены указаны с учётом НДС" in result.message  # message with success
    lot = next(o for o in result.offers if o.warehouse_id == "HST123")
    assert lot.price_rub == Decimal("2040.74")  # "2 040,74"
    assert (lot.qty, lot.qty_min) == (None, 10)  # ">10"
    assert lot.multiple == 4 and lot.order_quantity(1) == 4  # multiplicity: the order lot
    assert lot.number_raw == "IQ16TT#4" and lot.number_key == "IQ16TT4"  # "@1" suffix dropped
    assert lot.order_ref["partnumber"] == "IQ16TT#4@1"  # ordered as the supplier spelled it
    end = datetime(2031, 2, 5, tzinfo=MOSCOW).date()
    assert lot.delivery_days_min == 2
    assert lot.delivery_days_max == (end - datetime.now(MOSCOW).date()).days  # deliveryEnd
    assert lot.delivery_term_text == "01.02 10:00 – 05.02 18:00"
    on_order = next(o for o in result.offers if o.warehouse_id == "HST125")
    assert (on_order.qty, on_order.qty_on_order, on_order.multiple) == (0, True, 1)
    assert on_order.own_stock is False  # «Партнёрский склад»


def test_missing_keys_or_delivery_are_reported_before_any_request():
    result, replay = search("search.xml", login="", password="")
    assert result.state == "config_error" and "KEY1" in result.message
    assert replay.seen == []
    result, replay = search("search.xml", delivery_id="")
    assert result.state == "config_error" and "delivery_id" in result.message
    assert replay.seen == []


def test_a_hanging_supplier_ends_in_the_timeout_state():
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}{BASE}"
        rossko = adapter_for(
            "rossko",
            supplier_id="rossko:hang",
            base_url=url,
            credentials=CREDENTIALS,
            timeout_s=5,
        )
        result = rossko.search("333114", deadline=time.monotonic() + 0.3)
    finally:
        listener.close()
    assert result.state == "timeout"


def test_checkout_details_list_deliveries_addresses_and_payments():
    with Replay({DETAILS: (200, "rossko/checkout_details.xml")}) as replay:
        details = checkout_details(base_url=replay.url + BASE, credentials=CREDENTIALS, timeout_s=5)
    assert details.deliveries == [
        ("000000001", "Самовывоз со склада"),
        ("000000002", "Курьерская доставка"),
    ]
    assert details.addresses == [
        ("112233", "Новосибирск, Бетонная, 14", ("000000002", "000000003", "000000004"))
    ]
    assert details.payments[0] == ("1", "Оплата банковским платежом")
    assert details.companies == [("112233", 'ООО "Рога и Копыта" ИНН 0123456789')]


def test_checkout_details_with_rejected_keys_say_so_in_russian():
    with Replay({DETAILS: (200, "rossko/search_bad_keys.xml")}) as replay:
        with pytest.raises(CheckoutDetailsProblem) as problem:
            checkout_details(base_url=replay.url + BASE, credentials=CREDENTIALS, timeout_s=5)
    # A GetSearch answer where GetCheckoutDetails' was expected: not understood, said so.
    assert "Росско" in problem.value.message


def test_the_wsdl_is_read_from_the_repository_not_the_network():
    from optima.suppliers.rossko import WSDL_PATH, wsdl_document

    document = wsdl_document()
    assert document.location == str(WSDL_PATH)
    operations = document.bindings["{https://api.rossko.ru/}RosskoBinding"]._operations
    assert set(operations) == {"GetSearch", "GetCheckoutDetails", "GetCheckout", "GetOrders"}


def test_keys_never_reach_the_logs_nor_the_message(caplog):
    caplog.set_level("DEBUG")
    for file, status in (("fault.xml", 500), ("search_bad_keys.xml", 200), ("search.xml", 200)):
        result, _ = search(file, status=status)
        assert CREDENTIALS["login"] not in result.message
        assert CREDENTIALS["password"] not in result.message
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert CREDENTIALS["login"] not in logged and CREDENTIALS["password"] not in logged
    assert "k1-0f3c9a7e51" not in repr(adapter(Replay({})))
