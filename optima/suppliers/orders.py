"""Ordering parts from a supplier's API: the interface, its HTTP plumbing and the registry.

An order client places one order under our client order number, finds an order the supplier
already holds under that number (how a timeout is resolved: the supplier may have taken the
order and the answer got lost), and reads the order's state line by line.

Whether an order reached the supplier matters more here than in a search, so failures are
told apart: `OrderNotSent` — the request certainly did not reach the supplier (refused by
our outbound policy, connection refused, unknown host), safe to send again; `OrderUnknown` —
it may have reached it (a timeout, a dropped connection, a 5xx), so the caller must `find`
before sending again; `OrderRejected` — the supplier answered and refused the order.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from autoservice.outbound import OutboundRefused, outbound_request

from .base import MAX_BODY_BYTES, mask_url

logger = logging.getLogger("optima.suppliers.orders")


class LineState:
    """What a supplier says of one ordered line (values of OrderLineStatus)."""

    ORDERED = "ordered"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class OrderLineRequest:
    position: int
    brand: str
    number: str
    number_key: str
    qty: int
    price_rub: Decimal
    order_ref: dict


@dataclass
class SupplierLine:
    """One line as the supplier reports it, matched to ours by `position` when it can be."""

    position: int | None
    number_key: str
    state: str
    supplier_line_ref: str = ""
    price_rub: Decimal | None = None
    qty: int | None = None
    reason: str = ""


@dataclass
class SupplierOrderState:
    supplier_number: str
    lines: list[SupplierLine] = field(default_factory=list)
    client_number: str = ""


class OrderProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class OrderNotSent(OrderProblem):
    """The request did not reach the supplier: sending it again cannot order twice."""


class OrderUnknown(OrderProblem):
    """The request may have reached the supplier: look for the order before sending again."""


class OrderRejected(OrderProblem):
    """The supplier answered and refused the order (or every line of it)."""


@dataclass(frozen=True)
class OrderReply:
    status: int
    data: Any


class OrderClient(ABC):
    kind: ClassVar[str] = ""
    # Whether the supplier's API has a method that checks an order without placing it.
    has_test_mode: ClassVar[bool] = False

    def __init__(
        self, *, base_url: str, credentials: dict, timeout_s: float, test_mode: bool = False
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials or {})
        self.timeout_s = float(timeout_s)
        self.test_mode = bool(test_mode) and self.has_test_mode

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {mask_url(self.base_url)}>"

    @abstractmethod
    def place(self, client_number: str, lines: list[OrderLineRequest]) -> SupplierOrderState:
        """Place one order; raises OrderNotSent, OrderUnknown or OrderRejected."""

    @abstractmethod
    def find(self, client_number: str) -> SupplierOrderState | None:
        """The order the supplier holds under our client number, or None."""

    @abstractmethod
    def state(self, supplier_number: str, client_number: str) -> SupplierOrderState:
        """The order's lines as the supplier sees them now."""

    # --- HTTP ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        writes: bool = False,
    ) -> OrderReply:
        """One exchange under the outbound policy. `writes`: a failure after sending leaves
        the outcome unknown (OrderUnknown), not merely failed (OrderNotSent)."""
        unknown = OrderUnknown if writes else OrderNotSent
        try:
            response = outbound_request(
                method,
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
            logger.info("order call timed out at %s", mask_url(url))
            raise unknown(
                f"Поставщик не ответил за {self.timeout_s:g} с".replace(".", ",")
            ) from None
        except (ConnectionRefusedError, socket.gaierror, ssl.SSLError):
            raise OrderNotSent(
                "Поставщик недоступен: соединение не установлено (проверьте адрес API)"
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:
            logger.warning("order call failed at %s: %s", mask_url(url), type(exc).__name__)
            raise unknown("Поставщик оборвал соединение") from None
        if response.status >= 500:
            raise unknown(f"У поставщика ошибка сервера (HTTP {response.status})")
        try:
            data = json.loads(response.body, parse_float=Decimal)
        except (ValueError, RecursionError, ArithmeticError):
            if writes and response.status == 200:
                raise OrderUnknown("Поставщик прислал непонятный ответ (не JSON)") from None
            raise OrderNotSent(
                f"Поставщик прислал непонятный ответ (HTTP {response.status})"
            ) from None
        return OrderReply(status=response.status, data=data)

    def _text(self, value: object, limit: int = 200) -> str:
        text = " ".join(str(value or "").split())
        for name, secret in self.credentials.items():
            if isinstance(secret, str) and len(secret) >= 3 and "pass" in name.lower():
                text = text.replace(secret, "***")
        return text[:limit]


ORDER_CLIENTS: dict[str, type[OrderClient]] = {}


def register_order_client(cls: type[OrderClient]) -> type[OrderClient]:
    if not cls.kind:
        raise TypeError(f"{cls.__name__} has no kind")
    ORDER_CLIENTS[cls.kind] = cls
    return cls


def order_client_for(kind: str, **kwargs: Any) -> OrderClient:
    """A configured order client of `kind`; ValueError for a kind that orders otherwise."""
    try:
        cls = ORDER_CLIENTS[kind]
    except KeyError:
        raise ValueError(f"Поставщик типа {kind} не принимает заказы через API") from None
    return cls(**kwargs)
