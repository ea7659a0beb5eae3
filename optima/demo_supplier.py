"""The demo parts supplier: a real HTTP service speaking ABCP and Armtek on one loopback port.

The product's demo data, the tests and the benchmarks search it over HTTP exactly as they would
search a real supplier; the adapters do not know it is a demo. Each instance generates its own
catalogue from a seed (same seed → same parts, prices, stock and delivery), and can be made slow,
hanging, failing or garbled to show how the search behaves when a supplier misbehaves.

    python -m optima.demo_supplier --port 8701 --seed 1 --name "Автодеталь" --latency-ms 50:400

or, in tests and benchmarks, `start_in_thread(seed=1, latency_ms="50:400")`.

Endpoints (all on 127.0.0.1):
    GET  /search/brands?number=&userlogin=&userpsw=<md5>              ABCP
    GET  /search/articles?number=&brand=&withOutAnalogs=0|1&...        ABCP
    POST /ws_search/assortment_search?format=json   (HTTP Basic)       Armtek
    POST /ws_search/search?format=json              (HTTP Basic)       Armtek
    GET  /ws_ping/index, GET /                                         liveness, no auth
    GET  /pricelist.csv                                the catalogue as a price list, no auth

The part numbers below are DEMO DATA: plausible in format for each make, not verified against
any catalogue. Prices follow the 2025–2026 estimates of shared/reference/repair-data.md §4.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import math
import random
import re
import select
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
MOSCOW = timezone(timedelta(hours=3), "MSK")
MAX_BODY_BYTES = 64 * 1024

# --- the catalogue's raw material ------------------------------------------------------------

# make → (ABCP spellings, one picked per instance; Armtek spelling; synonyms a request may use)
MAKES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "hyundai": (("Hyundai-KIA", "MOBIS", "Hyundai/Kia"), "HYUNDAI/KIA", ("HYUNDAI", "KIA")),
    "vag": (("VAG", "VW"), "VAG", ("VOLKSWAGEN", "SKODA", "AUDI")),
    "lada": (("LADA", "ВАЗ"), "LADA", ("VAZ", "АВТОВАЗ")),
    "toyota": (("Toyota", "TOYOTA"), "TOYOTA", ("LEXUS",)),
    "renault": (("Renault", "RENAULT"), "RENAULT", ()),
    "haval": (("Haval", "GWM"), "HAVAL", ("GREAT WALL",)),
    "chery": (("Chery", "CHERY"), "CHERY", ()),
    "geely": (("Geely", "GEELY"), "GEELY", ()),
}

# One OEM number a line: make, model code (used in aftermarket numbers), number, category,
# original price from/to (RUB), cross group (numbers sharing one are interchangeable and share
# their analogues; "-" = none), name. DEMO DATA, see the module docstring.
_PARTS_TABLE = """
hyundai HN 86511-H5000      panel  22000 35000 -            Бампер передний Hyundai Solaris II
hyundai HN 66400-H5000      panel  35000 55000 -            Капот Hyundai Solaris II
hyundai HN 66311-H5000      panel  12000 20000 -            Крыло переднее левое Hyundai Solaris II
hyundai HN 66321-H5000      panel  12000 20000 -            Крыло переднее правое Hyundai Solaris II
hyundai HN 92101-H5000      light  35000 60000 -            Фара левая Hyundai Solaris II
hyundai HN 92102-H5000      light  35000 60000 -            Фара правая Hyundai Solaris II
hyundai HN 87610-H5010      mirror 15000 30000 mirror-hcr   Зеркало левое Hyundai Solaris II
hyundai HN 76003-H5000      panel  45000 70000 -            Дверь передняя левая Hyundai Solaris II
hyundai KI 86511-H0000      panel  22000 35000 -            Бампер передний Kia Rio IV
hyundai KI 66400-H0000      panel  35000 55000 -            Капот Kia Rio IV
hyundai KI 92101-H0000      light  35000 60000 -            Фара левая Kia Rio IV
hyundai KI 87610-H0010      mirror 15000 30000 mirror-hcr   Зеркало левое Kia Rio IV
hyundai KI 86350-H0000      panel   6000 12000 -            Решётка радиатора Kia Rio IV
hyundai HN 86593-2S000      clip      60   120 -            Клипса крепления бампера Hyundai/Kia
hyundai HN 86511-M0000      panel  25000 38000 -            Бампер передний Hyundai Creta
vag     VW 6RU807221        panel  25000 40000 -            Бампер передний VW Polo седан
vag     VW 6RU823031        panel  40000 60000 -            Капот VW Polo седан
vag     VW 6RU821021        panel  15000 25000 fender-polo  Крыло переднее левое VW Polo седан
vag     VW 6RU821022        panel  15000 25000 -            Крыло переднее правое VW Polo седан
vag     VW 6RU941015        light  25000 45000 -            Фара левая VW Polo седан
vag     VW 6RU941016        light  25000 45000 -            Фара правая VW Polo седан
vag     VW 6RU857507        mirror 15000 30000 -            Зеркало левое VW Polo седан
vag     SK 60U821021        panel  15000 25000 fender-polo  Крыло переднее левое Skoda Rapid
vag     VW N90796001        clip      40    90 -            Клипса крепления VAG
lada    LD 8450006950       panel  10000 15000 -            Бампер передний LADA Vesta
lada    LD 8450006968       panel  15000 22000 -            Капот LADA Vesta
lada    LD 8450006977       panel   5000  8000 -            Крыло переднее левое LADA Vesta
lada    LD 8450100952       light  13000 25000 -            Фара левая LADA Vesta
lada    LD 8450100953       light  13000 25000 -            Фара правая LADA Vesta
lada    LD 21900-2803015-00 panel   6000  9000 -            Бампер передний LADA Granta
lada    LD 21900-8402010-00 panel   9000 13000 -            Капот LADA Granta
lada    LD 8450030034       panel   6000  9000 fender-logan Крыло переднее левое LADA Largus
toyota  TY 52119-06B90      panel  30000 50000 -            Бампер передний Toyota Camry XV70
toyota  TY 53301-06200      panel  45000 70000 -            Капот Toyota Camry XV70
toyota  TY 81150-06F20      light  45000 90000 lamp-camry   Фара левая Toyota Camry XV70
toyota  TY 81150-06F21      light  45000 90000 lamp-camry   Фара левая Toyota Camry XV70 рестайлинг
toyota  TY 87940-33D20      mirror 20000 40000 -            Зеркало левое Toyota Camry XV70
renault RN 620221997R       panel  10000 16000 -            Бампер передний Renault Logan II
renault RN 631012004R       panel   6000 10000 fender-logan Крыло переднее левое Renault Logan
renault RN 260609285R       light  15000 28000 -            Фара левая Renault Duster
haval   HV 2803101XGW01A    panel  25000 40000 -            Бампер передний Haval Jolion
haval   HV 8402100XGW01A    panel  35000 55000 -            Капот Haval Jolion
haval   HV 4121100XGW01A    light  50000 90000 -            Фара левая Haval Jolion LED
chery   CH 602000553AA      panel  25000 38000 -            Бампер передний Chery Tiggo 7 Pro
geely   GL 6044025300       panel  25000 38000 -            Бампер передний Geely Coolray
"""


def _parse_parts(table: str) -> tuple[tuple[str, str, str, str, int, int, str | None, str], ...]:
    parts = []
    for line in table.strip().splitlines():
        make, model, number, category, low, high, cross, name = line.split(maxsplit=7)
        group = None if cross == "-" else cross
        parts.append((make, model, number, category, int(low), int(high), group, name))
    return tuple(parts)


DEMO_PARTS = _parse_parts(_PARTS_TABLE)


# brand → (tier, ABCP spelling, Armtek spelling, number pattern). Tiers after repair-data §4:
# "oe" = OE supplier under its own name, "eu" = European body aftermarket, "tw" = Taiwanese
# optics, "budget" = budget Taiwan/China. Patterns: {dN} N random digits, {m} the model code,
# {c:a|b} one of the choices.
ANALOGUE_BRANDS: dict[str, tuple[str, str, str, str]] = {
    "HELLA": ("oe", "Hella", "HELLA", "1EG {d3} {d3}-0{d2}"),
    "VALEO": ("oe", "Valeo", "VALEO", "0{d5}"),
    "MAGNETI MARELLI": ("oe", "Magneti Marelli", "MAGNETI MARELLI", "71{d8}"),
    "KLOKKERHOLM": ("eu", "Klokkerholm", "KLOKKERHOLM", "{d7}"),
    "VAN WEZEL": ("eu", "Van Wezel", "VAN WEZEL", "{d4}5{d2}"),
    "PRASCO": ("eu", "Prasco", "PRASCO", "{m}{d3}1{d3}"),
    "POLCAR": ("eu", "Polcar", "POLCAR", "{d4}{c:07|01|10|52}"),
    "BLIC": ("eu", "BLIC", "BLIC", "5510-00-{d7}P"),
    "FEBI BILSTEIN": ("eu", "Febi", "FEBI BILSTEIN", "{d5}"),
    "DEPO": ("tw", "Depo", "DEPO", "{d3}-1{d3}L-LD-EM"),
    "TYG": ("tw", "TYG", "TYG", "20-1{d4}-{d2}-2B"),
    "SAT": ("budget", "SAT", "SAT", "ST-{m}{d2}-{d3}-0"),
    "SIGNEDA": ("budget", "Signeda", "SIGNEDA", "P{m}{d5}"),
    "FPS": ("budget", "FPS", "FPS", "FP {d4} {d3}"),
}


def _fill(pattern: str, rng: random.Random, model: str) -> str:
    def token(match: re.Match) -> str:
        text = match.group(1)
        if text == "m":
            return model
        if text.startswith("c:"):
            return rng.choice(text[2:].split("|"))
        digits = int(text[1:])
        return str(rng.randint(10 ** (digits - 1), 10**digits - 1))

    return re.sub(r"\{([^}]+)\}", token, pattern)


CATEGORY_BRANDS: dict[str, tuple[str, ...]] = {
    "panel": ("KLOKKERHOLM", "VAN WEZEL", "PRASCO", "POLCAR", "BLIC", "SAT", "SIGNEDA", "FPS"),
    "light": ("HELLA", "VALEO", "MAGNETI MARELLI", "DEPO", "TYG", "POLCAR", "VAN WEZEL", "SAT"),
    "mirror": ("VAN WEZEL", "BLIC", "TYG", "KLOKKERHOLM", "SAT", "SIGNEDA"),
    "clip": ("FEBI BILSTEIN", "SAT", "FPS"),
}
# Price of an analogue as a share of the original, warranty months, per tier.
TIER_PRICE = {"oe": (0.65, 0.85), "eu": (0.35, 0.55), "tw": (0.30, 0.45), "budget": (0.20, 0.32)}
TIER_WARRANTY = {"original": (12,), "oe": (12,), "eu": (6, 12), "tw": (6, 12), "budget": (0, 6)}


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    hours_from: int
    hours_to: int
    kind: str  # "own" | "partner" | "order"


WAREHOUSES = (
    Warehouse("MSK1", "Москва, собственный склад", 0, 0, "own"),
    Warehouse("MSK2", "Москва, склад партнёра", 20, 30, "partner"),
    Warehouse("SPB", "Санкт-Петербург", 40, 72, "partner"),
    Warehouse("KZN", "Казань", 60, 96, "partner"),
    Warehouse("EKB", "Екатеринбург", 96, 144, "partner"),
    Warehouse("EU", "Под заказ, Европа", 240, 504, "order"),
)

# ABCP availability codes: "+", "++", "+++" and "on order"; Armtek shows the levels as ">N".
LEVELS = {-1: ">1", -2: ">10", -3: ">99"}
ON_ORDER = -10


@dataclass(frozen=True)
class DemoPart:
    id: int
    brand_abcp: str
    brand_armtek: str
    brand_keys: frozenset[str]
    number: str
    key: str
    name: str
    tier: str  # "original" or a key of TIER_PRICE
    group: str


@dataclass(frozen=True)
class DemoOffer:
    part: DemoPart
    warehouse: Warehouse
    price: Decimal
    stock: int  # ≥1 exact; −1/−2/−3 levels; −10 on order
    packing: int
    hours_min: int
    hours_max: int | None  # None: the supplier gives no maximum
    probability: int
    returnable: bool
    warranty_months: int
    item_key: str
    code: str
    artid: int


def demo_key(text: str) -> str:
    """The demo's own number key (kept apart from the adapters' code on purpose)."""
    return re.sub(r"[^A-Z0-9]", "", str(text).upper())


def _brand_key(text: str) -> str:
    return re.sub(r"[^0-9A-ZА-ЯЁ]", "", str(text).upper())


class DemoCatalogue:
    """Parts and offers of one demo supplier, all drawn from `seed`."""

    def __init__(self, seed: int):
        self.seed = seed
        rng = random.Random(f"optima-demo-catalogue-{seed}")
        self.warehouses = (
            WAREHOUSES[0],
            *sorted(rng.sample(WAREHOUSES[1:5], 2), key=WAREHOUSES.index),
            WAREHOUSES[5],
        )
        self.parts: list[DemoPart] = []
        self.offers_by_part: dict[int, list[DemoOffer]] = {}
        self.oem_numbers: list[str] = [entry[2] for entry in DEMO_PARTS]
        spelling = {make: rng.choice(spellings) for make, (spellings, _, _) in MAKES.items()}
        groups: dict[str, tuple[str, str, int]] = {}  # group → (category, model code, price)
        taken: set[tuple[str, str]] = set()
        for make, model, number, category, low, high, cross, name in DEMO_PARTS:
            price = Decimal(rng.randint(low, high)).quantize(Decimal(1))
            if category != "clip":
                price = (price / 10).to_integral_value() * 10  # originals: whole tens of roubles
            _, armtek_brand, synonyms = MAKES[make]
            keys = {_brand_key(s) for s in (*MAKES[make][0], armtek_brand, *synonyms)}
            group = cross or number
            part = self._add_part(
                spelling[make], armtek_brand, frozenset(keys), number, name, "original", group
            )
            taken.add((part.brand_armtek, part.key))
            self._add_offers(rng, part, price, category)
            groups.setdefault(group, (category, model, int(price)))
        for group, (category, model, original_price) in groups.items():
            base_name = next(p.name for p in self.parts if p.group == group)
            pool = CATEGORY_BRANDS[category]
            for brand in rng.sample(pool, rng.randint(1, min(5, len(pool)))):
                tier, abcp_brand, armtek_brand, pattern = ANALOGUE_BRANDS[brand]
                number = _fill(pattern, rng, model)
                while (armtek_brand, demo_key(number)) in taken:
                    number = _fill(pattern, rng, model)
                taken.add((armtek_brand, demo_key(number)))
                keys = frozenset({_brand_key(abcp_brand), _brand_key(armtek_brand)})
                part = self._add_part(
                    abcp_brand, armtek_brand, keys, number, base_name, tier, group
                )
                share = Decimal(str(round(rng.uniform(*TIER_PRICE[tier]), 3)))
                self._add_offers(rng, part, Decimal(original_price) * share, category)
        self.parts_by_key: dict[str, list[DemoPart]] = {}
        self.parts_by_group: dict[str, list[DemoPart]] = {}
        for part in self.parts:
            self.parts_by_key.setdefault(part.key, []).append(part)
            self.parts_by_group.setdefault(part.group, []).append(part)

    def _add_part(self, brand_abcp, brand_armtek, keys, number, name, tier, group) -> DemoPart:
        part = DemoPart(
            id=len(self.parts) + 1,
            brand_abcp=brand_abcp,
            brand_armtek=brand_armtek,
            brand_keys=keys,
            number=number,
            key=demo_key(number),
            name=name,
            tier=tier,
            group=group,
        )
        self.parts.append(part)
        return part

    def _add_offers(self, rng: random.Random, part: DemoPart, price: Decimal, category: str):
        count = rng.randint(1, 3)
        chosen = sorted(rng.sample(self.warehouses, count), key=self.warehouses.index)
        packing = rng.choice((5, 10)) if category == "clip" else 1
        offers = []
        for warehouse in chosen:
            if warehouse.kind == "own":
                stock = rng.randint(1, 8) if rng.random() < 0.7 else rng.choice((-1, -2))
                hours_min, hours_max, markup, probability = 0, 0, 0.0, 99
            elif warehouse.kind == "order":
                stock = ON_ORDER
                hours_min = rng.randint(warehouse.hours_from, warehouse.hours_from + 72)
                hours_max = warehouse.hours_to
                markup, probability = rng.uniform(-0.08, -0.03), rng.randint(60, 85)
            else:
                stock = rng.randint(1, 20) if rng.random() < 0.4 else rng.choice((-1, -2, -3))
                hours_min = rng.randint(
                    warehouse.hours_from, (warehouse.hours_from + warehouse.hours_to) // 2
                )
                hours_max = warehouse.hours_to if rng.random() < 0.8 else None
                markup, probability = rng.uniform(0.02, 0.06), rng.randint(88, 98)
            amount = (price * Decimal(str(round(1 + markup, 4)))).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            artid = 100000 + sum(len(o) for o in self.offers_by_part.values()) + len(offers)
            offers.append(
                DemoOffer(
                    part=part,
                    warehouse=warehouse,
                    price=max(amount, Decimal("1.00")),
                    stock=stock,
                    packing=packing,
                    hours_min=hours_min,
                    hours_max=hours_max,
                    probability=probability,
                    returnable=stock != ON_ORDER
                    and not (part.tier == "budget" and rng.random() < 0.3),
                    warranty_months=rng.choice(TIER_WARRANTY[part.tier]),
                    item_key=f"{rng.getrandbits(128):032x}",
                    code=f"DS{artid:07d}",
                    artid=artid,
                )
            )
        self.offers_by_part[part.id] = offers

    # --- lookups ----------------------------------------------------------------------

    def brands(self, number: str) -> list[DemoPart]:
        return list(self.parts_by_key.get(demo_key(number), ()))

    def find(self, number: str, brand: str) -> DemoPart | None:
        wanted = _brand_key(brand)
        return next((p for p in self.brands(number) if wanted in p.brand_keys), None)

    def offers(self, part: DemoPart, *, with_analogues: bool) -> list[DemoOffer]:
        parts = [part]
        if with_analogues:
            parts += [p for p in self.parts_by_group[part.group] if p is not part]
        return [offer for p in parts for offer in self.offers_by_part[p.id]]

    @property
    def all_offers(self) -> list[DemoOffer]:
        return [offer for offers in self.offers_by_part.values() for offer in offers]


# --- configuration -------------------------------------------------------------------------


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

    def __post_init__(self) -> None:
        latency = _parse_latency(self.latency_ms)
        object.__setattr__(self, "latency_ms", latency)
        for rate in (self.error_rate, self.garbage_rate):
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError("Доля ошибок задаётся числом от 0.0 до 1.0")
        if not 0 <= int(self.port) <= 65535:
            raise ValueError("Порт задаётся числом от 0 до 65535")


def _parse_latency(value: Any) -> tuple[int, int]:
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


class _Server(ThreadingHTTPServer):
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
        super().__init__((HOST, config.port), _Handler)

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
    server: _Server
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
        if method == "POST":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                return self._send(413, b"bad or too large body", "text/plain")
            body = self.rfile.read(length).decode("utf-8", "replace")
            form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        routes = {
            ("GET", "/search/brands"): ("abcp", self._abcp_brands),
            ("GET", "/search/articles"): ("abcp", self._abcp_articles),
            ("POST", "/ws_search/assortment_search"): ("armtek", self._armtek_assortment),
            ("POST", "/ws_search/search"): ("armtek", self._armtek_search),
        }
        if (method, path) in routes:
            protocol, route = routes[(method, path)]
        elif path == "/ws_ping/index" or path == "/":
            return self._json(200, self._info())
        elif path == "/pricelist.csv":
            return self._send(200, self._pricelist(), "text/csv; charset=utf-8")
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
            return self._send(200, GARBAGE[protocol][variant % len(GARBAGE[protocol])])
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
        self._json(200, self._abcp_list([_abcp_offer(o) for o in offers]))

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
        envelope = _envelope(401, [], [("E", "Ошибка авторизации: неверный логин или пароль")])
        self._json(401, envelope, {"WWW-Authenticate": 'Basic realm="ws"'})
        return False

    def _armtek_assortment(self, form: dict[str, str]) -> None:
        if not self._armtek_auth():
            return
        if not form.get("VKORG"):
            return self._json(200, _envelope(400, [], [("E", "Не указан параметр VKORG")]))
        rows = [
            {"PIN": p.number, "BRAND": p.brand_armtek, "NAME": p.name}
            for p in self.server.catalogue.brands(form.get("PIN", ""))
        ]
        self._json(200, _envelope(200, rows, [] if rows else [("I", "Ничего не найдено")]))

    def _armtek_search(self, form: dict[str, str]) -> None:
        if not self._armtek_auth():
            return
        for name in ("VKORG", "KUNNR_RG", "PIN"):
            if not form.get(name):
                return self._json(200, _envelope(400, [], [("E", f"Не указан параметр {name}")]))
        catalogue = self.server.catalogue
        if form.get("BRAND"):
            part = catalogue.find(form["PIN"], form["BRAND"])
            parts = [part] if part else []
            with_analogues = form.get("QUERY_TYPE") == "2"
        else:  # no brand: every brand's own lines, no analogues (Armtek's rule)
            parts, with_analogues = catalogue.brands(form["PIN"]), False
        now = datetime.now(MOSCOW).replace(microsecond=0)
        rows = [
            _armtek_offer(offer, now, requested=parts[0] if len(parts) == 1 else None)
            for part in parts
            for offer in catalogue.offers(part, with_analogues=with_analogues)
        ]
        self._json(200, _envelope(200, rows, [] if rows else [("I", "Ничего не найдено")]))

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

    def _pricelist(self) -> bytes:
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
        for offer in self.server.catalogue.all_offers:
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

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False, default=_json_default).encode()
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


def _abcp_offer(offer: DemoOffer) -> dict:
    part = offer.part
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
        "deadlineReplace": "",
        "distributorId": 1000 + WAREHOUSES.index(offer.warehouse),
        "distributorCode": offer.warehouse.code,
        "supplierCode": offer.warehouse.code,
        "supplierDescription": offer.warehouse.name,
        "supplierColor": "#2e7d32" if offer.warehouse.kind == "own" else "#1565c0",
        "itemKey": offer.item_key,
        "code": offer.code,
        "deliveryProbability": offer.probability,
        "weight": 1.5,
        "noReturn": not offer.returnable,
        "isUsed": False,
        "nonliquid": False,
        "meta": {"productId": offer.part.id, "wearout": 0},
    }


def _armtek_offer(offer: DemoOffer, now: datetime, requested: DemoPart | None) -> dict:
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
        "MINBM": str(offer.packing),
        "VENSL": f"{offer.probability}.00",
        "PRICE": f"{offer.price:.2f}",
        "WAERS": "RUB",
        "DLVDT": (now + timedelta(hours=offer.hours_min)).strftime("%Y%m%d%H%M%S"),
        "WRNTDT": (now + timedelta(hours=hours_max)).strftime("%Y%m%d%H%M%S"),
        "ANALOG": "X" if requested is not None and offer.part is not requested else "",
    }


def _envelope(status: int, resp: Any, messages: list[tuple[str, str]]) -> dict:
    date = datetime.now(MOSCOW).strftime("%Y%m%d%H%M%S")
    return {
        "STATUS": status,
        "MESSAGES": [{"TYPE": kind, "TEXT": text, "DATE": date} for kind, text in messages],
        "RESP": resp,
    }


def _json_default(value: Any) -> Any:
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


# --- running it --------------------------------------------------------------------------------


@dataclass
class DemoSupplierHandle:
    """A running demo supplier. `stop()` ends it, hanging requests included."""

    url: str
    port: int
    config: DemoConfig
    catalogue: DemoCatalogue
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def abcp_credentials(self) -> dict[str, str]:
        return {"login": self.config.login, "password": self.config.password}

    @property
    def armtek_credentials(self) -> dict[str, str]:
        return {
            "login": self.config.login,
            "password": self.config.password,
            "VKORG": "4000",
            "KUNNR_RG": "43000001",
        }

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
    garbage_rate, login, password, verbose.
    """
    settings = DemoConfig(**config)
    server = _Server(settings, DemoCatalogue(settings.seed))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m optima.demo_supplier",
        description="Демо-поставщик запчастей: ABCP и Armtek на одном порту 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="порт (0 — любой свободный)")
    parser.add_argument("--seed", type=int, default=1, help="зерно каталога")
    parser.add_argument("--name", default="Демо-поставщик")
    parser.add_argument("--latency-ms", default="0:0", help="задержка ответа MIN:MAX, мс")
    parser.add_argument("--hang", action="store_true", help="принимать запросы и не отвечать")
    parser.add_argument("--error-rate", type=float, default=0.0, help="доля ответов HTTP 500")
    parser.add_argument("--garbage-rate", type=float, default=0.0, help="доля испорченных ответов")
    parser.add_argument("--login", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--verbose", action="store_true", help="печатать запросы")
    args = parser.parse_args(argv)
    try:
        handle = start_in_thread(
            port=args.port,
            seed=args.seed,
            name=args.name,
            latency_ms=args.latency_ms,
            hang=args.hang,
            error_rate=args.error_rate,
            garbage_rate=args.garbage_rate,
            login=args.login,
            password=args.password,
            verbose=args.verbose,
        )
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    catalogue = handle.catalogue
    print(
        f"{args.name} (seed {args.seed}): {handle.url} — номеров {len(catalogue.oem_numbers)}, "
        f"деталей {len(catalogue.parts)}, предложений {len(catalogue.all_offers)}",
        flush=True,
    )
    done.wait()
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
