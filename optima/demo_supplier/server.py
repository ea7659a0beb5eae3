"""The demo supplier's HTTP service: ABCP and Armtek on one loopback port, with configurable
latency, hanging, failures and garbage, run in a background thread."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import select
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import orders as demo_orders
from . import rest_kinds
from . import rossko as demo_rossko
from .catalogue import DemoCatalogue
from .formats import (
    GARBAGE,
    MOSCOW,
    abcp_offer,
    armtek_envelope,
    armtek_offer,
    is_online_stock,
    json_default,
    pricelist_csv,
)

HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class DemoConfig:
    port: int = 0
    seed: int = 1
    name: str = "Демо-поставщик"
    latency_ms: tuple[int, int] = (0, 0)
    hang: bool = False
    error_rate: float = 0.0
    garbage_rate: float = 0.0
    login: str = "demo"
    password: str = "demo"
    verbose: bool = False
    # The order desk (optima.demo_supplier.orders): seconds per status step, the share of
    # orders with a rejected line, and "take the first order, then never answer".
    order_stage_s: float = 5.0
    order_reject_rate: float = 0.0
    order_hang_first: bool = False
    # ABCP: answer every call with this error code (103: the calling address is not allowed,
    # 104: the site's authentication failed), to show a connection the manager must fix.
    abcp_error_code: int = 0
    # Armtek: search requests allowed per day (0: no limit); past it, a type A message.
    armtek_daily_quota: int = 0

    def __post_init__(self) -> None:
        latency = parse_latency(self.latency_ms)
        object.__setattr__(self, "latency_ms", latency)
        for rate in (self.error_rate, self.garbage_rate):
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError("Доля ошибок задаётся числом от 0.0 до 1.0")
        if not 0 <= int(self.port) <= 65535:
            raise ValueError("Порт задаётся числом от 0 до 65535")


def parse_latency(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        low, _, high = value.partition(":")
        try:
            pair = (int(low), int(high or low))
        except ValueError:
            raise ValueError(
                "Задержка задаётся как MIN:MAX в миллисекундах, например 50:400"
            ) from None
    elif isinstance(value, int | float):
        pair = (int(value), int(value))
    else:
        pair = (int(value[0]), int(value[1]))
    if not 0 <= pair[0] <= pair[1]:
        raise ValueError("Задержка: нужно 0 <= MIN <= MAX")
    return pair


# --- the HTTP service ------------------------------------------------------------------------


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config: DemoConfig, catalogue: DemoCatalogue):
        self.config = config
        self.catalogue = catalogue
        self.stopping = threading.Event()
        # Latency and failure draws have their own seeded generator: repeatable, and apart
        # from the catalogue so that making an instance slow does not change its prices.
        self._faults = random.Random(f"optima-demo-faults-{config.seed}")
        self._faults_lock = threading.Lock()
        self.password_md5 = hashlib.md5(config.password.encode(), usedforsecurity=False).hexdigest()
        self.armtek_requests = 0
        self._count_lock = threading.Lock()
        super().__init__((HOST, config.port), _Handler)

    def armtek_quota_spent(self) -> bool:
        """Count one Armtek request; True when it is past the day's quota."""
        with self._count_lock:
            self.armtek_requests += 1
            quota = self.config.armtek_daily_quota
            return bool(quota) and self.armtek_requests > quota

    def draw(self) -> tuple[float, bool, bool, int]:
        """(latency s, fail with 500, send garbage, which garbage) for one request."""
        low, high = self.config.latency_ms
        with self._faults_lock:
            latency = self._faults.uniform(low, high) / 1000
            fail = self._faults.random() < self.config.error_rate
            garbage = self._faults.random() < self.config.garbage_rate
            variant = self._faults.randrange(1000)
        return latency, fail, garbage, variant


class _Handler(BaseHTTPRequestHandler):
    server: DemoServer
    server_version = "OptimaDemoSupplier/1.0"
    timeout = 30  # an idle client cannot hold a thread for ever

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.config.verbose:  # the path only: ABCP puts the password hash in the query
            sys.stderr.write(
                f"[{self.server.config.name}] {self.command} {urlsplit(self.path).path}\n"
            )

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        form: dict[str, str] = {}
        raw = b""
        if method == "POST":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                return self._send(413, b"bad or too large body", "text/plain")
            raw = self.rfile.read(length)
            body = raw.decode("utf-8", "replace")
            form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if (method, path) in demo_orders.ORDER_PATHS:
            return demo_orders.handle(self, method, path, query, raw)
        if path.startswith(demo_rossko.PREFIX):
            return demo_rossko.handle(self, method, path, query, raw)
        routes = {
            ("GET", "/search/brands"): ("abcp", self._abcp_brands),
            ("GET", "/search/articles"): ("abcp", self._abcp_articles),
            ("POST", "/search/batch"): ("abcp", self._abcp_batch),
            ("POST", "/ws_search/assortment_search"): ("armtek", self._armtek_assortment),
            ("POST", "/ws_search/search"): ("armtek", self._armtek_search),
        }
        rest = rest_kinds.route(method, path)
        if rest is not None:
            protocol = rest[0]

            def route(_params: dict, rest: tuple = rest) -> None:
                rest_kinds.handle(self, rest, query, raw)

        elif (method, path) in routes:
            protocol, route = routes[(method, path)]
        elif path == "/ws_ping/index" or path == "/":
            return self._json(200, self._info())
        elif path == "/pricelist.csv":
            return self._send(200, pricelist_csv(self.server.catalogue), "text/csv; charset=utf-8")
        else:
            return self._send(404, "Нет такого адреса".encode(), "text/plain; charset=utf-8")
        latency, fail, garbage, variant = self.server.draw()
        if self.server.config.hang:
            # Accept, read and never answer: the thread is released when the client gives up
            # (closes its end) or the server stops, so a hanging instance stays bounded.
            self.close_connection = True
            return self._hold_until_client_leaves()
        if latency and self.server.stopping.wait(latency):
            return
        if fail:
            body = "<html><body><h1>500 Internal Server Error</h1>демо: сбой</body></html>"
            return self._send(500, body.encode(), "text/html; charset=utf-8")
        if garbage:
            bodies = GARBAGE.get(protocol) or rest_kinds.GARBAGE[protocol]
            return self._send(200, bodies[variant % len(bodies)])
        if protocol == "abcp" and method == "POST":
            route({**query, **form})
        else:
            route(query if protocol == "abcp" else form)

    def _hold_until_client_leaves(self) -> None:
        while not self.server.stopping.wait(0.2):
            try:
                ready, _, _ = select.select([self.connection], [], [], 0)
                if ready and not self.connection.recv(1, socket.MSG_PEEK):
                    return  # EOF: the client hung up
            except OSError:
                return

    # --- ABCP -----------------------------------------------------------------------------

    def _abcp_auth(self, query: dict[str, str]) -> bool:
        config = self.server.config
        if (
            query.get("userlogin") == config.login
            and query.get("userpsw") == self.server.password_md5
        ):
            if config.abcp_error_code:
                self._json(
                    403, {"errorCode": config.abcp_error_code, "errorMessage": "Доступ запрещён"}
                )
                return False
            return True
        self._json(403, {"errorCode": 102, "errorMessage": "Неверный логин или пароль"})
        return False

    def _abcp_brands(self, query: dict[str, str]) -> None:
        if not self._abcp_auth(query):
            return
        if not query.get("number"):
            return self._json(400, {"errorCode": 1, "errorMessage": "Не указан номер"})
        parts = self.server.catalogue.brands(query["number"])
        if not parts:
            return self._json(404, {"errorCode": 301, "errorMessage": "Ничего не найдено"})
        rows = []
        for part in parts:
            stocks = [o.stock for o in self.server.catalogue.offers_by_part[part.id]]
            rows.append(
                {
                    "brand": part.brand_abcp,
                    "number": part.number,
                    "numberFix": part.key,
                    "description": part.name,
                    "availability": max(stocks),
                }
            )
        self._json(200, self._abcp_list(rows))

    def _abcp_articles(self, query: dict[str, str]) -> None:
        if not self._abcp_auth(query):
            return
        if not query.get("number"):
            return self._json(400, {"errorCode": 1, "errorMessage": "Не указан номер"})
        if not query.get("brand"):
            return self._json(400, {"errorCode": 2, "errorMessage": "Не указан бренд"})
        catalogue = self.server.catalogue
        part = catalogue.find(query["number"], query["brand"])
        if part is None:
            return self._json(404, {"errorCode": 301, "errorMessage": "Ничего не найдено"})
        offers = catalogue.offers(part, with_analogues=query.get("withOutAnalogs") != "1")
        if query.get("useOnlineStocks") != "1":
            offers = [o for o in offers if not is_online_stock(o)]
        self._json(200, self._abcp_list([abcp_offer(o) for o in offers]))

    def _abcp_batch(self, form: dict[str, str]) -> None:
        """search/batch: one offer list per (brand, number) pair, no analogues, no online
        warehouses, at most 100 pairs."""
        if not self._abcp_auth(form):
            return
        answers = []
        for index in range(101):
            number, brand = (
                form.get(f"search[{index}][number]"),
                form.get(f"search[{index}][brand]"),
            )
            if number is None:
                break
            if index == 100:
                return self._json(400, {"errorCode": 4, "errorMessage": "Не больше 100 пар"})
            part = self.server.catalogue.find(number, brand or "")
            offers = self.server.catalogue.offers(part, with_analogues=False) if part else []
            answers.append([abcp_offer(o) for o in offers if not is_online_stock(o)])
        if not answers:
            return self._json(400, {"errorCode": 2, "errorMessage": "Не указаны номера"})
        self._json(200, answers)

    def _abcp_list(self, rows: list[dict]) -> Any:
        # Some ABCP shops send an object keyed by index instead of an array: odd seeds do.
        if self.server.config.seed % 2:
            return {str(i): row for i, row in enumerate(rows)}
        return rows

    # --- Armtek ---------------------------------------------------------------------------

    def _armtek_auth(self) -> bool:
        config = self.server.config
        expected = base64.b64encode(f"{config.login}:{config.password}".encode()).decode()
        if self.headers.get("Authorization", "") == f"Basic {expected}":
            return True
        envelope = armtek_envelope(
            401, [], [("E", "Ошибка авторизации: неверный логин или пароль")]
        )
        self._json(401, envelope, {"WWW-Authenticate": 'Basic realm="ws"'})
        return False

    def _armtek_assortment(self, form: dict[str, str]) -> None:
        if not self._armtek_auth():
            return
        if not form.get("VKORG"):
            return self._json(200, armtek_envelope(400, [], [("E", "Не указан параметр VKORG")]))
        rows = [
            {"PIN": p.number, "BRAND": p.brand_armtek, "NAME": p.name}
            for p in self.server.catalogue.brands(form.get("PIN", ""))
        ]
        self._json(200, armtek_envelope(200, {"ARRAY": rows}, []))

    def _armtek_search(self, form: dict[str, str]) -> None:
        if not self._armtek_auth():
            return
        if self.server.armtek_quota_spent():
            quota = self.server.config.armtek_daily_quota
            text = f"Превышен лимит запросов к сервису поиска: {quota} в сутки"
            return self._json(200, armtek_envelope(400, [], [("A", text)]))
        for name in ("VKORG", "KUNNR_RG", "PIN"):
            if not form.get(name):
                return self._json(
                    200, armtek_envelope(400, [], [("E", f"Не указан параметр {name}")])
                )
        catalogue = self.server.catalogue
        if form.get("BRAND"):
            part = catalogue.find(form["PIN"], form["BRAND"])
            parts = [part] if part else []
            with_analogues = form.get("QUERY_TYPE") == "2"
        else:  # no brand: every brand's own lines, no analogues (Armtek's rule)
            parts, with_analogues = catalogue.brands(form["PIN"]), False
        now = datetime.now(MOSCOW).replace(microsecond=0)
        rows = [
            armtek_offer(offer, now, requested=parts[0] if len(parts) == 1 else None)
            for part in parts
            for offer in catalogue.offers(part, with_analogues=with_analogues)
        ]
        self._json(200, armtek_envelope(200, {"ARRAY": rows}, []))

    # --- misc -----------------------------------------------------------------------------

    def _info(self) -> dict:
        catalogue = self.server.catalogue
        return {
            "STATUS": 200,
            "name": self.server.config.name,
            "seed": catalogue.seed,
            "numbers": len(catalogue.oem_numbers),
            "parts": len(catalogue.parts),
            "offers": len(catalogue.all_offers),
        }

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False, default=json_default).encode()
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (its deadline): nothing to tell it


@dataclass
class DemoSupplierHandle:
    """A running demo supplier. `stop()` ends it, hanging requests included."""

    url: str
    port: int
    config: DemoConfig
    catalogue: DemoCatalogue
    _server: DemoServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def abcp_credentials(self) -> dict[str, str]:
        return {"login": self.config.login, "password": self.config.password}

    @property
    def rossko_credentials(self) -> dict[str, str]:
        """KEY1 and KEY2 (the demo's login and password) and the demo account's pick-up."""
        return {
            "login": self.config.login,
            "password": self.config.password,
            "delivery_id": "000000001",
            "payment_id": "1",
        }

    @property
    def armtek_credentials(self) -> dict[str, str]:
        return {
            "login": self.config.login,
            "password": self.config.password,
            "VKORG": "4000",
            "KUNNR_RG": "43000001",
        }

    @property
    def orders(self) -> demo_orders.OrderBook:
        """The orders this supplier has booked (and how many order calls it got)."""
        return demo_orders.order_book(self._server)

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoSupplierHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(**config: Any) -> DemoSupplierHandle:
    """Start a demo supplier on 127.0.0.1 in a background thread (port 0 = a free port).

    Keys: port, seed, name, latency_ms ("MIN:MAX" or (min, max)), hang, error_rate,
    garbage_rate, login, password, verbose, order_stage_s, order_reject_rate,
    order_hang_first, abcp_error_code, armtek_daily_quota.
    """
    settings = DemoConfig(**config)
    server = DemoServer(settings, DemoCatalogue(settings.seed))
    port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"demo-supplier-{port}",
        daemon=True,
    )
    thread.start()
    return DemoSupplierHandle(
        url=f"http://{HOST}:{port}",
        port=port,
        config=settings,
        catalogue=server.catalogue,
        _server=server,
        _thread=thread,
    )
