"""Contract tests of the order clients: documented answers (tests/optima/contracts/orders/,
each file names its source) served over real HTTP on 127.0.0.1 and read by the ABCP and
Armtek order clients exactly as a supplier's answer would be."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from optima.suppliers.orders import (
    LineState,
    OrderLineRequest,
    OrderNotSent,
    OrderRejected,
    order_client_for,
)

CONTRACTS = Path(__file__).parent / "contracts" / "orders"


def contract(name: str) -> dict:
    data = json.loads((CONTRACTS / name).read_text(encoding="utf-8"))
    assert data["source"], name  # every shape names where it comes from
    return data


class Stub:
    """A supplier that answers each path with a contract file, and keeps what it was sent."""

    def __init__(self, routes: dict[str, str]):
        self.routes = routes
        self.requests: list[tuple[str, str, bytes]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                stub.requests.append((self.command, self.path, self.rfile.read(length)))
                name = stub.routes.get(urlsplit(self.path).path.rstrip("/"))
                if name is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = contract(name)
                body = json.dumps(data["body"], ensure_ascii=False).encode()
                self.send_response(data.get("http_status", 200))
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    servers = []

    def make(routes):
        servers.append(Stub(routes))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


LINES = [
    OrderLineRequest(
        0,
        "Hyundai-KIA",
        "86511-H5000",
        "86511H5000",
        1,
        Decimal("2040.74"),
        {"brand": "Hyundai-KIA", "number": "86511-H5000", "supplierCode": "AV1", "itemKey": "k1"},
    ),
    OrderLineRequest(
        1,
        "SAT",
        "ST-HN01-000",
        "STHN01000",
        1,
        Decimal("2040.74"),
        {"brand": "SAT", "number": "ST-HN01-000", "supplierCode": "AV1", "itemKey": "k2"},
    ),
]


def abcp(url):
    return order_client_for(
        "abcp", base_url=url, credentials={"login": "api@id1", "password": "pw"}, timeout_s=2
    )


def armtek(url, test_mode=False):
    credentials = {"login": "l", "password": "p", "VKORG": "4000", "KUNNR_RG": "43000001"}
    return order_client_for(
        "armtek", base_url=url, credentials=credentials, timeout_s=2, test_mode=test_mode
    )


# --- ABCP ------------------------------------------------------------------------------------


def test_abcp_instant_order_sends_our_number_and_reads_string_prices(stub):
    server = stub({"/orders/instant": "abcp_orders_instant.json"})
    state = abcp(server.url).place("AS1-10-20", LINES)
    assert state.supplier_number == "384512"
    assert [(line.position, line.state) for line in state.lines] == [
        (0, LineState.ORDERED),
        (1, LineState.ORDERED),
    ]
    assert state.lines[0].price_rub == Decimal("2040.74")  # "2 040,74"
    assert state.lines[1].price_rub == Decimal("2040.74")  # 2040.74 as a number
    _method, _path, body = server.requests[0]
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert form["clientOrderNumber"] == "AS1-10-20"
    assert form["positions[1][itemKey]"] == "k2" and form["positions[1][supplierCode]"] == "AV1"
    assert form["userpsw"] == "8fe4c11451281c094a6578e6ddbf5eed"  # md5("pw"), never the password
    assert "pw" not in form.values()


def test_abcp_partial_order_keeps_the_order_and_rejects_the_missing_line(stub):
    server = stub({"/orders/instant": "abcp_orders_instant_partial.json"})
    state = abcp(server.url).place("AS1-10-21", LINES)
    assert state.supplier_number == "384513"
    rejected = [line for line in state.lines if line.state == LineState.REJECTED]
    assert [line.position for line in rejected] == [1]
    assert "недоступна для заказа" in rejected[0].reason


def test_abcp_refused_order_is_a_rejection_with_the_suppliers_text(stub):
    server = stub({"/orders/instant": "abcp_orders_instant_refused.json"})
    with pytest.raises(OrderRejected, match="Не указан способ оплаты"):
        abcp(server.url).place("AS1-10-22", LINES)


def test_abcp_finds_our_order_in_the_list_and_reads_line_states(stub):
    server = stub({"/orders": "abcp_orders_list.json"})
    client = abcp(server.url)
    found = client.find("AS1-10-20")
    assert found is not None and found.supplier_number == "384512"
    assert client.find("AS1-99-99") is None
    state = client.state("384512", "AS1-10-20")
    assert [(line.position, line.state) for line in state.lines] == [
        (0, LineState.DELIVERED),
        (1, LineState.REJECTED),
    ]
    assert state.lines[1].reason == "Снято поставщиком: нет в наличии"
    assert state.lines[0].price_rub == Decimal("2140.00")


def test_abcp_error_103_is_a_configuration_problem(stub):
    server = stub({"/orders/instant": "abcp_error_103.json", "/orders": "abcp_error_103.json"})
    with pytest.raises(OrderRejected, match="код 103"):
        abcp(server.url).place("AS1-10-23", LINES)
    with pytest.raises(OrderNotSent, match="код 103"):
        abcp(server.url).find("AS1-10-23")


# --- Armtek ----------------------------------------------------------------------------------


def test_armtek_create_order_sends_text_ord_and_reads_the_result(stub):
    server = stub({"/ws_order/createOrder": "armtek_create_order.json"})
    state = armtek(server.url).place("AS1-10-20", LINES)
    assert state.supplier_number == "0123456789"
    ordered, rejected = state.lines
    assert (ordered.position, ordered.state, ordered.qty) == (0, LineState.ORDERED, 2)
    assert ordered.price_rub == Decimal("2040.74") and ordered.supplier_line_ref == "000010"
    assert (rejected.position, rejected.state) == (1, LineState.REJECTED)
    assert rejected.reason == "Недостаточно товара на складе"
    body = json.loads(server.requests[0][2])
    assert body["TEXT_ORD"] == "AS1-10-20" and body["KUNRG"] == "43000001"
    assert body["ITEMS"][0]["KWMENG"] == 1 and body["ITEMS"][1]["COMMENT"] == "1"


def test_armtek_test_mode_calls_create_test_order(stub):
    server = stub({"/ws_order/createTestOrder": "armtek_create_order.json"})
    armtek(server.url, test_mode=True).place("AS1-10-20", LINES)
    assert urlsplit(server.requests[0][1]).path == "/ws_order/createTestOrder"


def test_armtek_error_message_is_a_rejection_with_its_text(stub):
    server = stub({"/ws_order/createOrder": "armtek_create_order_error.json"})
    with pytest.raises(OrderRejected, match="Не заполнен обязательный параметр KUNRG"):
        armtek(server.url).place("AS1-10-20", LINES)


def test_armtek_get_order2_statuses_become_line_states(stub):
    server = stub({"/ws_order/getOrder2": "armtek_get_order2.json"})
    state = armtek(server.url).state("0123456789", "AS1-10-20")
    assert [(line.supplier_line_ref, line.state) for line in state.lines] == [
        ("000010", LineState.DELIVERED),
        ("000020", LineState.REJECTED),
        ("000030", LineState.SHIPPED),
        ("000040", LineState.CONFIRMED),
        ("000050", LineState.SHIPPED),
    ]
    assert state.lines[1].reason == "Отказ поставщика"
    query = parse_qs(urlsplit(server.requests[0][1]).query)
    assert query["ORDER"] == ["0123456789"] and query["STATUS"] == ["1"]


def test_armtek_finds_our_order_by_text_ord_in_the_order_report(stub):
    server = stub(
        {
            "/ws_reports/getOrderReportByDate": "armtek_order_report.json",
            "/ws_order/getOrder2": "armtek_get_order2.json",
        }
    )
    found = armtek(server.url).find("AS1-10-20")
    assert found is not None and found.supplier_number == "0123456789"
    assert armtek(server.url).find("AS9-9-9") is None
