"""Armtek ordering: `ws_order/createOrder` (or `createTestOrder`, which orders nothing) with
our client order number in TEXT_ORD, `ws_order/getOrder2` with STATUS=1 for the state, and
`ws_reports/getOrderReportByDate` to find an order by our number after a timeout.

Shapes: `shared/reference/supplier-apis.md` §2 "Order"/"Order status", and the restated
v1.1.7 documentation in `dkyzym/pricer-back-ts` docs/suppliers/armtek-ws-api.md
(CreateOrderRequest/Response, GetOrderHeader/Item, STATUSES with Processing/Ready/Delivered).
The order report's rows are read as getOrder headers (ORDER, COMMENT = TEXT_ORD): not
verified against a published answer.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from autoservice.money import money_parse

from .base import as_int, as_rows, basic_auth_header
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

TEXT_ORD_MAX = 100
REPORT_DAYS = 7


def _resp(envelope: Any, *, placing: bool) -> Any:
    """RESP of an Armtek envelope; A/E messages are the supplier's refusal, with its text."""
    failure = OrderRejected if placing else OrderNotSent
    if not isinstance(envelope, dict) or "STATUS" not in envelope:
        raise (OrderUnknown if placing else OrderNotSent)(
            "Поставщик прислал ответ без конверта Armtek (STATUS/RESP)"
        )
    errors = [
        " ".join(str(m.get("TEXT") or "").split())[:200]
        for m in as_rows(envelope.get("MESSAGES") or []) or []
        if isinstance(m, dict) and str(m.get("TYPE", "")).upper() in ("A", "E")
    ]
    status = as_int(envelope.get("STATUS"))
    if errors:
        raise failure("Armtek сообщил об ошибке: " + "; ".join(errors))
    if status != 200:
        raise failure(f"Armtek ответил со статусом {status}")
    return envelope.get("RESP")


def parse_create_order(envelope: Any, wanted: list[OrderLineRequest]) -> SupplierOrderState:
    resp = _resp(envelope, placing=True)
    items = as_rows((resp or {}).get("ITEMS") if isinstance(resp, dict) else resp) or []
    by_key = {line.number_key: line.position for line in wanted}
    lines: list[SupplierLine] = []
    numbers: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        key = normalize_number(item.get("PIN"))
        position = as_int(item.get("COMMENT"))
        if position is None:
            position = by_key.get(key)
        results = [r for r in as_rows(item.get("RESULT") or []) or [] if isinstance(r, dict)]
        error = " ".join(str(item.get("ERROR_MESSAGE") or item.get("ERROR") or "").split())
        taken = [r for r in results if r.get("VBELN")]
        if not taken:
            lines.append(
                SupplierLine(
                    position=position,
                    number_key=key,
                    state=LineState.REJECTED,
                    reason=error[:300] or "Поставщик не включил позицию в заказ",
                )
            )
            continue
        first = taken[0]
        for result in taken:
            if str(result["VBELN"]) not in numbers:
                numbers.append(str(result["VBELN"]))
        remain = as_int(item.get("REMAIN"), 0) or 0
        lines.append(
            SupplierLine(
                position=position,
                number_key=key,
                state=LineState.ORDERED,
                supplier_line_ref=str(first.get("POSNR") or ""),
                price_rub=money_parse(first["PRICE"]) if first.get("PRICE") else None,
                qty=sum(as_int(r.get("KWMENG"), 0) or 0 for r in taken) or None,
                reason=f"не хватило {remain} шт." if remain else "",
            )
        )
    if not numbers:
        reasons = "; ".join(line.reason for line in lines if line.reason)
        raise OrderRejected("Armtek не принял заказ" + (f": {reasons}" if reasons else ""))
    return SupplierOrderState(supplier_number=", ".join(numbers), lines=lines)


def parse_get_order2(envelope: Any) -> SupplierOrderState:
    resp = _resp(envelope, placing=False)
    if not isinstance(resp, dict):
        raise OrderNotSent("Поставщик прислал состояние заказа в неожиданном виде")
    header = (as_rows(resp.get("HEADER") or []) or [{}])[0] or {}
    order_status = str(header.get("ORDER_STATUS") or "")
    statuses = {
        str(s.get("POSNR")): s
        for s in as_rows(resp.get("STATUSES") or []) or []
        if isinstance(s, dict)
    }
    lines = []
    for item in as_rows(resp.get("ITEMS") or []) or []:
        if not isinstance(item, dict):
            continue
        posnr = str(item.get("POSNR") or "")
        qty = as_int(item.get("KWMENG"), 0) or 0
        rejected = as_int(item.get("KWMENG_REJ"), 0) or 0
        detail = statuses.get(posnr, {})
        if qty and rejected >= qty or order_status == "Отклонен":
            state = LineState.REJECTED
        elif detail.get("Delivered"):
            state = LineState.DELIVERED
        elif detail.get("Ready") or any(
            p.get("SubStatus") == "Shipped" for p in detail.get("Processing") or []
        ):
            state = LineState.SHIPPED
        elif order_status in ("В работе", "Закрыт") or any(
            p.get("SubStatus") == "Confirmed" for p in detail.get("Processing") or []
        ):
            state = LineState.CONFIRMED
        else:
            state = LineState.ORDERED
        reason = ""
        if state == LineState.REJECTED:
            reason = " ".join(
                str(item.get("ABGRU_TXT") or item.get("NOTE") or "отклонено поставщиком").split()
            )[:300]
        lines.append(
            SupplierLine(
                position=None,
                number_key=normalize_number(item.get("PIN")),
                state=state,
                supplier_line_ref=posnr,
                price_rub=money_parse(item["PRICE"]) if item.get("PRICE") else None,
                qty=qty or None,
                reason=reason,
            )
        )
    return SupplierOrderState(
        supplier_number=str(header.get("ORDER") or ""),
        lines=lines,
        client_number=str(header.get("COMMENT") or ""),
    )


def parse_order_report(envelope: Any) -> list[dict]:
    resp = _resp(envelope, placing=False)
    if isinstance(resp, dict) and "ARRAY" in resp:
        resp = resp["ARRAY"]
    return [row for row in as_rows(resp or []) or [] if isinstance(row, dict)]


@register_order_client
class ArmtekOrderClient(OrderClient):
    """credentials as for the search adapter (login, password, VKORG, KUNNR_RG, KUNNR_ZA,
    INCOTERMS)."""

    kind = "armtek"
    has_test_mode = True

    def place(self, client_number: str, lines: list[OrderLineRequest]) -> SupplierOrderState:
        body: dict[str, Any] = {
            "VKORG": self._credential("VKORG"),
            "KUNRG": self._credential("KUNNR_RG"),
            "TEXT_ORD": client_number[:TEXT_ORD_MAX],
            "ITEMS": [
                {
                    "PIN": (line.order_ref or {}).get("PIN") or line.number,
                    "BRAND": (line.order_ref or {}).get("BRAND") or line.brand,
                    "KWMENG": line.qty,
                    "KEYZAK": (line.order_ref or {}).get("KEYZAK", ""),
                    "COMMENT": str(line.position),
                }
                for line in lines
            ],
        }
        if self._credential("KUNNR_ZA"):
            body["KUNZA"] = self._credential("KUNNR_ZA")
        if self._credential("INCOTERMS"):
            body["INCOTERMS"] = self._credential("INCOTERMS")
        method = "createTestOrder" if self.test_mode else "createOrder"
        reply = self._request(
            "POST",
            f"{self.base_url}/ws_order/{method}?format=json",
            body=json.dumps(body, ensure_ascii=False).encode(),
            headers={**self._headers(), "Content-Type": "application/json"},
            writes=True,
        )
        self._check_http(reply.status, placing=True)
        state = parse_create_order(reply.data, lines)
        state.client_number = client_number
        return state

    def find(self, client_number: str) -> SupplierOrderState | None:
        today = dt.date.today()
        fields = {
            "VKORG": self._credential("VKORG"),
            "KUNRG": self._credential("KUNNR_RG"),
            "DATE_START": (today - dt.timedelta(days=REPORT_DAYS)).strftime("%Y%m%d000000"),
            "DATE_END": today.strftime("%Y%m%d235959"),
        }
        reply = self._request(
            "POST",
            f"{self.base_url}/ws_reports/getOrderReportByDate?format=json",
            body=urlencode(fields).encode(),
            headers={**self._headers(), "Content-Type": "application/x-www-form-urlencoded"},
        )
        self._check_http(reply.status, placing=False)
        for row in parse_order_report(reply.data):
            if str(row.get("COMMENT") or "").strip() == client_number and row.get("ORDER"):
                return self.state(str(row["ORDER"]), client_number)
        return None

    def state(self, supplier_number: str, client_number: str) -> SupplierOrderState:
        lines: list[SupplierLine] = []
        for number in [n.strip() for n in supplier_number.split(",") if n.strip()]:
            query = urlencode(
                {
                    "VKORG": self._credential("VKORG"),
                    "KUNRG": self._credential("KUNNR_RG"),
                    "ORDER": number,
                    "STATUS": 1,
                    "format": "json",
                }
            )
            reply = self._request(
                "GET", f"{self.base_url}/ws_order/getOrder2?{query}", headers=self._headers()
            )
            self._check_http(reply.status, placing=False)
            lines += parse_get_order2(reply.data).lines
        return SupplierOrderState(
            supplier_number=supplier_number, lines=lines, client_number=client_number
        )

    def _check_http(self, status: int, *, placing: bool) -> None:
        if status in (401, 403):
            raise (OrderRejected if placing else OrderNotSent)(
                "Armtek не принял логин или пароль: проверьте их в настройках поставщика"
            )

    def _headers(self) -> dict[str, str]:
        login, password = self._credential("login"), self._credential("password")
        if not (login and password and self._credential("VKORG")):
            raise OrderNotSent(
                "Не заданы логин, пароль или VKORG Armtek: укажите их в настройках поставщика"
            )
        return {"Authorization": basic_auth_header(login, password), "Accept": "application/json"}

    def _credential(self, name: str) -> str:
        for key in (name, name.lower(), name.upper()):
            if self.credentials.get(key):
                return str(self.credentials[key])
        return ""
