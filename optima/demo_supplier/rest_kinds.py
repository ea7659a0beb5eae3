"""The demo supplier speaking Autoeuro (REST v2) and Parts-Soft, from the same catalogue.

Autoeuro, under /api/v2/json/ (POST, JSON or form body, the key in the `key` header, in the
path after the method or as ?key=): `search_brands`, `search_items`, `create_order`,
`get_orders`; answers `{META, DATA}` or `{META, ERROR: {code, message}}`, prices as strings
and `cross` as a string, as the typed public clients report the live API does
(tests/optima/contracts/autoeuro/README.md).

Parts-Soft, under /api/v1/search/ and /backend/price_items/api/v1/search/ (GET, ?api_key=):
`get_brands_by_oem`, `get_offers_by_oem_and_make_name`; answers `{result: "ok", data}` or
`{result: "error", error}` (tests/optima/contracts/partssoft/README.md).

The key of both is the demo's password ("demo").
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from .catalogue import DemoOffer, DemoPart
from .formats import MOSCOW, is_online_stock
from .orders import DemoOrder, DemoOrderLine, book_order, order_book
from .parts import ON_ORDER

Handler = Any

AUTOEURO_PREFIX = "/api/v2/json/"
AUTOEURO_METHODS = ("search_brands", "search_items", "create_order", "get_orders")
PARTSSOFT_PREFIXES = ("/api/v1/search/", "/backend/price_items/api/v1/search/")
PARTSSOFT_METHODS = ("get_brands_by_oem", "get_offers_by_oem_and_make_name")
# What a level of stock (ABCP −1/−2/−3) is for APIs that send a count: its lower bound.
LEVEL_COUNT = {-1: 1, -2: 10, -3: 99}
AUTOEURO_STATUS = {
    "placed": ("1", "Новый, ожидает обработки"),
    "confirmed": ("2", "В работе"),
    "shipped": ("3", "Отгружено"),
    "delivered": ("4", "Выдано"),
    "rejected": ("9", "Отказ поставщика"),
}
GARBAGE: dict[str, tuple[bytes, ...]] = {
    "autoeuro": (
        b'{"META": {"resource": "/search_items"}, "DATA": [{"offer_key": "x", "bra',
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        '{"META": {}, "DATA": "строка"}'.encode(),
        '{"META": {}, "DATA": [{"brand": null, "price": "дорого", "offer_key": "z"}]}'.encode(),
    ),
    "partssoft": (
        b'{"result": "ok", "data": [{"oem": "6RU',
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        '{"result": "ok", "data": "строка"}'.encode(),
        '{"result": "ok", "data": [{"make_name": null, "cost": "дорого"}]}'.encode(),
    ),
}


def route(method: str, path: str) -> tuple[str, str, str] | None:
    """(protocol, API method, key in the path) when the path is Autoeuro's or Parts-Soft's."""
    if path.startswith(AUTOEURO_PREFIX) and method in ("GET", "POST"):
        name, _, key = path[len(AUTOEURO_PREFIX) :].partition("/")
        if name in AUTOEURO_METHODS:
            return "autoeuro", name, key.strip("/")
    for prefix in PARTSSOFT_PREFIXES:
        if path.startswith(prefix) and method == "GET":
            name = path[len(prefix) :].strip("/")
            if name in PARTSSOFT_METHODS:
                return "partssoft", name, ""
    return None


def handle(handler: Handler, found: tuple[str, str, str], query: dict, raw: bytes) -> None:
    protocol, name, path_key = found
    if protocol == "autoeuro":
        return _autoeuro(handler, name, path_key, query, raw)
    return _partssoft(handler, name, query)


# --- Autoeuro ---------------------------------------------------------------------------------


def _meta(name: str, params: dict) -> dict:
    return {
        "resource": f"/{name}",
        "version": "2.0",
        "section": "demo",
        "parameters": {k: v for k, v in params.items() if k != "key"},
        "date": datetime.now(MOSCOW).strftime("%Y-%m-%d %H:%M:%S"),
        "user_id": "100500",
    }


def _autoeuro(handler: Handler, name: str, path_key: str, query: dict, raw: bytes) -> None:
    params = _body(handler, raw)
    params = {**query, **params}
    key = handler.headers.get("key") or path_key or str(params.get("key") or "")

    def error(code: int, message: str) -> None:
        body = {"META": _meta(name, params), "ERROR": {"code": code, "message": message}}
        handler._json(200, body)

    def data(rows: list) -> None:
        handler._json(200, {"META": _meta(name, params), "DATA": rows})

    if key != handler.server.config.password:
        return error(401, "Неверный ключ API")
    catalogue = handler.server.catalogue
    if name == "search_brands":
        if not params.get("code"):
            return error(400, "Не указан параметр code")
        return data(
            [
                {"brand": p.brand_abcp, "code": p.number, "name": p.name}
                for p in catalogue.brands(str(params["code"]))
            ]
        )
    if name == "search_items":
        for field in ("brand", "code", "delivery_key"):
            if not params.get(field):
                return error(400, f"Не указан параметр {field}")
        part = catalogue.find(str(params["code"]), str(params["brand"]))
        if part is None:
            return data([])
        offers = catalogue.offers(part, with_analogues=str(params.get("with_crosses")) == "1")
        if str(params.get("with_offers", "1")) != "1":
            offers = [o for o in offers if not is_online_stock(o)]
        now = datetime.now(MOSCOW).replace(second=0, microsecond=0)
        return data([autoeuro_item(o, now, part) for o in offers])
    if name == "create_order":
        if not params.get("payer_key") or not params.get("delivery_key"):
            return error(400, "Не указаны payer_key и delivery_key")
        return _autoeuro_create(handler, params, data, error)
    # get_orders: either order ids or filters, each filter with its delivery point.
    filters = params.get("filters")
    if not params.get("orders") and not (
        isinstance(filters, list) and filters and all(f.get("delivery_key") for f in filters)
    ):
        return error(400, "Укажите orders или filters с delivery_key")
    return _autoeuro_orders(handler, params, data, error)


def autoeuro_item(offer: DemoOffer, now: datetime, requested: DemoPart) -> dict:
    part = offer.part
    if part is requested:
        cross = None
    else:
        cross = "1" if part.tier in ("original", "oe") else "2"
    hours_max = offer.hours_max if offer.hours_max is not None else None
    amount = 0 if offer.stock == ON_ORDER else LEVEL_COUNT.get(offer.stock, offer.stock)
    return {
        "offer_key": offer.item_key,
        "stock": 1 if offer.warehouse.kind == "own" else 0,
        "cross": cross,
        "brand": part.brand_abcp,
        "code": part.number,
        "name": part.name,
        # The live API sends packing as a number or a string, the price as a string.
        "packing": str(offer.packing) if offer.artid % 3 == 0 else offer.packing,
        "price": f"{offer.price:.2f}",
        "currency": "RUB",
        "amount": amount,
        "unit": "шт",
        "return": "1" if offer.returnable else "0",
        "order_before": (now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
        "delivery_time": (now + timedelta(hours=offer.hours_min)).strftime("%Y-%m-%d %H:%M"),
        "delivery_time_max": ""
        if hours_max is None
        else (now + timedelta(hours=hours_max)).strftime("%Y-%m-%d %H:%M:%S"),
        "rejects": float(100 - offer.probability),
        "dealer": 1 if offer.warehouse.kind == "order" else 0,
        "warehouse_name": offer.warehouse.name,
        "warehouse_key": offer.warehouse.code,
    }


def _autoeuro_create(handler: Handler, params: dict, data, error) -> None:
    items = params.get("stock_items")
    if not isinstance(items, list) or not items:
        return error(400, "Не указаны позиции заказа (stock_items)")
    by_key = {o.item_key: o for o in handler.server.catalogue.all_offers}
    lines = []
    for index, item in enumerate(items):
        offer = by_key.get(str((item or {}).get("offer_key") or ""))
        if offer is None:
            return data(
                [{"order_id": 0, "result": False, "result_description": "Предложение устарело"}]
            )
        try:
            qty = int(item.get("quantity") or 1)
        except (TypeError, ValueError):
            return error(400, "Неверное количество")
        lines.append(
            DemoOrderLine(
                posnr=str(index),
                brand=offer.part.brand_abcp,
                number=offer.part.number,
                qty=qty,
                price=offer.price,
                comment=str(item.get("comment") or ""),
            )
        )
    order, hang = book_order(handler, str(params.get("comment") or ""), "autoeuro", lines)
    if hang:
        handler.close_connection = True
        return handler._hold_until_client_leaves()
    data(
        [
            {"order_id": int(order.number), "result": True, "result_description": "Заказ оформлен"}
            for _ in order.lines
        ]
    )


def _autoeuro_orders(handler: Handler, params: dict, data, error) -> None:
    book = order_book(handler.server)
    stage_s = handler.server.config.order_stage_s
    wanted = {str(n) for n in params.get("orders") or []}
    with book.lock:
        orders = [
            o
            for o in book.orders.values()
            if o.protocol == "autoeuro" and (not wanted or o.number in wanted)
        ]
    rows = [_autoeuro_line(o, line, stage_s) for o in orders for line in o.lines]
    if not rows:
        return error(404, "Orders not found")
    data(rows)


def _autoeuro_line(order: DemoOrder, line: DemoOrderLine, stage_s: float) -> dict:
    status_id, status = AUTOEURO_STATUS[order.line_status(line, stage_s)]
    return {
        "brand": line.brand,
        "code": line.number,
        "name": "",
        "price": f"{line.price:.2f}",
        "amount": str(line.qty),
        "unit": "шт",
        "dealer": 0,
        "cancelable": 1 if status_id == "1" else 0,
        "returnable": 1,
        "status_id": status_id,
        "status": status,
        "document": "",
        "order_id": int(order.number),
        "comment": line.comment,
        "united": 0,
        "order_date": order.created_at.strftime("%Y-%m-%d"),
        "order_number": f"AE-{order.number}",
        "delivery": "Самовывоз",
        "delivery_date": "",
        "order_key": f"{order.number}-{line.posnr}",
    }


def _body(handler: Handler, raw: bytes) -> dict:
    text = (raw or b"").decode("utf-8", "replace").strip()
    if not text:
        return {}
    if "json" in (handler.headers.get("Content-Type") or "") or text[:1] in "{[":
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


# --- Parts-Soft -------------------------------------------------------------------------------


def _partssoft(handler: Handler, name: str, query: dict) -> None:
    if query.get("api_key") != handler.server.config.password:
        return handler._json(200, {"result": "error", "error": "Неверный api_key"})
    if not query.get("oem"):
        return handler._json(200, {"result": "error", "error": "Не указан параметр oem"})
    catalogue = handler.server.catalogue
    if name == "get_brands_by_oem":
        rows = [
            {"brand": p.brand_abcp, "number": p.number, "des_text": p.name}
            for p in catalogue.brands(query["oem"])
        ]
        return handler._json(200, {"result": "ok", "data": rows})
    part = catalogue.find(query["oem"], query.get("make_name", ""))
    offers = (
        catalogue.offers(part, with_analogues=query.get("without_cross") != "true") if part else []
    )
    handler._json(200, {"result": "ok", "data": [partssoft_item(o) for o in offers]})


def partssoft_item(offer: DemoOffer) -> dict:
    hours_max = offer.hours_max if offer.hours_max is not None else offer.hours_min
    qnt = 0 if offer.stock == ON_ORDER else LEVEL_COUNT.get(offer.stock, offer.stock)
    return {
        "oem": offer.part.number,
        "make_name": offer.part.brand_abcp,
        "detail_name": offer.part.name,
        # Shops send numbers as numbers or strings; the demo does both.
        "cost": f"{offer.price:.2f}" if offer.artid % 2 else offer.price,
        "qnt": str(qnt) if offer.artid % 3 == 0 else qnt,
        "min_qnt": offer.packing,
        "min_delivery_day": math.ceil(offer.hours_min / 24),
        "max_delivery_day": math.ceil(hours_max / 24),
        "sup_logo": offer.warehouse.code,
        "hash_key": offer.item_key,
        "system_hash": offer.item_key,
        "stat_group": 1 if offer.warehouse.kind == "own" else 2,
    }
