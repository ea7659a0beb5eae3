"""What the demo supplier sends: ABCP and Armtek rows, the Armtek envelope, the price-list
CSV, and the garbage a broken proxy or a changed API would send instead."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .catalogue import DemoCatalogue, DemoOffer, DemoPart
from .parts import LEVELS, ON_ORDER, WAREHOUSES

MOSCOW = timezone(timedelta(hours=3), "MSK")


def abcp_offer(offer: DemoOffer) -> dict:
    part = offer.part
    condition, wear = abcp_condition(offer)
    if offer.artid % 8 == 4:
        price: Any = f"{offer.price:,.2f}".replace(",", " ").replace(".", ",")  # "12 345,60"
    elif offer.artid % 4 == 0:
        price = f"{offer.price:.2f}"  # ABCP sometimes sends the price as a string
    else:
        price = offer.price
    return {
        "brand": part.brand_abcp,
        "number": part.number,
        "numberFix": part.key,
        "description": part.name,
        "price": price,
        "availability": offer.stock,
        "packing": offer.packing,
        "deliveryPeriod": offer.hours_min,
        "deliveryPeriodMax": "" if offer.hours_max is None else offer.hours_max,
        "distributorId": 1000 + WAREHOUSES.index(offer.warehouse),
        "distributorCode": offer.warehouse.code,
        "supplierCode": offer.warehouse.code,
        "supplierDescription": offer.warehouse.name,
        "supplierColor": "#2e7d32" if offer.warehouse.kind == "own" else "#1565c0",
        "itemKey": offer.item_key,
        "code": offer.code,
        "deliveryProbability": offer.probability,
        "weight": 1.5,
        "noReturn": not offer.returnable or condition != "new",
        "isUsed": condition == "used",
        "nonliquid": condition == "clearance",
        "deadlineReplace": deadline_replace(offer),
        "meta": {"productId": offer.part.id, "wearout": wear if condition == "used" else 0},
    }


def abcp_condition(offer: DemoOffer) -> tuple[str, int]:
    """(condition, wear %) of a line as an ABCP shop lists it: ABCP platform shops sell used
    parts from dismantlers (isUsed, meta.wearout) and clearance leftovers (nonliquid) next to
    new ones. Every ninth line of the demo is one of them, always the same lines per seed."""
    if offer.stock == ON_ORDER:
        return "new", 0
    if offer.artid % 9 == 4:
        return "used", 15 + (offer.artid % 5) * 10
    if offer.artid % 9 == 7:
        return "clearance", 0
    return "new", 0


def deadline_replace(offer: DemoOffer) -> str:
    """The shop's own words for a long term, as ABCP sends them for lines on order."""
    if offer.stock != ON_ORDER or offer.hours_max is None:
        return ""
    working_days = math.ceil(offer.hours_max / 24 * 5 / 7)
    return f"до {working_days} раб.дн."


def is_online_stock(offer: DemoOffer) -> bool:
    """Lines from other sellers' warehouses: only with useOnlineStocks=1 (ABCP's default is
    0, which leaves them out)."""
    return offer.warehouse.kind == "order"


def armtek_offer(offer: DemoOffer, now: datetime, requested: DemoPart | None) -> dict:
    if offer.stock == ON_ORDER:
        rvalue = "0"
    else:
        rvalue = LEVELS.get(offer.stock, str(offer.stock))
    hours_max = offer.hours_max if offer.hours_max is not None else offer.hours_min
    return {
        "ARTID": str(offer.artid),
        "PIN": offer.part.number,
        "BRAND": offer.part.brand_armtek,
        "NAME": offer.part.name,
        "KEYZAK": offer.warehouse.code,
        "RVALUE": rvalue,
        "RETDAYS": "14" if offer.returnable else "0",
        "RDPRF": str(offer.packing),
        # A minimum lot above the multiple on every other packed line (clips by 5, from 10).
        "MINBM": str(offer.packing * 2 if offer.packing > 1 and offer.artid % 2 else offer.packing),
        "PARNR": armtek_partner(offer),
        "VENSL": f"{offer.probability}.00",
        "PRICE": f"{offer.price:.2f}",
        "WAERS": "RUB",
        "DLVDT": (now + timedelta(hours=offer.hours_min)).strftime("%Y%m%d%H%M%S"),
        "WRNTDT": (now + timedelta(hours=hours_max)).strftime("%Y%m%d%H%M%S"),
        "ANALOG": "X" if requested is not None and offer.part is not requested else "",
    }


def armtek_partner(offer: DemoOffer) -> str:
    """Armtek's PARNR: the partner whose warehouse holds the line (empty: Armtek's own)."""
    if offer.warehouse.kind == "order" or "партн" in offer.warehouse.name:
        return f"P{offer.warehouse.code}"
    return ""


def armtek_envelope(status: int, resp: Any, messages: list[tuple[str, str]]) -> dict:
    date = datetime.now(MOSCOW).strftime("%Y%m%d%H%M%S")
    return {
        "STATUS": status,
        "MESSAGES": [{"TYPE": kind, "TEXT": text, "DATE": date} for kind, text in messages],
        "RESP": resp,
    }


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # exact for 2-decimal prices in the range we generate
    raise TypeError(type(value).__name__)


# Malformed JSON and wrong shapes, as a broken proxy or a changed API would send them.
GARBAGE: dict[str, tuple[bytes, ...]] = {
    "abcp": (
        b'[{"brand": "Hyundai-KIA", "number": "86511-H50',
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b'{"data": "unexpected"}',
        b"[1, 2, 3]",
        '[{"brand": null, "price": "дорого"}]'.encode(),
    ),
    "armtek": (
        b'{"STATUS": 200, "MESSAGES": [], "RESP": [{"PIN": "6RU',
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        '{"STATUS": 200, "MESSAGES": [], "RESP": "строка"}'.encode(),
        b"[1, 2, 3]",
        '{"STATUS": 200, "MESSAGES": [], "RESP": [{"PIN": 5, "PRICE": "дорого"}]}'.encode(),
    ),
}


def pricelist_csv(catalogue: DemoCatalogue) -> bytes:
    """The whole catalogue as a supplier's price list (CSV, «;», prices with a comma)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "brand",
            "number",
            "name",
            "price",
            "qty",
            "delivery_days",
            "warehouse",
            "warranty_months",
        ]
    )
    for offer in catalogue.all_offers:
        low = math.ceil(offer.hours_min / 24)
        high = math.ceil((offer.hours_max or offer.hours_min) / 24)
        qty = "0" if offer.stock == ON_ORDER else LEVELS.get(offer.stock, str(offer.stock))
        writer.writerow(
            [
                offer.part.brand_abcp,
                offer.part.number,
                offer.part.name,
                f"{offer.price:.2f}".replace(".", ","),
                qty,
                f"{low}-{high}" if high > low else str(low),
                offer.warehouse.name,
                offer.warranty_months,
            ]
        )
    return out.getvalue().encode("utf-8")
