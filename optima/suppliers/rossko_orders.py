"""Rossko ordering over SOAP: `GetCheckout` places the order, `GetOrders` reads its lines.

Idempotency: our client order number goes into the order's contact comment and into each
line's comment as "<number>/<position>" (Rossko keeps a line comment of up to 50 characters and
shows it in GetOrders). When a GetCheckout times out, the next attempt first lists the
account's orders with `GetOrders` and looks for lines with our number; only when none is found
is the order sent again. Shapes and their sources: tests/optima/contracts/rossko/README.md
(what is reconstructed is said there: GetOrders without `order_ids`).

Rossko may split one checkout into several orders (one per warehouse, `OrderIDS.id[…]`): the
supplier number we keep is their list, comma-separated, and the state reads them all.

Line statuses (GetOrders `part.status`, the dictionary published in Rossko's documentation as
restated by the sources): 0 awaits confirmation; 1 being picked, 5 and 31 awaited at the
warehouse (confirmed); 3 ready for dispatch and 6 at the branch's warehouse (on its way to
us); 2 «отгружено», handed over (delivered — nothing but returns follows it); 7 out of stock,
8 cancelled, 9 expired (rejected); 32–36 return steps after delivery (delivered).
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from decimal import Decimal
from typing import Any

import zeep.exceptions

from autoservice.money import money_parse
from autoservice.outbound import OutboundRefused, outbound_request

from .base import MAX_BODY_BYTES, HttpReply, as_int, mask_url
from .offer import normalize_number
from .orders import (
    LineState,
    OrderClient,
    OrderLineRequest,
    OrderNotSent,
    OrderProblem,
    OrderRejected,
    OrderUnknown,
    SupplierLine,
    SupplierOrderState,
    register_order_client,
)
from .rossko import KEY_WORDS, credentials_of, items, soap_call, text

logger = logging.getLogger("optima.suppliers.rossko")

LINE_COMMENT_MAX = 50
STATUS = {
    0: (LineState.ORDERED, "ждёт подтверждения"),
    1: (LineState.CONFIRMED, "комплектуется"),
    2: (LineState.DELIVERED, "отгружено"),
    3: (LineState.SHIPPED, "готово к отгрузке"),
    5: (LineState.CONFIRMED, "ожидаем поступление"),
    6: (LineState.SHIPPED, "на складе филиала"),
    7: (LineState.REJECTED, "нет в наличии"),
    8: (LineState.REJECTED, "отменён клиентом"),
    9: (LineState.REJECTED, "просрочен"),
    31: (LineState.CONFIRMED, "ожидаем товар на складе"),
    32: (LineState.DELIVERED, "возврат на согласовании"),
    33: (LineState.DELIVERED, "товар на экспертизе"),
    34: (LineState.DELIVERED, "возврат отклонён"),
    35: (LineState.DELIVERED, "возврат частично отклонён"),
    36: (LineState.DELIVERED, "товар возвращён"),
}


def line_comment(client_number: str, position: int) -> str:
    return f"{client_number}/{position}"[:LINE_COMMENT_MAX]


def _position_from(comment: Any, client_number: str) -> int | None:
    """Our position from a line comment "<client number>/<position>", None if not ours."""
    value = text(comment)
    prefix = f"{client_number}/"
    if not client_number or not value.startswith(prefix):
        return None
    return as_int(value[len(prefix) :])


def parse_checkout(
    result: dict, wanted: list[OrderLineRequest], client_number: str
) -> SupplierOrderState:
    """A CheckoutResult as our order state; OrderRejected when nothing was ordered."""
    if not isinstance(result, dict) or result.get("success") is None:
        raise OrderUnknown("Росско прислал ответ без результата заказа (CheckoutResult)")
    message = text(result.get("message"))[:300]
    if not result["success"]:
        if message and KEY_WORDS.search(message):
            raise OrderRejected(
                "Росско не принял ключи KEY1/KEY2: проверьте их в настройках поставщика. "
                f"Ответ Росско: {message}"
            )
        raise OrderRejected(f"Росско не принял заказ: {message or 'без пояснения'}")
    by_key = {line.number_key: line.position for line in wanted}
    numbers = [text(i) for i in ((result.get("OrderIDS") or {}).get("id") or []) if text(i)]
    lines: list[SupplierLine] = []
    for item in items(result.get("ItemsList"), "Item"):
        key = normalize_number(str(item.get("partnumber") or "").split("@", 1)[0])
        position = _position_from(item.get("comment"), client_number)
        order_id = text(item.get("order_id"))
        if order_id and order_id not in numbers:
            numbers.append(order_id)
        lines.append(
            SupplierLine(
                position=position if position is not None else by_key.get(key),
                number_key=key,
                state=LineState.ORDERED,
                supplier_line_ref=order_id,
                price_rub=_money(item.get("price")),
                qty=as_int(item.get("count")),
            )
        )
    for error in items(result.get("ItemsErrorList"), "ItemError"):
        key = normalize_number(str(error.get("partnumber") or "").split("@", 1)[0])
        lines.append(
            SupplierLine(
                position=by_key.get(key),
                number_key=key,
                state=LineState.REJECTED,
                reason=text(error.get("message"))[:300] or "Росско не включил позицию в заказ",
            )
        )
    if not numbers:
        reasons = "; ".join(line.reason for line in lines if line.reason) or message
        raise OrderRejected("Росско не принял заказ" + (f": {reasons}" if reasons else ""))
    return SupplierOrderState(
        supplier_number=", ".join(numbers), lines=lines, client_number=client_number
    )


def parse_orders(result: dict) -> list[dict]:
    """The orders of an OrdersResult; OrderNotSent when the supplier refused to list them."""
    if not isinstance(result, dict) or result.get("success") is None:
        raise OrderNotSent("Росско прислал ответ без списка заказов (OrdersResult)")
    if not result["success"]:
        message = text(result.get("message"))[:300]
        raise OrderNotSent(f"Росско не показал заказы: {message or 'без пояснения'}")
    return items(result.get("OrdersList"), "Order")


def order_lines(order: dict, client_number: str) -> list[SupplierLine]:
    lines = []
    for part in items(order.get("parts"), "part"):
        code = as_int(part.get("status"))
        state, label = STATUS.get(code, (LineState.ORDERED, ""))
        lines.append(
            SupplierLine(
                position=_position_from(part.get("comment"), client_number),
                number_key=normalize_number(str(part.get("partnumber") or "").split("@", 1)[0]),
                state=state,
                supplier_line_ref=text(order.get("id")),
                price_rub=_money(part.get("price")),
                qty=as_int(part.get("count")),
                reason=f"Росско: {label}" if state == LineState.REJECTED else "",
            )
        )
    return lines


def _money(value: Any) -> Decimal | None:
    try:
        return money_parse(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


@register_order_client
class RosskoOrderClient(OrderClient):
    """credentials as for the search adapter (login = KEY1, password = KEY2, delivery_id,
    address_id) and, for checkout, payment_id, requisite_id, contact_name, contact_phone."""

    kind = "rossko"
    has_test_mode = False  # Rossko switches test orders on in its own cabinet, not per call

    def place(self, client_number: str, lines: list[OrderLineRequest]) -> SupplierOrderState:
        keys = self._keys()
        options = self.credentials
        payment_id = str(options.get("payment_id") or "").strip()
        if not keys["delivery_id"] or not payment_id:
            raise OrderNotSent(
                "Для заказа в Росско выберите способ получения и способ оплаты в настройках "
                "поставщика («Загрузить способы доставки»)"
            )
        delivery = {"delivery_id": keys["delivery_id"]}
        if keys["address_id"]:
            delivery["address_id"] = keys["address_id"]
        payment = {"payment_id": payment_id}
        if options.get("requisite_id"):
            payment["requisite_id"] = str(options["requisite_id"])
        parts = [
            {
                "partnumber": (line.order_ref or {}).get("partnumber") or line.number,
                "brand": (line.order_ref or {}).get("brand") or line.brand,
                "stock": (line.order_ref or {}).get("stock") or "",
                "count": str(line.qty),
                "comment": line_comment(client_number, line.position),
            }
            for line in lines
        ]
        result = self._call(
            "GetCheckout",
            writes=True,
            KEY1=keys["KEY1"],
            KEY2=keys["KEY2"],
            delivery=delivery,
            payment=payment,
            contact={
                "name": str(options.get("contact_name") or ""),
                "phone": str(options.get("contact_phone") or ""),
                "comment": client_number,
            },
            delivery_parts=True,
            PARTS={"Part": parts},
        )
        return parse_checkout(result, lines, client_number)

    def find(self, client_number: str) -> SupplierOrderState | None:
        keys = self._keys()
        result = self._call("GetOrders", KEY1=keys["KEY1"], KEY2=keys["KEY2"])
        numbers: list[str] = []
        lines: list[SupplierLine] = []
        for order in parse_orders(result):
            ours = [line for line in order_lines(order, client_number) if line.position is not None]
            if ours:
                numbers.append(text(order.get("id")))
                lines += ours
        if not numbers:
            return None
        return SupplierOrderState(
            supplier_number=", ".join(numbers), lines=lines, client_number=client_number
        )

    def state(self, supplier_number: str, client_number: str) -> SupplierOrderState:
        keys = self._keys()
        ids = [n.strip() for n in supplier_number.split(",") if n.strip()]
        result = self._call(
            "GetOrders", KEY1=keys["KEY1"], KEY2=keys["KEY2"], order_ids={"id": ids}
        )
        lines: list[SupplierLine] = []
        for order in parse_orders(result):
            if text(order.get("id")) in ids:
                lines += order_lines(order, client_number)
        return SupplierOrderState(
            supplier_number=supplier_number, lines=lines, client_number=client_number
        )

    # --- plumbing --------------------------------------------------------------------------

    def _keys(self) -> dict[str, str]:
        keys = credentials_of(self.credentials)
        if not (keys["KEY1"] and keys["KEY2"]):
            raise OrderNotSent(
                "Не заданы ключи Росско: укажите KEY1 и KEY2 в настройках поставщика"
            )
        return keys

    def _call(self, operation: str, *, writes: bool = False, **params: Any) -> dict:
        unknown = OrderUnknown if writes else OrderNotSent

        def exchange(url: str, body: bytes, headers: dict[str, str]) -> HttpReply:
            try:
                response = outbound_request(
                    "POST",
                    url,
                    headers=headers,
                    body=body,
                    timeout_s=self.timeout_s,
                    socket_timeout_s=self.timeout_s,
                    max_bytes=MAX_BODY_BYTES,
                )
            except OutboundRefused as refused:
                raise OrderNotSent(f"Поставщик недоступен: {refused.message}") from None
            except TimeoutError:
                logger.info("rossko %s timed out at %s", operation, mask_url(url))
                raise unknown(
                    f"Поставщик не ответил за {self.timeout_s:g} с".replace(".", ",")
                ) from None
            except (ConnectionRefusedError, socket.gaierror, ssl.SSLError):
                raise OrderNotSent(
                    "Поставщик недоступен: соединение не установлено (проверьте адрес API)"
                ) from None
            except (OSError, ValueError, http.client.HTTPException) as exc:
                logger.warning("rossko %s failed: %s", operation, type(exc).__name__)
                raise unknown("Поставщик оборвал соединение") from None
            if response.status in (401, 403):
                raise (OrderRejected if writes else OrderNotSent)(
                    "Росско не принял ключи KEY1/KEY2: проверьте их в настройках поставщика"
                )
            if response.status >= 500 and b"Envelope" not in response.body[:2000]:
                raise unknown(f"У поставщика ошибка сервера (HTTP {response.status})")
            return HttpReply(response.status, response.body, response.content_type)

        try:
            return soap_call(exchange, self.base_url, operation, **params)
        except OrderProblem:
            raise
        except zeep.exceptions.Fault as fault:
            # A fault on GetCheckout may come after the order was booked: look before resending.
            raise unknown(f"Росско ответил ошибкой SOAP: {self._text(fault.message)}") from None
        except (
            zeep.exceptions.TransportError,
            zeep.exceptions.XMLSyntaxError,
            zeep.exceptions.XMLParseError,
        ):
            raise unknown("Росско прислал непонятный ответ (не SOAP)") from None
        except zeep.exceptions.ValidationError as exc:
            # Our request does not fit the WSDL (an empty required field): nothing was sent.
            raise OrderNotSent(f"Заказ для Росско не собран: {exc}") from None
