"""The demo supplier's order desk: ABCP `orders/instant` and `orders/`, Armtek
`ws_order/createOrder`, `createTestOrder`, `getOrder2` and `ws_reports/getOrderReportByDate`.

An order moves on by itself: placed → confirmed → shipped → delivered, one stage every
`order_stage_s` seconds; with `order_reject_rate` an order of two or more lines sometimes has
its last line rejected (from the confirmation on, with a reason). With `order_hang_first` the
first order call takes the order and then never answers, as a supplier whose answer is lost
after it booked the order: the client has to find the order by its number before retrying.

`DemoServer.order_book` keeps the orders; `handle.orders` shows them to tests.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .catalogue import demo_key
from .formats import MOSCOW, armtek_envelope

# The server's request handler (server._Handler): its auth checks and senders are used here.
Handler = Any

ABCP_PATHS = {("POST", "/orders/instant"), ("GET", "/orders")}
ARMTEK_PATHS = {
    ("POST", "/ws_order/createOrder"),
    ("POST", "/ws_order/createTestOrder"),
    ("GET", "/ws_order/getOrder2"),
    ("POST", "/ws_reports/getOrderReportByDate"),
}
ORDER_PATHS = ABCP_PATHS | ARMTEK_PATHS
REJECT_REASON = "Нет у поставщика, поставка отменена"
ABCP_STATUS = {
    "placed": "Ожидает обработки",
    "confirmed": "В работе",
    "shipped": "Отгружено",
    "delivered": "Выдано",
    "rejected": "Отказ поставщика",
}
ARMTEK_HEADER = {"placed": "Создан", "confirmed": "В работе", "shipped": "В работе"}


@dataclass
class DemoOrderLine:
    posnr: str
    brand: str
    number: str
    qty: int
    price: Decimal
    comment: str
    rejected: bool = False


@dataclass
class DemoOrder:
    number: str
    client_number: str
    protocol: str
    created: float
    created_at: datetime
    lines: list[DemoOrderLine] = field(default_factory=list)

    def stage(self, stage_s: float) -> str:
        steps = int((time.monotonic() - self.created) / stage_s) if stage_s > 0 else 3
        return ("placed", "confirmed", "shipped", "delivered")[min(steps, 3)]

    def line_status(self, line: DemoOrderLine, stage_s: float) -> str:
        stage = self.stage(stage_s)
        return "rejected" if line.rejected and stage != "placed" else stage


class OrderBook:
    def __init__(self, seed: int):
        self.lock = threading.Lock()
        self.orders: dict[str, DemoOrder] = {}  # by the supplier's number
        self.create_calls = 0
        self.test_calls = 0
        self._next = 7000000 + seed * 1000
        self.hung_once = False

    def by_client_number(self, client_number: str) -> DemoOrder | None:
        return next((o for o in self.orders.values() if o.client_number == client_number), None)

    def new_number(self) -> str:
        self._next += 1
        return str(self._next)


_BOOKS_LOCK = threading.Lock()


def order_book(server: Any) -> OrderBook:
    with _BOOKS_LOCK:
        book = getattr(server, "order_book", None)
        if book is None:
            book = server.order_book = OrderBook(server.config.seed)
    return book


def handle(handler: Handler, method: str, path: str, query: dict, raw: bytes) -> None:
    """Answer one order-desk request (auth, latency and hanging as for searches)."""
    server = handler.server
    latency, fail, _garbage, _variant = server.draw()
    if latency and server.stopping.wait(latency):
        return
    if fail:
        return handler._send(500, b"<html>500</html>", "text/html")
    if (method, path) in ABCP_PATHS:
        form = _form(raw) if method == "POST" else query
        if not handler._abcp_auth(form):
            return None
        if path == "/orders/instant":
            return _abcp_instant(handler, form)
        return _abcp_list(handler, form)
    if not handler._armtek_auth():
        return None
    if path.endswith(("createOrder", "createTestOrder")):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return handler._json(200, armtek_envelope(400, [], [("E", "Тело запроса не JSON")]))
        return _armtek_create(handler, body, test=path.endswith("createTestOrder"))
    if path == "/ws_order/getOrder2":
        return _armtek_get(handler, query)
    return _armtek_report(handler, _form(raw))


def _form(raw: bytes) -> dict[str, str]:
    from urllib.parse import parse_qs

    text = (raw or b"").decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def line_price(handler: Handler, number: str, brand: str, key: str) -> Decimal:
    catalogue = handler.server.catalogue
    for offer in catalogue.all_offers:
        if offer.item_key == key or (
            demo_key(offer.part.number) == demo_key(number) and offer.warehouse.code == key
        ):
            return offer.price
    part = catalogue.find(number, brand)
    offers = catalogue.offers_by_part.get(part.id, []) if part else []
    return offers[0].price if offers else Decimal("1000.00")


def book_order(
    handler: Handler, client_number: str, protocol: str, lines: list[DemoOrderLine]
) -> tuple[DemoOrder, bool]:
    """Book the order (or find the one already booked under this number: the demo, like a
    careful supplier, does not book the same client number twice). Returns (order, hang)."""
    server = handler.server
    book = order_book(server)
    with book.lock:
        book.create_calls += 1
        existing = book.by_client_number(client_number) if client_number else None
        if existing is not None:
            return existing, False
        order = DemoOrder(
            number=book.new_number(),
            client_number=client_number,
            protocol=protocol,
            created=time.monotonic(),
            created_at=datetime.now(MOSCOW),
            lines=lines,
        )
        rate = server.config.order_reject_rate
        with server._faults_lock:
            draw = server._faults.random()
        if len(lines) >= 2 and rate and draw < rate:
            lines[-1].rejected = True
        book.orders[order.number] = order
        hang = server.config.order_hang_first and not book.hung_once
        book.hung_once = book.hung_once or hang
    return order, hang


# --- ABCP -------------------------------------------------------------------------------------


def _abcp_position(order: DemoOrder, line: DemoOrderLine, stage_s: float) -> dict:
    status = order.line_status(line, stage_s)
    price = f"{line.price:,.2f}".replace(",", " ").replace(".", ",")
    return {
        "positionId": line.posnr,
        "brand": line.brand,
        "number": line.number,
        "numberFix": demo_key(line.number),
        "quantity": str(line.qty),
        "price": price,
        "status": ABCP_STATUS[status],
        "comment": line.comment,
        "commentAnswer": REJECT_REASON if status == "rejected" else "",
    }


def _abcp_order(order: DemoOrder, stage_s: float) -> dict:
    total = sum(line.price * line.qty for line in order.lines if not line.rejected)
    return {
        "number": order.number,
        "date": order.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "status": ABCP_STATUS[order.stage(stage_s)],
        "sum": f"{total:,.2f}".replace(",", " ").replace(".", ","),
        "clientOrderNumber": order.client_number,
        "positions": [_abcp_position(order, line, stage_s) for line in order.lines],
    }


def _abcp_instant(handler: Handler, form: dict[str, str]) -> None:
    lines = []
    i = 0
    while f"positions[{i}][number]" in form:
        get = lambda name, i=i: form.get(f"positions[{i}][{name}]", "")  # noqa: E731
        try:
            qty = int(get("quantity") or 1)
        except ValueError:
            return handler._json(400, {"errorCode": 3, "errorMessage": "Неверное количество"})
        lines.append(
            DemoOrderLine(
                posnr=str(900000 + i),
                brand=get("brand"),
                number=get("number"),
                qty=qty,
                price=line_price(handler, get("number"), get("brand"), get("itemKey")),
                comment=get("comment"),
            )
        )
        i += 1
    if not lines:
        return handler._json(200, {"status": 0, "errorMessage": "Нет позиций", "orders": []})
    order, hang = book_order(handler, form.get("clientOrderNumber", ""), "abcp", lines)
    if hang:
        handler.close_connection = True
        return handler._hold_until_client_leaves()
    stage_s = handler.server.config.order_stage_s
    handler._json(
        200,
        {
            "status": 1,
            "clientOrderNumber": order.client_number,
            "orders": [_abcp_order(order, stage_s)],
        },
    )


def _abcp_list(handler: Handler, query: dict[str, str]) -> None:
    book = order_book(handler.server)
    stage_s = handler.server.config.order_stage_s
    with book.lock:
        orders = [o for o in book.orders.values() if o.protocol == "abcp"]
    if not orders:
        return handler._json(404, {"errorCode": 301, "errorMessage": "Заказов нет"})
    handler._json(
        200,
        {"count": str(len(orders)), "items": {o.number: _abcp_order(o, stage_s) for o in orders}},
    )


# --- Armtek -----------------------------------------------------------------------------------


def _armtek_create(handler: Handler, body: dict, *, test: bool) -> None:
    items = body.get("ITEMS") if isinstance(body, dict) else None
    if not body.get("VKORG") or not body.get("KUNRG") or not isinstance(items, list) or not items:
        return handler._json(
            200, armtek_envelope(400, [], [("E", "Не указаны VKORG, KUNRG или ITEMS")])
        )
    lines = []
    for i, item in enumerate(items):
        try:
            qty = int(item.get("KWMENG") or 0)
        except (TypeError, ValueError):
            qty = 0
        lines.append(
            DemoOrderLine(
                posnr=f"{(i + 1) * 10:06d}",
                brand=str(item.get("BRAND") or ""),
                number=str(item.get("PIN") or ""),
                qty=max(qty, 1),
                price=line_price(
                    handler, str(item.get("PIN")), str(item.get("BRAND")), str(item.get("KEYZAK"))
                ),
                comment=str(item.get("COMMENT") or ""),
            )
        )
    now = datetime.now(MOSCOW)
    if test:  # checks the order and books nothing
        book = order_book(handler.server)
        with book.lock:
            book.test_calls += 1
        order = DemoOrder("", "", "armtek", time.monotonic(), now, lines)
        hang = False
    else:
        order, hang = book_order(handler, str(body.get("TEXT_ORD") or ""), "armtek", lines)
    if hang:
        handler.close_connection = True
        return handler._hold_until_client_leaves()
    resp_items = []
    for line in order.lines:
        resp_items.append(
            {
                "PIN": line.number,
                "BRAND": line.brand,
                "KWMENG": line.qty,
                "COMMENT": line.comment,
                "REMAIN": 0,
                "ERROR": "",
                "ERROR_MESSAGE": "",
                "RESULT": [
                    {
                        "POSNR": line.posnr,
                        "KWMENG": line.qty,
                        "PRICE": f"{line.price:.2f}",
                        "WAERS": "RUB",
                        "DLVDT": (now + timedelta(days=1)).strftime("%Y%m%d%H%M%S"),
                        "VBELN": order.number or "TEST",
                        "BLOCK": "A",
                    }
                ],
            }
        )
    handler._json(200, armtek_envelope(200, {"ITEMS": resp_items}, [("S", "Заказ создан")]))


def _armtek_get(handler: Handler, query: dict[str, str]) -> None:
    book = order_book(handler.server)
    stage_s = handler.server.config.order_stage_s
    with book.lock:
        order = book.orders.get(query.get("ORDER", ""))
    if order is None:
        return handler._json(200, armtek_envelope(404, [], [("E", "Заказ не найден")]))
    stage = order.stage(stage_s)
    items, statuses = [], []
    for line in order.lines:
        status = order.line_status(line, stage_s)
        items.append(
            {
                "POSNR": line.posnr,
                "BRAND": line.brand,
                "PIN": line.number,
                "KWMENG": str(line.qty),
                "KWMENG_REJ": str(line.qty) if status == "rejected" else "0",
                "PRICE": f"{line.price:.2f}",
                "STATUS": ABCP_STATUS[status],
                "ABGRU_TXT": REJECT_REASON if status == "rejected" else "",
            }
        )
        detail: dict[str, Any] = {"ORDER": order.number, "POSNR": line.posnr, "QUAN": line.qty}
        if status == "confirmed":
            detail["Processing"] = [{"SubStatus": "Confirmed", "Quan": line.qty}]
        elif status == "shipped":
            detail["Ready"] = [{"DeliveryNum": f"8{order.number}", "DeliveryQuan": line.qty}]
        elif status == "delivered":
            detail["Delivered"] = [{"InvoiceNum": f"9{order.number}", "Quan": line.qty}]
        statuses.append(detail)
    header = {
        "ORDER": order.number,
        "ORDER_STATUS": ARMTEK_HEADER.get(stage, "Закрыт"),
        "COMMENT": order.client_number,
        "ORDER_DATE": order.created_at.strftime("%Y%m%d%H%M%S"),
    }
    handler._json(
        200,
        armtek_envelope(200, {"HEADER": [header], "ITEMS": items, "STATUSES": statuses}, []),
    )


def _armtek_report(handler: Handler, form: dict[str, str]) -> None:
    book = order_book(handler.server)
    with book.lock:
        rows = [
            {
                "ORDER": o.number,
                "ORDER_DATE": o.created_at.strftime("%Y%m%d%H%M%S"),
                "COMMENT": o.client_number,
            }
            for o in book.orders.values()
            if o.protocol == "armtek"
        ]
    handler._json(200, armtek_envelope(200, {"ARRAY": rows}, []))
