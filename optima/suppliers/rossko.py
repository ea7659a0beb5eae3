"""Rossko SOAP adapter (api.rossko.ru/service/v2.1), through zeep.

One `GetSearch(KEY1, KEY2, text, delivery_id, address_id)` per number answers
`SearchResult{success, message, PartsList.Part[…]}`; each part carries its warehouses
(`stocks.stock[…]`: id, description, price, count, multiplicity, delivery days,
deliveryStart/deliveryEnd) and its analogues (`crosses.Part[…]`, same shape). Reference:
`shared/reference/supplier-apis.md` §6; the answer shapes the adapter is checked against are in
tests/optima/contracts/rossko/ with their sources.

zeep reads the WSDL shipped in `wsdl/rossko/` (never the network) and sends every envelope
through this project's outbound policy: the zeep transport below hands each POST to the
adapter's `_http` (search) or the order client's exchange (ordering), so the deadline, the
address rules and the size limit are the same as for every other supplier. Each operation is
bound to `<base URL>/<Operation>`: Rossko serves each at its own address.

The connection: KEY1 in the supplier's login field, KEY2 as its (encrypted) secret, and in its
options `delivery_id` (how the goods reach the shop: pick-up or delivery) and `address_id` (the
delivery address; empty for pick-up). `checkout_details()` reads the account's delivery types,
addresses, payment types and companies (GetCheckoutDetails) for the settings form.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from requests.structures import CaseInsensitiveDict
from zeep.wsdl import Document

from autoservice.money import money_parse

from .base import (
    HttpReply,
    SearchRun,
    SearchState,
    SupplierAdapter,
    SupplierProblem,
    as_int,
    register,
)
from .offer import Offer, canonical_brand, normalize_number, quality_for_brand

logger = logging.getLogger("optima.suppliers.rossko")

WSDL_PATH = Path(__file__).resolve().parent / "wsdl" / "rossko" / "rossko-v2.1.wsdl"
NAMESPACE = "https://api.rossko.ru/"
BINDING = "{https://api.rossko.ru/}RosskoBinding"
DEFAULT_BASE_URL = "https://api.rossko.ru/service/v2.1"
# Moscow wall-clock time: what "today" means for the supplier's delivery dates.
MOSCOW = timezone(timedelta(hours=3), "MSK")
# No DTDs, no entities, no external documents: a supplier's answer is data, nothing more.
# Not strict: an element Rossko adds later must not fail every search.
SETTINGS = zeep.Settings(
    strict=False,
    xml_huge_tree=False,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=True,
    raw_response=False,
)
KEY_WORDS = re.compile(
    r"ключ|key1|key2|авториз|доступ запрещ|не найден клиент|unauthori|authenti|access denied",
    re.IGNORECASE,
)
_NOTHING_WORDS = re.compile(
    r"ничего не найдено|не найден[оа]? (?:товар|детал|запчаст)|нет результат", re.IGNORECASE
)
_DELIVERY_WORDS = re.compile(r"delivery_id|address_id|доставк|адрес", re.IGNORECASE)
_LOWER_BOUND = re.compile(r"^(?:>|более|больше|от)\s*(\d+)$|^(\d+)\s*\+$", re.IGNORECASE)
_PARTNER_WORDS = re.compile(r"партн[её]р", re.IGNORECASE)

Exchange = Callable[[str, bytes, dict[str, str]], HttpReply]


# --- zeep plumbing ---------------------------------------------------------------------------


class _FileOnlyTransport(zeep.Transport):
    """Loads the shipped WSDL from disk; anything else (an import, a schema on the web) is
    refused, so that building the client can never reach the network."""

    def load(self, url: str) -> bytes:
        if Path(url).resolve() != WSDL_PATH:
            raise zeep.exceptions.TransportError(f"refused to load {url}: only the shipped WSDL")
        return WSDL_PATH.read_bytes()

    def post(self, address, message, headers):  # pragma: no cover - never used to send
        raise zeep.exceptions.TransportError("the WSDL loader does not send requests")

    def get(self, address, params, headers):  # pragma: no cover
        raise zeep.exceptions.TransportError("the WSDL loader does not send requests")


@functools.cache
def wsdl_document() -> Document:
    """The parsed WSDL, once per process (parsing it is the slow part of a zeep client)."""
    return Document(str(WSDL_PATH), _FileOnlyTransport(), settings=SETTINGS)


class OutboundTransport(zeep.Transport):
    """zeep's transport with every POST handed to `exchange` (the caller's outbound call with
    its deadline): zeep builds and reads the envelopes, the project's policy sends them."""

    def __init__(self, exchange: Exchange):
        # Not zeep's __init__: it opens a requests.Session per transport, which nothing here
        # uses (every byte goes through `exchange`) and which costs more than the envelope.
        self.cache = None
        self.load_timeout = None
        self.operation_timeout = None
        self.logger = logger
        self.session = None
        self._close_session = False
        self._exchange = exchange

    def post(self, address, message, headers):
        body = message if isinstance(message, bytes) else str(message).encode("utf-8")
        reply = self._exchange(address, body, dict(headers or {}))
        response = requests.Response()
        response.status_code = reply.status
        response._content = reply.body
        response.headers = CaseInsensitiveDict({"Content-Type": reply.content_type or "text/xml"})
        response.encoding = "utf-8"
        response.url = address
        return response

    def get(self, address, params, headers):
        raise zeep.exceptions.TransportError("GET is not used by the Rossko API")

    def load(self, url):
        raise zeep.exceptions.TransportError("the WSDL is read from the shipped file only")


def soap_call(exchange: Exchange, base_url: str, operation: str, **params: Any) -> dict:
    """Call one Rossko operation at `<base_url>/<operation>`; its result element
    (SearchResult, CheckoutResult...: zeep unwraps the one-part answer) as plain dicts and
    lists, an empty dict when the answer had none. zeep's own exceptions pass through."""
    client = zeep.Client(wsdl_document(), transport=OutboundTransport(exchange), settings=SETTINGS)
    service = client.create_service(BINDING, f"{base_url.rstrip('/')}/{operation}")
    result = getattr(service, operation)(**params)
    return zeep.helpers.serialize_object(result, dict) or {}


def items(value: Any, name: str) -> list[dict]:
    """The repeated child `name` of a list wrapper ({"Part": [...]}) as a list of dicts."""
    if not isinstance(value, dict):
        return []
    rows = value.get(name)
    if rows is None:
        return []
    if not isinstance(rows, list):
        rows = [rows]
    return [row for row in rows if isinstance(row, dict)]


def text(value: Any) -> str:
    return " ".join(str(value if value is not None else "").split())


def credentials_of(credentials: dict) -> dict[str, str]:
    """KEY1, KEY2, delivery_id, address_id from a supplier's credentials (login = KEY1,
    password = KEY2; options may name them too)."""
    get = lambda *names: next(  # noqa: E731
        (str(credentials[n]).strip() for n in names if credentials.get(n)), ""
    )
    return {
        "KEY1": get("KEY1", "key1", "login"),
        "KEY2": get("KEY2", "key2", "password"),
        "delivery_id": get("delivery_id", "DELIVERY_ID"),
        "address_id": get("address_id", "ADDRESS_ID"),
    }


# --- search ----------------------------------------------------------------------------------


@register
class RosskoAdapter(SupplierAdapter):
    """credentials: {"login": KEY1, "password": KEY2, "delivery_id", "address_id"}."""

    kind = "rossko"

    def _notes_label(self) -> str:
        return "Росско сообщает: "

    def _collect(self, run: SearchRun) -> None:
        keys = credentials_of(self.credentials)
        if not (keys["KEY1"] and keys["KEY2"]):
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "Не заданы ключи Росско: укажите KEY1 в поле «Логин» и KEY2 в поле «Пароль или "
                "ключ» в настройках поставщика",
            )
        if not keys["delivery_id"]:
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "Не выбран способ получения Росско (delivery_id): загрузите способы доставки "
                "в настройках поставщика и выберите один",
            )
        params = {
            "KEY1": keys["KEY1"],
            "KEY2": keys["KEY2"],
            "text": run.number_key,
            "delivery_id": keys["delivery_id"],
        }
        if keys["address_id"]:
            params["address_id"] = keys["address_id"]
        result = self._call(run, "GetSearch", params)
        if not isinstance(result, dict) or result.get("success") is None:
            raise SupplierProblem(
                SearchState.ERROR, "Росско прислал ответ без результата поиска (SearchResult)"
            )
        message = self._supplier_text(result.get("message"))
        if not result["success"]:
            if message and _NOTHING_WORDS.search(message):
                return
            raise _failure(message)
        if message:
            run.note(message)
        seen: set[tuple] = set()
        for part in items(result.get("PartsList"), "Part"):
            self._add_part(part, run, seen, cross=False)
            if run.with_analogues:
                for cross in items(part.get("crosses"), "Part"):
                    self._add_part(cross, run, seen, cross=True)

    def _call(self, run: SearchRun, operation: str, params: dict) -> dict:
        def exchange(url: str, body: bytes, headers: dict[str, str]) -> HttpReply:
            reply = self._http("POST", url, run=run, body=body, headers=headers)
            if reply.status in (401, 403):
                raise _keys_rejected("")
            if reply.status != 200 and b"Envelope" not in reply.body[:2000]:
                # An HTML error page from a proxy: the HTTP status says it, not a SOAP fault.
                raise self._server_error(reply, url)
            return reply

        try:
            return soap_call(exchange, self.base_url, operation, **params)
        except zeep.exceptions.Fault as fault:
            logger.warning("supplier %s: SOAP fault %s", self.supplier_id, fault.code)
            raise _failure(self._supplier_text(fault.message), fault=True) from None
        except zeep.exceptions.TransportError as exc:
            if exc.status_code and exc.status_code >= 500:
                raise SupplierProblem(
                    SearchState.ERROR,
                    f"У Росско ошибка сервера (HTTP {exc.status_code}); повторите позже",
                ) from None
            raise SupplierProblem(
                SearchState.ERROR, "Росско прислал непонятный ответ (не SOAP)"
            ) from None
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError) as exc:
            logger.warning("supplier %s: not a SOAP answer: %s", self.supplier_id, exc)
            raise SupplierProblem(
                SearchState.ERROR, "Росско прислал непонятный ответ (не SOAP)"
            ) from None

    def _add_part(self, part: dict, run: SearchRun, seen: set, *, cross: bool) -> None:
        for stock in items(part.get("stocks"), "stock"):
            run.rows_seen += 1
            offer = self._offer(part, stock, run, cross=cross)
            if offer is None:
                run.skipped_rows += 1
                continue
            identity = (offer.brand, offer.number_key, offer.warehouse_id, offer.price_rub)
            if identity not in seen:
                seen.add(identity)
                run.add(offer)

    def _offer(self, part: dict, stock: dict, run: SearchRun, *, cross: bool) -> Offer | None:
        try:
            brand_raw = text(part.get("brand"))
            partnumber = str(part.get("partnumber") or "").strip()
            # Some lines carry a suffix after "@" (a Rossko line variant): not part of the number.
            number_raw = partnumber.split("@", 1)[0].strip()
            brand, number_key = canonical_brand(brand_raw), normalize_number(number_raw)
            if not brand or not number_key:
                return None
            price = money_parse(str(stock.get("price") or ""))
            qty, qty_min, on_order = _quantity(stock.get("count"))
            days_min = as_int(stock.get("delivery"))
            if days_min is None or days_min < 0:
                return None
            today = datetime.now(MOSCOW).date()
            start, end = _moment(stock.get("deliveryStart")), _moment(stock.get("deliveryEnd"))
            days_max = days_min
            if end is not None:
                days_max = max(days_min, (end.date() - today).days)
            multiple = max(1, as_int(stock.get("multiplicity"), 1) or 1)
            description = text(stock.get("description"))
            warehouse_id = text(stock.get("id"))
            order_ref = {
                "partnumber": partnumber,
                "brand": brand_raw,
                "stock": warehouse_id,
            }
            for name in ("guid",):
                if part.get(name):
                    order_ref[name] = text(part[name])
            for name in ("type", "extra"):
                if stock.get(name) not in (None, ""):
                    order_ref[name] = text(stock[name])
            return Offer(
                supplier=self.supplier_id,
                brand_raw=brand_raw,
                number_raw=number_raw,
                brand=brand,
                number_key=number_key,
                name=text(part.get("name")),
                is_cross=cross or number_key != run.number_key,
                quality=quality_for_brand(brand),
                price_rub=price,
                currency_raw="RUB",
                qty=qty,
                qty_min=qty_min,
                qty_on_order=on_order,
                multiple=multiple,
                delivery_days_min=days_min,
                delivery_days_max=days_max,
                delivery_probability=None,
                warehouse_id=warehouse_id,
                warehouse_name=description,
                own_stock=False if _PARTNER_WORDS.search(description) else None,
                returnable=None,
                warranty_months=None,
                order_ref=order_ref,
                fetched_at=run.fetched_at,
                delivery_term_text=_window(start, end),
            )
        except (ValueError, TypeError, ArithmeticError):
            return None


def _quantity(value: Any) -> tuple[int | None, int, bool]:
    """(qty, qty_min, on_order) from a stock's count: "20", "0", ">10", "10+"."""
    raw = str(value if value is not None else "").strip()
    if raw == "":
        return None, 0, False
    exact = as_int(raw)
    if exact is not None:
        if exact < 0:
            raise ValueError(f"count {raw}")
        return exact, exact, exact == 0
    match = _LOWER_BOUND.match(raw)
    if not match:
        raise ValueError(f"count {raw}")
    return None, int(match.group(1) or match.group(2)), False


def _moment(value: Any) -> datetime | None:
    """A Rossko date-time ("2020-01-30T17:00:00", sometimes with a zone) or None."""
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _window(start: datetime | None, end: datetime | None) -> str:
    """The supplier's delivery window as people read it: "30.01 17:00–20:00"."""
    if start is None:
        return ""
    if end is None or end <= start:
        return start.strftime("%d.%m %H:%M")
    if end.date() == start.date():
        return f"{start:%d.%m %H:%M}–{end:%H:%M}"
    return f"{start:%d.%m %H:%M} – {end:%d.%m %H:%M}"


def _keys_rejected(answer: str) -> SupplierProblem:
    message = "Росско не принял ключи KEY1/KEY2: проверьте их в настройках поставщика"
    if answer:
        message += f". Ответ Росско: {answer}"
    return SupplierProblem(SearchState.CONFIG_ERROR, message)


def _failure(message: str, *, fault: bool = False) -> SupplierProblem:
    """success=false or a SOAP Fault: a key problem goes to the manager, a delivery setting
    too; anything else is the supplier's error, with its words."""
    if message and KEY_WORDS.search(message):
        return _keys_rejected(message)
    if message and _DELIVERY_WORDS.search(message) and not fault:
        return SupplierProblem(
            SearchState.CONFIG_ERROR,
            "Росско не принял способ получения или адрес доставки: выберите их заново в "
            f"настройках поставщика. Ответ Росско: {message}",
        )
    prefix = "Росско ответил ошибкой SOAP" if fault else "Росско сообщил об ошибке"
    return SupplierProblem(SearchState.ERROR, f"{prefix}: {message or 'без пояснения'}")


# --- delivery settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutDetails:
    """What GetCheckoutDetails says an account may use: (id, label) pairs, and for each
    address the delivery types it allows."""

    deliveries: list[tuple[str, str]]
    addresses: list[tuple[str, str, tuple[str, ...]]]
    payments: list[tuple[str, str]]
    companies: list[tuple[str, str]]


class CheckoutDetailsProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def checkout_details(*, base_url: str, credentials: dict, timeout_s: float) -> CheckoutDetails:
    """The account's delivery types, addresses, payment types and companies, for the
    supplier's settings; `CheckoutDetailsProblem` with a Russian message otherwise."""
    import time

    adapter = RosskoAdapter(
        supplier_id="rossko:details",
        base_url=base_url or DEFAULT_BASE_URL,
        credentials=credentials,
        timeout_s=timeout_s,
    )
    keys = credentials_of(credentials)
    if not (keys["KEY1"] and keys["KEY2"]):
        raise CheckoutDetailsProblem(
            "Сначала укажите KEY1 (поле «Логин») и KEY2 (поле «Пароль или ключ») и сохраните."
        )
    started = time.monotonic()
    run = SearchRun(
        number_raw="",
        number_key="",
        with_analogues=False,
        started=started,
        deadline=started + timeout_s,
        fetched_at=datetime.now(MOSCOW),
    )
    try:
        result = adapter._call(
            run, "GetCheckoutDetails", {"KEY1": keys["KEY1"], "KEY2": keys["KEY2"]}
        )
        if not isinstance(result, dict) or result.get("success") is None:
            raise SupplierProblem(SearchState.ERROR, "Росско прислал непонятный ответ")
        if not result["success"]:
            message = adapter._supplier_text(result.get("message"))
            raise (
                _keys_rejected(message)
                if not message or KEY_WORDS.search(message)
                else (_failure(message))
            )
    except SupplierProblem as problem:
        raise CheckoutDetailsProblem(problem.message) from None
    deliveries = [
        (text(row.get("id")), text(row.get("name")))
        for row in items(result.get("DeliveryType"), "delivery")
        if row.get("id")
    ]
    addresses = []
    for row in items(result.get("DeliveryAddress"), "address"):
        if not row.get("id"):
            continue
        label = ", ".join(
            text(row.get(name)) for name in ("city", "street", "house", "office") if row.get(name)
        )
        allowed = tuple(
            text(i) for i in ((row.get("Delivery") or {}).get("ids") or {}).get("id") or []
        )
        addresses.append((text(row["id"]), label or text(row["id"]), allowed))
    payments = [
        (text(row.get("id")), text(row.get("name")))
        for row in items(result.get("PaymentType"), "payment")
        if row.get("id")
    ]
    companies = [
        (
            text(row.get("id")),
            " ".join(filter(None, [text(row.get("name")), text(row.get("requisite"))])),
        )
        for row in items(result.get("CompanyList"), "company")
        if row.get("id")
    ]
    return CheckoutDetails(deliveries, addresses, payments, companies)
