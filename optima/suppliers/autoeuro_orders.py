"""Autoeuro ordering: `create_order` under our client order number, `get_orders` to find it
after a timeout and to follow its lines.

Shapes (tests/optima/contracts/autoeuro/README.md, E1–E3): `create_order {delivery_key,
payer_key, stock_items[{offer_key, quantity, comment}], comment}` → `DATA[{order_id, result,
result_description}]`; `get_orders` takes `orders: [order_id]` or `filters: [{from, to,
delivery_key, payer_key}]` and answers one row per ordered line with `order_id`, `status`,
`comment`, `price`, `amount`. Our client order number goes in the order's comment and, with
the line's position, in each line's comment ("AS1-2-3 #0"): no source says which of the two
`get_orders` returns, so either finds the order. Autoeuro has no test-order method.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from autoservice.money import money_parse

from .abcp_orders import line_state
from .autoeuro import ERROR_NOT_FOUND, api_base, api_key
from .base import as_int, as_rows
from .offer import normalize_number
from .orders import (
    LineState,
    OrderClient,
    OrderLineRequest,
    OrderNotSent,
    OrderRejected,
    OrderUnknown,
    SupplierLine,
    SupplierOrderState,
    register_order_client,
)

LOOKBACK_DAYS = 7


@register_order_client
class AutoeuroOrderClient(OrderClient):
    """credentials as for the search adapter: the key, `delivery_key` and `payer_key`."""

    kind = "autoeuro"

    def place(self, client_number: str, lines: list[OrderLineRequest]) -> SupplierOrderState:
        items = []
        for line in lines:
            offer_key = str((line.order_ref or {}).get("offer_key") or "")
            if not offer_key:
                raise OrderNotSent(
                    f"У позиции {line.brand} {line.number} нет ключа предложения Автоевро: "
                    "выполните поиск заново"
                )
            items.append(
                {
                    "offer_key": offer_key,
                    "quantity": line.qty,
                    "comment": f"{client_number} #{line.position}",
                }
            )
        data = self._call(
            "create_order",
            {**self._keys(), "stock_items": items, "wait_all_goods": 0, "comment": client_number},
            placing=True,
        )
        return parse_create_order(data, lines, client_number)

    def find(self, client_number: str) -> SupplierOrderState | None:
        today = dt.date.today()
        keys = self._keys()
        data = self._call(
            "get_orders",
            {
                "filters": [
                    {
                        "from": (today - dt.timedelta(days=LOOKBACK_DAYS)).isoformat(),
                        "to": (today + dt.timedelta(days=1)).isoformat(),
                        **keys,
                    }
                ]
            },
            placing=False,
        )
        rows = [row for row in data if _ours(row, client_number)]
        if not rows:
            return None
        return parse_order_rows(rows, client_number)

    def state(self, supplier_number: str, client_number: str) -> SupplierOrderState:
        ids = [as_int(n.strip()) for n in supplier_number.split(",")]
        data = self._call("get_orders", {"orders": [i for i in ids if i]}, placing=False)
        if not data:
            raise OrderNotSent(f"Автоевро не нашёл заказ {supplier_number}")
        state = parse_order_rows(data, client_number)
        state.supplier_number = supplier_number
        return state

    def _keys(self) -> dict[str, str]:
        delivery_key = str(self.credentials.get("delivery_key") or "").strip()
        payer_key = str(self.credentials.get("payer_key") or "").strip()
        if not api_key(self.credentials) or not delivery_key or not payer_key:
            raise OrderNotSent(
                "Для заказа у Автоевро нужны API-ключ, способ получения (delivery_key) и "
                "плательщик (payer_key): укажите их в настройках поставщика"
            )
        return {"delivery_key": delivery_key, "payer_key": payer_key}

    def _call(self, method: str, body: dict, *, placing: bool) -> list[Any]:
        reply = self._request(
            "POST",
            f"{api_base(self.base_url)}/{method}",
            body=json.dumps(body, ensure_ascii=False).encode(),
            headers={"key": api_key(self.credentials), "Content-Type": "application/json"},
            writes=placing,
        )
        data = reply.data
        if isinstance(data, dict) and data.get("ERROR"):
            error = data["ERROR"] if isinstance(data["ERROR"], dict) else {}
            code = as_int(error.get("code"))
            text = self._text(error.get("message"))
            if code == ERROR_NOT_FOUND and not placing:
                return []
            if placing and code is not None and code >= 500:
                raise OrderUnknown(f"У Автоевро ошибка сервера ({code}): {text}")
            message = f"Автоевро ответил ошибкой {code if code is not None else '?'}" + (
                f": {text}" if text else ""
            )
            raise (OrderRejected if placing else OrderNotSent)(message)
        if reply.status != 200:
            raise (OrderRejected if placing else OrderNotSent)(
                f"Автоевро отклонил запрос (HTTP {reply.status})"
            )
        rows = as_rows(data.get("DATA")) if isinstance(data, dict) else None
        if rows is None:
            if placing:
                raise OrderUnknown("Автоевро прислал ответ на заказ без списка DATA")
            raise OrderNotSent("Автоевро прислал список заказов в неожиданном виде")
        return [row for row in rows if isinstance(row, dict)]


def parse_create_order(
    rows: list[dict], lines: list[OrderLineRequest], client_number: str
) -> SupplierOrderState:
    """`create_order`'s DATA: one row per line sent, or one row for the whole order."""
    if not rows:
        raise OrderUnknown("Автоевро ответил на заказ пустым списком")
    per_line = rows if len(rows) == len(lines) else [rows[0]] * len(lines)
    result = SupplierOrderState(supplier_number="", client_number=client_number)
    numbers: list[str] = []
    for line, row in zip(lines, per_line, strict=True):
        taken = _truthy(row.get("result"))
        order_id = str(row.get("order_id") or "").strip()
        reason = " ".join(str(row.get("result_description") or "").split())[:300]
        if taken and order_id and order_id != "0":
            if order_id not in numbers:
                numbers.append(order_id)
            state, reason = LineState.ORDERED, ""
        else:
            state = LineState.REJECTED
        result.lines.append(
            SupplierLine(
                position=line.position,
                number_key=line.number_key,
                state=state,
                qty=line.qty,
                reason=reason or ("" if state == LineState.ORDERED else "Автоевро не принял"),
            )
        )
    if not numbers:
        reasons = "; ".join(dict.fromkeys(line.reason for line in result.lines if line.reason))
        raise OrderRejected("Автоевро не принял заказ" + (f": {reasons}" if reasons else ""))
    result.supplier_number = ", ".join(numbers)
    return result


def parse_order_rows(rows: list[dict], client_number: str) -> SupplierOrderState:
    """`get_orders`' DATA (one row per ordered line) as our state."""
    numbers: list[str] = []
    lines = []
    for row in rows:
        order_id = str(row.get("order_id") or "").strip()
        if order_id and order_id not in numbers:
            numbers.append(order_id)
        status_text = " ".join(str(row.get("status") or "").split())
        state = line_state(status_text)
        price = row.get("price")
        lines.append(
            SupplierLine(
                position=_position(row),
                number_key=normalize_number(row.get("code")),
                state=state,
                supplier_line_ref=str(row.get("order_key") or ""),
                price_rub=money_parse(price) if price not in (None, "") else None,
                qty=as_int(str(row.get("amount") or "").replace(" ", "").replace(",", ".")),
                reason=status_text[:300] if state == LineState.REJECTED else "",
            )
        )
    return SupplierOrderState(
        supplier_number=", ".join(numbers), lines=lines, client_number=client_number
    )


def _ours(row: dict, client_number: str) -> bool:
    comment = " ".join(str(row.get("comment") or "").split())
    return comment == client_number or comment.startswith(f"{client_number} #")


def _position(row: dict) -> int | None:
    match = re.search(r"#(\d+)$", str(row.get("comment") or "").strip())
    return int(match.group(1)) if match else None


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")
