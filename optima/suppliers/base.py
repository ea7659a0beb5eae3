"""The supplier adapter interface, its HTTP plumbing and the registry of adapter kinds.

An adapter turns one supplier's API into `Offer`s. Whatever the supplier does — answers late,
hangs, refuses the password, sends HTML instead of JSON — `search()` returns a `SearchResult`
with a state and a Russian message for the staff; it never raises for the supplier's faults.

A new kind of supplier is one new module in this package with a `@register`ed subclass: the
package imports every module it holds, so `ADAPTERS` and `adapter_for()` see it.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import math
import re
import socket
import ssl
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from autoservice.metrics import supplier_answer_seconds, supplier_outcome
from autoservice.outbound import OutboundRefused, RefusalReason, outbound_request

from .offer import Offer, normalize_number

logger = logging.getLogger("optima.suppliers")

MAX_BODY_BYTES = 10 * 1024 * 1024
# Query parameters that carry secrets in some suppliers' URLs (ABCP userpsw, Forum-Auto pass...).
SECRET_PARAMS = frozenset(
    {"userlogin", "userpsw", "login", "pass", "password", "psw", "key", "api_key", "token"}
)

# Credential keys whose values are scrubbed from messages and logs.
_SECRET_KEY = re.compile(r"pass|psw|login|user|key|token|secret", re.IGNORECASE)


class SearchState(StrEnum):
    ANSWERED = "answered"
    NO_STOCK = "no_stock"
    TIMEOUT = "timeout"
    ERROR = "error"
    AUTH_ERROR = "auth_error"
    # The shop's connection settings are wrong in a way only the manager can fix (the
    # supplier does not allow this server's address, the site key is wrong, the daily
    # request quota is spent): not the supplier being down.
    CONFIG_ERROR = "config_error"
    # The account's daily request quota is spent (the supplier said so, or our own count
    # stopped the search before the supplier would block the account).
    QUOTA_SPENT = "quota_spent"


@dataclass
class SearchResult:
    """What one supplier said about one number. `message` is Russian, for the staff."""

    supplier: str
    state: SearchState
    offers: list[Offer]
    message: str
    elapsed_ms: int
    # Supplier rows dropped because they could not be read (no price, broken fields).
    skipped_rows: int = 0
    # HTTP requests this search made: what a supplier with a daily quota counts.
    requests: int = 0
    # The supplier said this account's request quota is spent.
    quota_spent: bool = False


class SupplierProblem(Exception):
    """Raised inside an adapter to end a search with a state; never leaves `search()`."""

    def __init__(self, state: SearchState, message: str):
        super().__init__(message)
        self.state = state
        self.message = message


class SupplierTimeout(SupplierProblem):
    def __init__(self, message: str = "Поставщик не ответил вовремя"):
        super().__init__(SearchState.TIMEOUT, message)


@dataclass
class SearchRun:
    """The state of one search while an adapter works on it."""

    number_raw: str
    number_key: str
    with_analogues: bool
    started: float
    deadline: float
    fetched_at: datetime
    offers: list[Offer] = field(default_factory=list)
    rows_seen: int = 0
    skipped_rows: int = 0
    requests: int = 0
    quota_spent: bool = False
    # The supplier's warnings and information for the staff (Armtek W/I messages).
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text and text not in self.notes:
            self.notes.append(text)

    def add(self, offer: Offer) -> None:
        self.offers.append(offer)

    def take(
        self,
        rows: Iterable,
        read: Callable[[object], Offer | None],
        seen: set[tuple],
        *,
        order_key: str,
    ) -> None:
        """Read the answer's rows into offers: a row `read` cannot use is counted as skipped,
        and an offer already taken (the same `order_key` in its order reference, brand and
        number: the supplier repeats rows across brand lookups) is taken once."""
        for row in rows:
            self.rows_seen += 1
            offer = read(row)
            if offer is None:
                self.skipped_rows += 1
                continue
            identity = (offer.order_ref.get(order_key), offer.brand, offer.number_key)
            if identity not in seen:
                seen.add(identity)
                self.add(offer)


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes
    content_type: str


class SupplierAdapter(ABC):
    """One configured supplier connection. Subclasses implement `_collect`."""

    kind: ClassVar[str] = ""

    def __init__(
        self, *, supplier_id: str, base_url: str, credentials: dict, timeout_s: float
    ) -> None:
        self.supplier_id = supplier_id
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials or {})
        self.timeout_s = float(timeout_s)

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.supplier_id} {mask_url(self.base_url)}>"

    def search(
        self, number: str, *, with_analogues: bool = True, deadline: float | None = None
    ) -> SearchResult:
        """Ask the supplier for offers on `number` (and its analogues) before `deadline`.

        `deadline` is a `time.monotonic()` value bounding all of this search's HTTP calls;
        without one the search gets `timeout_s` in total.
        """
        started = time.monotonic()
        run = SearchRun(
            number_raw=str(number or "").strip(),
            number_key=normalize_number(number),
            with_analogues=with_analogues,
            started=started,
            deadline=deadline if deadline is not None else started + self.timeout_s,
            fetched_at=datetime.now(UTC),
        )
        if not run.number_key:
            state, message = SearchState.ERROR, "Номер детали пуст: введите OEM-номер детали"
        else:
            try:
                self._collect(run)
            except SupplierProblem as problem:
                state, message = problem.state, problem.message
                if state == SearchState.TIMEOUT and run.offers:
                    message += f"; показаны предложения, полученные до этого: {len(run.offers)}"
            except Exception as exc:  # our own parsing bug must not break the whole search
                logger.error(
                    "supplier %s: unexpected failure\n%s",
                    self.supplier_id,
                    self._scrub("".join(traceback.format_exception(exc))),
                )
                state = SearchState.ERROR
                message = "Ответ поставщика не удалось обработать; попробуйте позже"
            else:
                state, message = self._final_state(run)
        if run.notes:
            message += ". " + self._notes_label() + "; ".join(run.notes)
        supplier_answer_seconds.labels(kind=self.kind, outcome=supplier_outcome(state)).observe(
            time.monotonic() - started
        )
        return SearchResult(
            supplier=self.supplier_id,
            state=state,
            offers=run.offers,
            message=message,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            skipped_rows=run.skipped_rows,
            requests=run.requests,
            quota_spent=run.quota_spent,
        )

    def _notes_label(self) -> str:
        return "Поставщик сообщает: "

    @abstractmethod
    def _collect(self, run: SearchRun) -> None:
        """Fetch and append offers to `run`; raise `SupplierProblem` to end with a state."""

    def _final_state(self, run: SearchRun) -> tuple[SearchState, str]:
        if run.offers:
            message = f"Предложений: {len(run.offers)}"
            if run.skipped_rows:
                message += f"; пропущено строк с ошибками: {run.skipped_rows}"
            return SearchState.ANSWERED, message
        if run.rows_seen and run.skipped_rows == run.rows_seen:
            return SearchState.ERROR, "Поставщик прислал предложения, которые не удалось прочитать"
        return SearchState.NO_STOCK, f"Нет предложений по номеру {run.number_key}"

    # --- HTTP ----------------------------------------------------------------------------

    def _http(
        self,
        method: str,
        url: str,
        *,
        run: SearchRun,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        """One HTTP exchange, all of it (connect, send, every read, redirects) inside
        `run.deadline`, under the server's outbound policy (autoservice.outbound): an
        internal address, plain http in production or too many redirects end the search
        with an error state and the policy's Russian message."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SupplierProblem(SearchState.ERROR, "Адрес API поставщика указан неверно")
        per_socket = self._socket_timeout(run)
        run.requests += 1
        try:
            response = outbound_request(
                method,
                url,
                headers=headers,
                body=body,
                timeout_s=max(0.0, run.deadline - time.monotonic()),
                socket_timeout_s=per_socket,
                max_bytes=MAX_BODY_BYTES,
            )
            return HttpReply(
                status=response.status, body=response.body, content_type=response.content_type
            )
        except OutboundRefused as refused:
            logger.warning(
                "supplier %s: refused by the outbound policy (%s) at %s",
                self.supplier_id,
                refused.reason,
                mask_url(url),
            )
            if refused.reason == RefusalReason.TOO_LARGE:
                message = "Поставщик прислал слишком большой ответ"
            elif refused.reason == RefusalReason.BAD_URL:
                message = "Адрес API поставщика указан неверно"
            else:
                message = f"Поставщик недоступен: {refused.message}"
            raise SupplierProblem(SearchState.ERROR, message) from None
        except TimeoutError:
            logger.info("supplier %s: timeout at %s", self.supplier_id, mask_url(url))
            raise SupplierTimeout(
                f"Поставщик не ответил за {_seconds(self._budget(run))}"
            ) from None
        except ConnectionRefusedError:
            logger.warning("supplier %s: refused at %s", self.supplier_id, mask_url(url))
            raise SupplierProblem(
                SearchState.ERROR,
                "Поставщик недоступен: соединение отклонено (проверьте адрес API)",
            ) from None
        except socket.gaierror:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик недоступен: адрес сервера не найден"
            ) from None
        except ssl.SSLError:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик недоступен: ошибка защищённого соединения (TLS)"
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:
            logger.warning(
                "supplier %s: %s at %s", self.supplier_id, type(exc).__name__, mask_url(url)
            )
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик оборвал соединение; попробуйте позже"
            ) from None

    def _socket_timeout(self, run: SearchRun) -> float:
        remaining = run.deadline - time.monotonic()
        if remaining <= 0:
            raise SupplierTimeout(f"Поставщик не ответил за {_seconds(self._budget(run))}")
        return min(self.timeout_s, remaining)

    def _budget(self, run: SearchRun) -> float:
        return max(0.0, run.deadline - run.started)

    def _json(self, reply: HttpReply) -> Any:
        """The reply's JSON with exact decimals; an error state if it is not JSON."""
        try:
            return json.loads(reply.body, parse_float=_decimal)
        except (ValueError, RecursionError):
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал непонятный ответ (не JSON)"
            ) from None

    def _server_error(self, reply: HttpReply, url: str) -> SupplierProblem:
        logger.warning("supplier %s: HTTP %s at %s", self.supplier_id, reply.status, mask_url(url))
        if reply.status == 429:
            return SupplierProblem(
                SearchState.ERROR,
                "Поставщик ограничил частоту запросов (HTTP 429); повторите позже",
            )
        if reply.status >= 500:
            return SupplierProblem(
                SearchState.ERROR,
                f"У поставщика ошибка сервера (HTTP {reply.status}); повторите позже",
            )
        return SupplierProblem(
            SearchState.ERROR, f"Поставщик отклонил запрос (HTTP {reply.status})"
        )

    # --- secrets --------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        values = [
            str(value)
            for name, value in self.credentials.items()
            if isinstance(value, str | int) and _SECRET_KEY.search(str(name))
        ]
        return [value for value in values if len(value) >= 3]

    def _scrub(self, text: str) -> str:
        """Text with every credential value replaced, for logs and supplier-provided messages."""
        for secret in sorted(self._secrets(), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _supplier_text(self, text: object, limit: int = 200) -> str:
        """A supplier's own error text, safe to show: no credentials, one line, bounded."""
        cleaned = " ".join(self._scrub(str(text or "")).split())
        return cleaned[:limit]


def basic_auth_header(login: str, password: str) -> str:
    token = base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def mask_url(url: str) -> str:
    """The URL with secret query values and user:password@ replaced by ***, for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<неверный адрес>"
    query = urlencode(
        [
            (name, "***" if name.lower() in SECRET_PARAMS else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def hours_to_days(hours: int) -> int:
    """Delivery hours as whole calendar days, rounded up: 0 h = today, 1–24 h = 1 day."""
    return max(0, math.ceil(hours / 24))


def as_rows(value: Any) -> list[Any] | None:
    """A supplier list, also when sent as an object keyed by index ({"0": {...}, "1": ...})."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
        return [value[k] for k in sorted(value, key=lambda k: int(k))]
    return None


def as_int(value: Any, default: int | None = None) -> int | None:
    """An integer field that may come as a number or a string ("12", "12.0", "")."""
    if value is None or isinstance(value, bool) or value == "":
        return default
    try:
        number = _decimal(str(value).strip())
    except ValueError:
        return default
    if not number.is_finite() or number != number.to_integral_value():
        return default
    return int(number)


_QTY_LOWER_BOUND = re.compile(r"^(?:>|более|больше|от)\s*(\d+)$|^(\d+)\s*\+$", re.IGNORECASE)


def stock_quantity(value: Any) -> tuple[int | None, int]:
    """(qty, qty_min) from a stock field sent as a number or a text: 7 → (7, 7), "7" → (7, 7),
    ">10" / "более 10" / "10+" → (None, 10); empty, negative or unreadable → (None, 0), an
    unknown amount rather than a refused row."""
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        return None, 0
    text = str(value).strip()
    exact = as_int(text.replace(" ", ""))
    if exact is not None:
        return (exact, exact) if exact >= 0 else (None, 0)
    match = _QTY_LOWER_BOUND.match(text)
    if match:
        return None, int(match.group(1) or match.group(2))
    return None, 0


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None


def _seconds(value: float) -> str:
    """0.25 → "0,25 с", 2.0 → "2 с"."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",") + " с"


# --- registry ------------------------------------------------------------------------------

ADAPTERS: dict[str, type[SupplierAdapter]] = {}


def register(cls: type[SupplierAdapter]) -> type[SupplierAdapter]:
    """Class decorator: make an adapter kind available to `adapter_for`."""
    if not cls.kind:
        raise TypeError(f"{cls.__name__} has no kind")
    if cls.kind in ADAPTERS and ADAPTERS[cls.kind] is not cls:
        raise TypeError(f"supplier kind {cls.kind!r} is registered twice")
    ADAPTERS[cls.kind] = cls
    return cls


def adapter_for(kind: str, **kwargs: Any) -> SupplierAdapter:
    """A configured adapter of `kind` ("abcp", "armtek", "pricelist"...)."""
    try:
        cls = ADAPTERS[kind]
    except KeyError:
        raise ValueError(f"Неизвестный тип поставщика: {kind}") from None
    return cls(**kwargs)
