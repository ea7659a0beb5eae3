"""Autoeuro (АвтоЕвро) REST API v2 adapter: `search_brands`, then `search_items` per brand.

Every call is a POST with a JSON body to `https://api.autoeuro.ru/api/v2/json/<method>`, the
shop's API key in the `key` header (so the key never appears in a URL or a log line). Every
answer is `{META, DATA: [...]}` or `{META, ERROR: {code, message}}`. The shapes and their
sources are in tests/optima/contracts/autoeuro/ (README): the typed public clients
LX4777/autoeuro-api-client and LX4777/autoeuro-go-api-client, and the fact sheet
`shared/reference/supplier-apis.md` §4.

Odd values the documentation warns of: `price`, `cross` and `return` arrive as strings although
the documentation types them as numbers; delivery is a Moscow date and time
("2024-09-10 12:00"), not a number of days. `cross` is null for the part asked for; the
fact sheet (one client) reads "1" as the carmaker's supplier's part under its own brand.

credentials: the key as `password` (the supplier's encrypted secret) or `key`; options
`delivery_key` (how the shop receives the goods: Autoeuro's get_deliveries, required),
`payer_key` (who pays: get_payers, required to order), `with_offers` (true by default: other
sellers' offers too) and `currency_rates` {"USD": "92.5"} for lines priced in another currency.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from autoservice.money import money_parse

from .base import (
    SearchRun,
    SearchState,
    SupplierAdapter,
    SupplierProblem,
    as_int,
    as_rows,
    register,
    stock_quantity,
)
from .offer import Offer, canonical_brand, normalize_number, quality_for_brand

DEFAULT_BASE_URL = "https://api.autoeuro.ru/api/v2/json"
# Autoeuro dates are Moscow wall-clock time (its get_deliveries gives each point's shift from
# Moscow); Moscow has kept UTC+3 all year since 2014.
MOSCOW = timezone(timedelta(hours=3), "MSK")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
# "Not found" as the public client's test writes it (ERROR code 404): an empty answer.
ERROR_NOT_FOUND = 404
_KEY_WORDS = re.compile(
    r"ключ|key|авториз|unauthori|forbidden|доступ запрещ|access denied", re.IGNORECASE
)
_DELIVERY_WORDS = re.compile(r"delivery|доставк|получени", re.IGNORECASE)
# cross codes: null is the part asked for; "1" an original replacement (fact sheet §4, S).
CROSS_OE_REPLACEMENT = 1


def api_key(credentials: dict) -> str:
    return str(credentials.get("key") or credentials.get("password") or "").strip()


def api_base(base_url: str) -> str:
    return (base_url or DEFAULT_BASE_URL).rstrip("/")


def error_problem(error: Any, status: int, *, supplier_text) -> SupplierProblem | None:
    """The SupplierProblem for an Autoeuro `ERROR` object; None for "not found"."""
    error = error if isinstance(error, dict) else {"message": error}
    code = as_int(error.get("code"))
    text = supplier_text(error.get("message"))
    if code == ERROR_NOT_FOUND and not _KEY_WORDS.search(text):
        return None
    if code in (401, 403) or status in (401, 403) or _KEY_WORDS.search(text):
        return SupplierProblem(
            SearchState.CONFIG_ERROR,
            "Автоевро не принял API-ключ"
            + (f" («{text}»)" if text else "")
            + ": проверьте ключ в настройках поставщика (личный кабинет shop.autoeuro.ru, "
            "раздел «Настройки» → API)",
        )
    if _DELIVERY_WORDS.search(text):
        return SupplierProblem(
            SearchState.CONFIG_ERROR,
            f"Автоевро не принял способ получения (delivery_key): «{text}». Укажите ключ "
            "из списка способов доставки Автоевро в настройках поставщика",
        )
    label = f" {code}" if code is not None else ""
    return SupplierProblem(
        SearchState.ERROR, f"Автоевро ответил ошибкой{label}" + (f": {text}" if text else "")
    )


@register
class AutoeuroAdapter(SupplierAdapter):
    kind = "autoeuro"
    max_brands = 3

    def _collect(self, run: SearchRun) -> None:
        delivery_key = str(self.credentials.get("delivery_key") or "").strip()
        if not delivery_key:
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "Для Автоевро не указан способ получения (delivery_key): укажите его в "
                "настройках поставщика",
            )
        brands = self._brands(run)
        if not brands:
            return
        requested = (canonical_brand(brands[0][0]), run.number_key)
        seen: set[tuple] = set()
        for brand_raw, code in brands[: self.max_brands]:
            rows = self._call(
                "search_items",
                {
                    "brand": brand_raw,
                    "code": code or run.number_key,
                    "delivery_key": delivery_key,
                    "with_crosses": 1 if run.with_analogues else 0,
                    "with_offers": 1 if _on(self.credentials.get("with_offers")) else 0,
                },
                run,
            )
            run.take(
                rows,
                lambda row, requested=requested: self._offer(row, requested, run),
                seen,
                order_key="offer_key",
            )

    def _brands(self, run: SearchRun) -> list[tuple[str, str]]:
        rows = self._call("search_brands", {"code": run.number_key}, run)
        exact: list[tuple[str, str]] = []
        other: list[tuple[str, str]] = []
        for row in rows:
            if not isinstance(row, dict) or not str(row.get("brand") or "").strip():
                continue
            brand = " ".join(str(row["brand"]).split())
            code = str(row.get("code") or "").strip()
            if any(canonical_brand(b) == canonical_brand(brand) for b, _ in exact + other):
                continue
            is_exact = not code or normalize_number(code) == run.number_key
            (exact if is_exact else other).append((brand, code))
        if rows and not exact + other:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал список брендов, который не удалось прочитать"
            )
        return exact + other

    def _call(self, method: str, fields: dict[str, Any], run: SearchRun) -> list[Any]:
        key = api_key(self.credentials)
        if not key:
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "Не задан API-ключ Автоевро: укажите его в настройках поставщика",
            )
        if not key.isascii() or not key.isprintable():
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "API-ключ Автоевро содержит недопустимые символы (кириллица, пробелы внутри): "
                "скопируйте его из личного кабинета shop.autoeuro.ru заново",
            )
        url = f"{api_base(self.base_url)}/{method}"
        reply = self._http(
            "POST",
            url,
            run=run,
            body=json.dumps(fields, ensure_ascii=False).encode(),
            headers={
                "key": key,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            data = self._json(reply)
        except SupplierProblem:
            if reply.status in (401, 403):
                raise error_problem({}, reply.status, supplier_text=self._supplier_text) from None
            if reply.status != 200:
                raise self._server_error(reply, url) from None
            raise
        if isinstance(data, dict) and data.get("ERROR"):
            problem = error_problem(data["ERROR"], reply.status, supplier_text=self._supplier_text)
            if problem is None:
                return []
            raise problem
        if reply.status in (401, 403):
            raise error_problem({}, reply.status, supplier_text=self._supplier_text)
        if reply.status != 200:
            raise self._server_error(reply, url)
        rows = as_rows(data.get("DATA")) if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("DATA") in (None, {}, ""):
            return []
        if rows is None:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал ответ Автоевро без списка DATA"
            )
        return rows

    def _offer(self, row: Any, requested: tuple[str, str], run: SearchRun) -> Offer | None:
        if not isinstance(row, dict):
            return None
        try:
            brand_raw = " ".join(str(row.get("brand") or "").split())
            number_raw = str(row.get("code") or "").strip()
            brand, number_key = canonical_brand(brand_raw), normalize_number(number_raw)
            if not brand or not str(row.get("offer_key") or "").strip():
                return None
            currency = str(row.get("currency") or "RUB").strip().upper()
            price = money_parse(row.get("price")) * self._rate(currency)
            qty, qty_min = stock_quantity(row.get("amount"))
            now = datetime.now(MOSCOW)
            days_min = days_until(row.get("delivery_time"), now)
            latest = row.get("delivery_time_max")
            days_max = max(days_min, days_until(latest, now)) if latest else days_min
            cross = as_int(row.get("cross"))
            is_cross = cross is not None or (brand, number_key) != requested
            quality = quality_for_brand(brand)
            if cross == CROSS_OE_REPLACEMENT and quality == "aftermarket":
                quality = "oe_replacement"
            returnable = row.get("return")
            order_ref = {
                "offer_key": str(row["offer_key"]),
                "brand": brand_raw,
                "code": number_raw,
                "price": str(row.get("price")),
            }
            if row.get("order_before"):
                order_ref["order_before"] = str(row["order_before"])
            return Offer(
                supplier=self.supplier_id,
                brand_raw=brand_raw,
                number_raw=number_raw,
                brand=brand,
                number_key=number_key,
                name=" ".join(str(row.get("name") or "").split()),
                is_cross=is_cross,
                quality=quality,
                price_rub=price,
                currency_raw=currency,
                qty=qty,
                qty_min=qty_min,
                qty_on_order=qty == 0,
                multiple=max(1, as_int(row.get("packing"), 1) or 1),
                delivery_days_min=days_min,
                delivery_days_max=days_max,
                # `rejects` is documented only as a float: its meaning (a share of refusals?)
                # is not, so it is not turned into a probability.
                delivery_probability=None,
                warehouse_id=str(row.get("warehouse_key") or ""),
                warehouse_name=" ".join(str(row.get("warehouse_name") or "").split()),
                own_stock=None,
                returnable=None if returnable in (None, "") else as_int(returnable) == 1,
                warranty_months=None,
                order_ref=order_ref,
                fetched_at=run.fetched_at,
            )
        except (ValueError, TypeError, ArithmeticError):
            return None

    def _rate(self, currency: str) -> Decimal:
        if currency in ("RUB", "RUR", "РУБ", "РУБ."):
            return Decimal(1)
        rate = (self.credentials.get("currency_rates") or {}).get(currency)
        if rate is None:
            raise ValueError(f"no rate for {currency}")
        return Decimal(str(rate))

    def _notes_label(self) -> str:
        return "Автоевро сообщает: "


def days_until(value: Any, now: datetime) -> int:
    """Whole days from Moscow `now` to an Autoeuro date ("2024-09-10 12:00", with seconds, or
    a bare date = the start of that day), rounded up, at least 0."""
    text = str(value or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=MOSCOW)
        except ValueError:
            continue
        return max(0, math.ceil((moment - now).total_seconds() / 86400))
    raise ValueError(f"date {text!r}")


def _on(value: Any) -> bool:
    if value is None or value == "":
        return True
    return str(value).strip().lower() not in ("0", "false", "no", "off", "none")
