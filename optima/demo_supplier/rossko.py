"""The demo supplier's Rossko desk: SOAP v2.1 at /service/v2.1/<Operation>, in the documented
shapes (tests/optima/contracts/rossko/README.md), from the same catalogue and order book as
the ABCP and Armtek routes.

    POST /service/v2.1/GetSearch            KEY1, KEY2, text, delivery_id, address_id
    POST /service/v2.1/GetCheckoutDetails   KEY1, KEY2
    POST /service/v2.1/GetCheckout          KEY1, KEY2, delivery, payment, contact, PARTS
    POST /service/v2.1/GetOrders            KEY1, KEY2, order_ids (optional: all orders)
    GET  /service/v2.1/<Operation>?wsdl     the WSDL the adapter ships

KEY1 is the demo's login, KEY2 its password. Orders move on by themselves as the other
protocols' do; with `order_hang_first` the first GetCheckout books the order and never answers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from .catalogue import DemoOffer, DemoPart
from .formats import MOSCOW
from .orders import DemoOrder, DemoOrderLine, book_order, line_price, order_book

PREFIX = "/service/v2.1/"
# The WSDL the adapter ships (read as a file: the demo runs without Django).
WSDL_PATH = (
    Path(__file__).resolve().parents[1] / "suppliers" / "wsdl" / "rossko" / "rossko-v2.1.wsdl"
)
OPERATIONS = ("GetSearch", "GetCheckoutDetails", "GetCheckout", "GetOrders")
NS = "https://api.rossko.ru/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
# Line statuses of GetOrders (the documented dictionary): our stages → Rossko's codes.
STAGE_STATUS = {"placed": 0, "confirmed": 1, "shipped": 6, "delivered": 2, "rejected": 7}
DELIVERIES = (("000000001", "Самовывоз со склада"), ("000000002", "Доставка до сервиса"))
ADDRESS = ("270997", "Москва", "Автозаводская", "23", "")
LEVEL_COUNT = {-1: 3, -2: 10, -3: 100}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)

Handler = Any


def handle(handler: Handler, method: str, path: str, query: dict, raw: bytes) -> None:
    operation = path[len(PREFIX) :]
    if operation not in OPERATIONS:
        return handler._send(404, "Нет такого метода".encode(), "text/plain; charset=utf-8")
    if method == "GET":
        return handler._send(200, WSDL_PATH.read_bytes(), "text/xml; charset=utf-8")
    server = handler.server
    latency, fail, _garbage, _variant = server.draw()
    if server.config.hang:
        handler.close_connection = True
        return handler._hold_until_client_leaves()
    if latency and server.stopping.wait(latency):
        return
    if fail:
        return _fault(handler, "Internal Error")
    try:
        body = etree.fromstring(raw, _PARSER).find(f"{{{SOAP_NS}}}Body")
        call = body[0] if body is not None and len(body) else None
    except etree.XMLSyntaxError:
        call = None
    if call is None or etree.QName(call).localname != operation:
        return _fault(handler, f"Ожидался конверт SOAP с {operation}", client=True)
    fields = _fields(call)
    result = operation.replace("Get", "", 1) + "Result"
    config = server.config
    if fields.get("KEY1") != config.login or fields.get("KEY2") != config.password:
        return _answer(handler, operation, result, _failure("Неверный KEY1 или KEY2"))
    if operation == "GetSearch":
        return _answer(handler, operation, result, _search(server.catalogue, fields))
    if operation == "GetCheckoutDetails":
        return _answer(handler, operation, result, _details())
    if operation == "GetCheckout":
        return _checkout(handler, operation, result, call)
    return _answer(handler, operation, result, _orders(handler, call))


# --- envelopes --------------------------------------------------------------------------------


def _fields(call: etree._Element) -> dict[str, str]:
    return {etree.QName(child).localname: (child.text or "").strip() for child in call}


def _el(name: str, value: Any = None, children: str = "") -> str:
    inner = children if value is None else escape(str(value))
    return f"<ns1:{name}>{inner}</ns1:{name}>"


def _answer(handler: Handler, operation: str, result: str, content: str) -> None:
    envelope = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS}" xmlns:ns1="{NS}"><SOAP-ENV:Body>'
        f"<ns1:{operation}Response><ns1:{result}>{content}</ns1:{result}>"
        f"</ns1:{operation}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    handler._send(200, envelope.encode(), "text/xml; charset=utf-8")


def _failure(message: str) -> str:
    return _el("success", "false") + _el("message", message)


def _fault(handler: Handler, text: str, *, client: bool = False) -> None:
    code = "SOAP-ENV:Client" if client else "SOAP-ENV:Server"
    envelope = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS}">'
        f"<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{escape(text)}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body>"
        "</SOAP-ENV:Envelope>"
    )
    handler._send(500, envelope.encode(), "text/xml; charset=utf-8")


# --- GetSearch --------------------------------------------------------------------------------


def _stock(offer: DemoOffer, now: datetime) -> str:
    warehouse = offer.warehouse
    days = math.ceil(offer.hours_min / 24)
    count = offer.stock if offer.stock > 0 else LEVEL_COUNT.get(offer.stock, 0)
    description = warehouse.name
    if warehouse.kind != "own":
        description = f"Партнерский склад, {warehouse.name}"
    parts = [
        _el("id", warehouse.code),
        _el("price", f"{offer.price:.2f}"),
        _el("count", count),
        _el("multiplicity", offer.packing),
        _el("type", 0 if warehouse.kind == "own" else 1),
        _el("delivery", days),
        _el("extra", 0),
        _el("description", description),
    ]
    if warehouse.kind == "own":  # the documented window: only where Rossko delivers itself
        start = (now + timedelta(days=days)).replace(hour=17, minute=0, second=0, microsecond=0)
        parts += [
            _el("deliveryStart", start.strftime("%Y-%m-%dT%H:%M:%S")),
            _el("deliveryEnd", (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")),
        ]
    return _el("stock", children="".join(parts))


def _part(part: DemoPart, offers: list[DemoOffer], now: datetime, crosses: str = "") -> str:
    stocks = "".join(_stock(offer, now) for offer in offers)
    return _el(
        "Part",
        children=_el("guid", f"NSIN{part.id:010d}")
        + _el("brand", part.brand_abcp)
        + _el("partnumber", part.number)
        + _el("name", part.name)
        + _el("stocks", children=stocks)
        + crosses,
    )


def _search(catalogue, fields: dict[str, str]) -> str:
    if not fields.get("delivery_id"):
        return _failure("Не указан способ доставки delivery_id")
    parts = catalogue.brands(fields.get("text", ""))
    content = _el("success", "true") + _el("text", fields.get("text", ""))
    if not parts:
        return content
    now = datetime.now(MOSCOW)
    rows = []
    for part in parts:
        analogues = [p for p in catalogue.parts_by_group[part.group] if p is not part]
        crosses = "".join(_part(p, catalogue.offers_by_part[p.id], now) for p in analogues)
        rows.append(
            _part(
                part,
                catalogue.offers_by_part[part.id],
                now,
                _el("crosses", children=crosses) if crosses else "",
            )
        )
    return content + _el("PartsList", children="".join(rows))


# --- GetCheckoutDetails ------------------------------------------------------------------------


def _details() -> str:
    deliveries = "".join(
        _el("delivery", children=_el("id", i) + _el("name", n)) for i, n in DELIVERIES
    )
    address_id, city, street, house, office = ADDRESS
    address = _el(
        "address",
        children=_el("id", address_id)
        + _el("city", city)
        + _el("street", street)
        + _el("house", house)
        + _el("office", office)
        + _el("Delivery", children=_el("ids", children=_el("id", DELIVERIES[1][0]))),
    )
    return (
        _el("success", "true")
        + _el("DeliveryType", children=deliveries)
        + _el(
            "PaymentType",
            children=_el("payment", children=_el("id", 1) + _el("name", "Безналичный расчёт")),
        )
        + _el("DeliveryAddress", children=address)
        + _el(
            "CompanyList",
            children=_el(
                "company",
                children=_el("id", 5501)
                + _el("name", "ООО «Демо-автосервис»")
                + _el("requisite", "ИНН 7700000000"),
            ),
        )
    )


# --- GetCheckout and GetOrders -------------------------------------------------------------------


def _checkout(handler: Handler, operation: str, result: str, call: etree._Element) -> None:
    def find(element: etree._Element | None, name: str) -> etree._Element | None:
        return None if element is None else element.find(f"{{{NS}}}{name}")

    contact = _fields(find(call, "contact")) if find(call, "contact") is not None else {}
    delivery = _fields(find(call, "delivery")) if find(call, "delivery") is not None else {}
    payment = _fields(find(call, "payment")) if find(call, "payment") is not None else {}
    if not delivery.get("delivery_id") or not payment.get("payment_id"):
        return _answer(handler, operation, result, _failure("Не указан способ доставки или оплаты"))
    parts = find(call, "PARTS")
    lines = []
    for i, part in enumerate(parts if parts is not None else []):
        fields = _fields(part)
        try:
            qty = max(1, int(fields.get("count") or 1))
        except ValueError:
            qty = 1
        number, brand, stock = fields.get("partnumber", ""), fields.get("brand", ""), ""
        stock = fields.get("stock", "")
        lines.append(
            DemoOrderLine(
                posnr=str(i + 1),
                brand=brand,
                number=number,
                qty=qty,
                price=line_price(handler, number, brand, stock),
                comment=fields.get("comment", "")[:50],
            )
        )
    if not lines:
        return _answer(handler, operation, result, _failure("Нет позиций для заказа"))
    order, hang = book_order(handler, contact.get("comment", ""), "rossko", lines)
    if hang:
        handler.close_connection = True
        return handler._hold_until_client_leaves()
    items = "".join(
        _el(
            "Item",
            children=_el("partnumber", line.number)
            + _el("brand", line.brand)
            + _el("count", line.qty)
            + _el("price", f"{line.price:.2f}")
            + _el("total_price", f"{line.price * line.qty:.2f}")
            + _el("comment", line.comment)
            + _el("order_id", order.number),
        )
        for line in order.lines
    )
    content = (
        _el("success", "true")
        + _el("OrderIDS", children=_el("id", order.number))
        + _el("DeliveryCost", children=_el("cost", 0))
        + _el("ItemsList", children=items)
    )
    _answer(handler, operation, result, content)


def _order(order: DemoOrder, stage_s: float) -> str:
    parts = "".join(
        _el(
            "part",
            children=_el("partnumber", line.number)
            + _el("brand", line.brand)
            + _el("price", f"{line.price:.2f}")
            + _el("count", line.qty)
            + _el("comment", line.comment)
            + _el("status", STAGE_STATUS[order.line_status(line, stage_s)]),
        )
        for line in order.lines
    )
    total = sum(line.price * line.qty for line in order.lines if not line.rejected)
    return _el(
        "Order",
        children=_el("id", order.number)
        + _el("created_date", order.created_at.strftime("%d.%m.%Y %H:%M:%S"))
        + _el("total_price", f"{total:.2f}")
        + _el("parts", children=parts),
    )


def _orders(handler: Handler, call: etree._Element) -> str:
    wanted = call.find(f"{{{NS}}}order_ids")
    ids = {(i.text or "").strip() for i in wanted} if wanted is not None else None
    book = order_book(handler.server)
    with book.lock:
        orders = [
            o
            for o in book.orders.values()
            if o.protocol == "rossko" and (ids is None or o.number in ids)
        ]
    stage_s = handler.server.config.order_stage_s
    listing = "".join(_order(order, stage_s) for order in orders)
    return _el("success", "true") + _el("OrdersList", children=listing)
