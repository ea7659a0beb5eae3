"""Parts-Soft shop platform adapter: each parts shop built on Parts-Soft hosts the same API on
its own site. `get_brands_by_oem`, then `get_offers_by_oem_and_make_name` per brand.

GET `<shop site>/api/v1/search/<method>?...&api_key=<key>`; some shops answer only under
`/backend/price_items/api/v1/search/`, so a 404 on the first path tries the second once (and
the shop's `api_path` option can name it outright). Answers are `{"result": "ok", "data": [...]}`;
any other `result` is a failure with its text in `error`. Shapes and sources:
tests/optima/contracts/partssoft/ (README) and `shared/reference/supplier-apis.md` §9.

Delivery is given in days (`min_delivery_day`, `max_delivery_day`), the order lot in `min_qnt`,
the line's order key in `hash_key` (older shops: `system_hash`).

Ordering: the platform's basket (`POST /api/v1/baskets`, `/api/v1/baskets/order`) is the
shop account's one shared basket, and no public source documents the answer of its order list,
so an order could neither be kept apart from what the shop's staff put in the basket on the
site nor be found again after a timeout. This kind is search-only: the advisor orders on the
supplier's site (optima.ordering says so).

credentials: the key as `password` (the supplier's encrypted secret) or `api_key`; options
`api_path` (e.g. "/backend/price_items/api/v1/search") when the shop says so.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from autoservice.money import money_parse

from .base import (
    HttpReply,
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

API_PATHS = ("/api/v1/search", "/backend/price_items/api/v1/search")
_KEY_WORDS = re.compile(
    r"api_key|ключ|key|авториз|unauthori|forbidden|доступ запрещ|access denied", re.IGNORECASE
)
ORDER_REFUSAL = (
    "Parts-Soft не даёт заказать через API надёжно (одна общая корзина магазина): "
    "закажите на сайте поставщика"
)


@register
class PartsSoftAdapter(SupplierAdapter):
    kind = "partssoft"
    max_brands = 3

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        chosen = str(self.credentials.get("api_path") or "").strip()
        self._paths = ["/" + chosen.strip("/")] if chosen else list(API_PATHS)

    def _collect(self, run: SearchRun) -> None:
        brands = self._brands(run)
        if not brands:
            return
        requested = (canonical_brand(brands[0][0]), run.number_key)
        seen: set[tuple] = set()
        for brand_raw, number in brands[: self.max_brands]:
            rows = self._call(
                "get_offers_by_oem_and_make_name",
                {
                    "oem": number or run.number_key,
                    "make_name": brand_raw,
                    "without_cross": "false" if run.with_analogues else "true",
                },
                run,
            )
            run.take(
                rows,
                lambda row, requested=requested: self._offer(row, requested, run),
                seen,
                order_key="hash_key",
            )

    def _brands(self, run: SearchRun) -> list[tuple[str, str]]:
        rows = self._call("get_brands_by_oem", {"oem": run.number_key}, run)
        exact: list[tuple[str, str]] = []
        other: list[tuple[str, str]] = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            brand = " ".join(str(row.get("brand") or row.get("make_name") or "").split())
            number = str(row.get("number") or row.get("oem") or "").strip()
            if not brand or any(
                canonical_brand(b) == canonical_brand(brand) for b, _ in exact + other
            ):
                continue
            is_exact = not number or normalize_number(number) == run.number_key
            (exact if is_exact else other).append((brand, number))
        if rows and not exact + other:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал список брендов, который не удалось прочитать"
            )
        return exact + other

    def _call(self, method: str, params: dict[str, Any], run: SearchRun) -> list[Any]:
        key = str(self.credentials.get("api_key") or self.credentials.get("password") or "")
        if not key.strip():
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "Не задан API-ключ магазина на Parts-Soft: укажите его в настройках поставщика "
                "(личный кабинет на сайте поставщика)",
            )
        if not self.base_url:
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "Не задан адрес сайта поставщика на Parts-Soft: укажите его в настройках",
            )
        query = urlencode({**params, "api_key": key.strip()})
        while True:
            url = f"{self.base_url}{self._paths[0]}/{method}?{query}"
            reply = self._http("GET", url, run=run, headers={"Accept": "application/json"})
            if reply.status == 404 and len(self._paths) > 1:
                self._paths.pop(0)  # this shop answers under the other path
                continue
            break
        return self._rows(reply, url)

    def _rows(self, reply: HttpReply, url: str) -> list[Any]:
        try:
            data = self._json(reply)
        except SupplierProblem:
            if reply.status in (401, 403):
                raise _key_problem("") from None
            if reply.status != 200:
                raise self._server_error(reply, url) from None
            raise
        if isinstance(data, dict) and "result" in data and str(data["result"]) != "ok":
            text = self._supplier_text(
                data.get("error") or data.get("message") or data.get("errors")
            )
            if reply.status in (401, 403) or _KEY_WORDS.search(text):
                raise _key_problem(text)
            raise SupplierProblem(
                SearchState.ERROR,
                "Поставщик на Parts-Soft ответил ошибкой" + (f": {text}" if text else ""),
            )
        if reply.status in (401, 403):
            raise _key_problem("")
        if reply.status != 200:
            raise self._server_error(reply, url)
        payload = data.get("data") if isinstance(data, dict) else data
        if payload in (None, [], {}, ""):
            return []
        rows = as_rows(payload)
        if rows is None:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик на Parts-Soft прислал ответ без списка data"
            )
        return rows

    def _offer(self, row: Any, requested: tuple[str, str], run: SearchRun) -> Offer | None:
        if not isinstance(row, dict):
            return None
        try:
            brand_raw = " ".join(str(row.get("make_name") or "").split())
            number_raw = str(row.get("oem") or "").strip()
            brand, number_key = canonical_brand(brand_raw), normalize_number(number_raw)
            hash_key = str(row.get("hash_key") or row.get("system_hash") or "").strip()
            if not brand:
                return None
            qty, qty_min = stock_quantity(row.get("qnt"))
            days_min = _days(row.get("min_delivery_day"), default=0)
            days_max = max(days_min, _days(row.get("max_delivery_day"), default=days_min))
            lot = max(1, as_int(row.get("min_qnt"), 1) or 1)
            warehouse = " ".join(str(row.get("sup_logo") or "").split())
            order_ref = {"hash_key": hash_key, "oem": number_raw, "make_name": brand_raw}
            return Offer(
                supplier=self.supplier_id,
                brand_raw=brand_raw,
                number_raw=number_raw,
                brand=brand,
                number_key=number_key,
                name=" ".join(str(row.get("detail_name") or "").split()),
                is_cross=(brand, number_key) != requested,
                quality=quality_for_brand(brand),
                price_rub=money_parse(row.get("cost")),
                currency_raw="RUB",  # Parts-Soft shops price in their site currency
                qty=qty,
                qty_min=qty_min,
                qty_on_order=qty == 0,
                multiple=lot,
                delivery_days_min=days_min,
                delivery_days_max=days_max,
                delivery_probability=None,
                warehouse_id=warehouse,
                warehouse_name=warehouse,
                own_stock=None,
                returnable=None,
                warranty_months=None,
                order_ref=order_ref,
                fetched_at=run.fetched_at,
                min_qty=lot,
            )
        except (ValueError, TypeError, ArithmeticError):
            return None

    def _notes_label(self) -> str:
        return "Поставщик сообщает: "


def _days(value: Any, *, default: int) -> int:
    """Days sent as 3, "3" or "3.0"; empty → default; negative or text → refused row."""
    if value in (None, ""):
        return default
    days = as_int(str(value).strip().replace(",", "."))
    if days is None or days < 0:
        raise ValueError(f"days {value!r}")
    return days


def _key_problem(text: str) -> SupplierProblem:
    return SupplierProblem(
        SearchState.CONFIG_ERROR,
        "Поставщик на Parts-Soft не принял API-ключ"
        + (f" («{text}»)" if text else "")
        + ": проверьте ключ и адрес сайта в настройках поставщика",
    )
