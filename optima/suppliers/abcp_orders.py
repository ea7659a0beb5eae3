"""ABCP ordering: `orders/instant` (basket and order in one call) under our
`clientOrderNumber`, and `orders/` (the client's order list) to find it and read its state.

Shapes: `shared/reference/supplier-apis.md` §1 "Ordering", and the TypeScript types of
`dkyzym/pricer-back-ts` docs/suppliers/abcp-api.md (AbcpOrderParams, AbcpOrderResult,
AbcpOrderRaw, AbcpOrdersResponse): order endpoints send quantities, prices and sums as
strings such as "2 040,74"; the list's `items` is an object keyed by order number.
ABCP has no test-order method.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import urlencode

from autoservice.money import money_parse

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

# ABCP position statuses are named by each shop; these words are what the platform's
# default status set and the shops we know use.
_STATUS_WORDS = [
    (re.compile(r"отказ|снят|отклон|нет в наличии|аннулир", re.I), LineState.REJECTED),
    (re.compile(r"выдан|получен|доставлен|вручен", re.I), LineState.DELIVERED),
    (re.compile(r"отгруж|в пути|пришл|на складе|готов", re.I), LineState.SHIPPED),
    (re.compile(r"в работе|заказан|подтвержд|принят", re.I), LineState.CONFIRMED),
]
LOOKBACK_DAYS = 7


def line_state(status_text: str) -> str:
    for pattern, state in _STATUS_WORDS:
        if pattern.search(status_text or ""):
            return state
    return LineState.ORDERED


def parse_order(order: Any, wanted: list[OrderLineRequest] | None = None) -> SupplierOrderState:
    """One ABCP order (from `orders/instant` or the `orders/` list) as our state."""
    if not isinstance(order, dict) or not str(order.get("number") or "").strip():
        raise ValueError("order without a number")
    by_key = {line.number_key: line.position for line in wanted or []}
    lines = []
    for row in as_rows(order.get("positions") or []) or []:
        if not isinstance(row, dict):
            continue
        key = normalize_number(row.get("numberFix") or row.get("number"))
        status_text = " ".join(str(row.get("status") or "").split())
        state = line_state(status_text)
        price = row.get("price")
        lines.append(
            SupplierLine(
                position=_position(row, by_key, key),
                number_key=key,
                state=state,
                supplier_line_ref=str(row.get("positionId") or ""),
                price_rub=money_parse(price) if price not in (None, "") else None,
                qty=as_int(str(row.get("quantity") or "").replace(" ", "").replace(",", ".")),
                reason=(
                    " ".join(str(row.get("commentAnswer") or status_text).split())[:300]
                    if state == LineState.REJECTED
                    else ""
                ),
            )
        )
    return SupplierOrderState(
        supplier_number=str(order["number"]).strip(),
        lines=lines,
        client_number=str(order.get("clientOrderNumber") or ""),
    )


def _position(row: dict, by_key: dict[str, int], key: str) -> int | None:
    # We send the position in the line's comment; the key is the fallback.
    comment = str(row.get("comment") or "")
    match = re.search(r"#(\d+)$", comment)
    if match:
        return int(match.group(1))
    return by_key.get(key)


def parse_order_result(data: Any, wanted: list[OrderLineRequest]) -> SupplierOrderState:
    """The answer of `orders/instant` / `basket/order`. Even with status 0 some orders may
    exist (the fact sheet), so `orders` decides; lines it does not hold were refused."""
    if not isinstance(data, dict):
        raise OrderUnknown("Поставщик прислал ответ на заказ в неожиданном виде")
    orders = as_rows(data.get("orders") or []) or []
    message = " ".join(str(data.get("errorMessage") or "").split())[:200]
    if not orders:
        if str(data.get("status")) == "1":
            raise OrderUnknown("Поставщик ответил «принято», но не назвал номер заказа")
        raise OrderRejected("Поставщик не принял заказ" + (f": {message}" if message else ""))
    states = [parse_order(order, wanted) for order in orders]
    result = SupplierOrderState(
        supplier_number=", ".join(s.supplier_number for s in states),
        lines=[line for s in states for line in s.lines],
        client_number=str(data.get("clientOrderNumber") or ""),
    )
    taken = {line.position for line in result.lines}
    for line in wanted:
        if line.position not in taken:
            result.lines.append(
                SupplierLine(
                    position=line.position,
                    number_key=line.number_key,
                    state=LineState.REJECTED,
                    reason=message or "Поставщик не включил позицию в заказ",
                )
            )
    return result


def parse_order_list(data: Any) -> list[dict]:
    """`orders/` answers {count, items: {number: order}}; some shops send a list."""
    if isinstance(data, dict) and "items" in data:
        items = data["items"]
        if isinstance(items, dict):
            return [v for v in items.values() if isinstance(v, dict)]
        return [v for v in as_rows(items) or [] if isinstance(v, dict)]
    return [v for v in as_rows(data) or [] if isinstance(v, dict)]


@register_order_client
class AbcpOrderClient(OrderClient):
    """credentials as for the search adapter, plus optional options "paymentMethod",
    "shipmentAddress" (0 = pick-up, the default), "shipmentMethod"."""

    kind = "abcp"

    def place(self, client_number: str, lines: list[OrderLineRequest]) -> SupplierOrderState:
        fields: dict[str, Any] = {
            **self._auth(),
            "clientOrderNumber": client_number,
            "shipmentAddress": self.credentials.get("shipmentAddress", 0),
        }
        for name in ("paymentMethod", "shipmentMethod", "shipmentOffice"):
            if self.credentials.get(name) not in (None, ""):
                fields[name] = self.credentials[name]
        for i, line in enumerate(lines):
            ref = line.order_ref or {}
            fields[f"positions[{i}][brand]"] = ref.get("brand") or line.brand
            fields[f"positions[{i}][number]"] = ref.get("number") or line.number
            fields[f"positions[{i}][supplierCode]"] = ref.get("supplierCode", "")
            fields[f"positions[{i}][itemKey]"] = ref.get("itemKey", "")
            fields[f"positions[{i}][quantity]"] = line.qty
            fields[f"positions[{i}][comment]"] = f"{client_number} #{line.position}"
        reply = self._request(
            "POST",
            f"{self.base_url}/orders/instant",
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            writes=True,
        )
        self._raise_for_error(reply.data, reply.status, placing=True)
        return parse_order_result(reply.data, lines)

    def find(self, client_number: str) -> SupplierOrderState | None:
        for order in self._orders():
            if str(order.get("clientOrderNumber") or "") == client_number:
                return parse_order(order)
        return None

    def state(self, supplier_number: str, client_number: str) -> SupplierOrderState:
        numbers = {n.strip() for n in supplier_number.split(",")}
        found = [o for o in self._orders() if str(o.get("number") or "") in numbers]
        if not found:
            raise OrderNotSent(f"Поставщик не нашёл заказ {supplier_number}")
        states = [parse_order(order) for order in found]
        return SupplierOrderState(
            supplier_number=supplier_number,
            lines=[line for s in states for line in s.lines],
            client_number=client_number,
        )

    def _orders(self) -> list[dict]:
        since = dt.date.today() - dt.timedelta(days=LOOKBACK_DAYS)
        query = urlencode({**self._auth(), "dateStart": since.strftime("%d.%m.%Y"), "limit": 500})
        reply = self._request("GET", f"{self.base_url}/orders/?{query}")
        self._raise_for_error(reply.data, reply.status, placing=False)
        return parse_order_list(reply.data)

    def _raise_for_error(self, data: Any, status: int, *, placing: bool) -> None:
        if isinstance(data, dict) and "errorCode" in data:
            code = as_int(data.get("errorCode"))
            if code == 301:  # "nothing found": an empty list
                data.clear()
                data["items"] = {}
                return
            text = self._text(data.get("errorMessage"))
            if code in (102, 103, 104):
                message = f"ABCP отказал в доступе (код {code}): проверьте логин, пароль и адрес"
            else:
                message = f"Поставщик ответил ошибкой {code}" + (f": {text}" if text else "")
            raise (OrderRejected if placing else OrderNotSent)(message)
        if status in (401, 403):
            raise (OrderRejected if placing else OrderNotSent)(
                "Поставщик не принял логин или пароль ABCP"
            )
        if status != 200:
            raise (OrderRejected if placing else OrderNotSent)(
                f"Поставщик отклонил запрос (HTTP {status})"
            )

    def _auth(self) -> dict[str, str]:
        login = str(self.credentials.get("login") or "")
        md5 = str(self.credentials.get("password_md5") or "").lower()
        if not md5 and self.credentials.get("password"):
            md5 = hashlib.md5(
                str(self.credentials["password"]).encode(), usedforsecurity=False
            ).hexdigest()
        if not login or not md5:
            raise OrderNotSent("Не заданы логин и пароль ABCP: укажите их в настройках поставщика")
        return {"userlogin": login, "userpsw": md5}
