"""ABCP platform adapter (one API host per parts shop): search/brands, then search/articles.

Field meanings are from `shared/reference/supplier-apis.md` §1. The password travels as its
MD5 in the query string, so URLs are masked before they reach a log.
"""

from __future__ import annotations

import hashlib
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
    hours_to_days,
    register,
)
from .offer import Offer, canonical_brand, normalize_number, quality_for_brand

# ABCP availability codes below zero: imprecise levels "+", "++", "+++" and "on order".
_LEVEL_LOWER_BOUND = {-1: 1, -2: 10, -3: 99}
_ON_ORDER = -10

ERROR_NOT_FOUND = 301
ERROR_BAD_LOGIN = 102
ERROR_BLOCKED = 303


@register
class AbcpAdapter(SupplierAdapter):
    """credentials: {"login": "api@id12345", "password": "..."} (or "password_md5")."""

    kind = "abcp"
    max_brands = 3

    def _collect(self, run: SearchRun) -> None:
        brands = self._brands(run)
        if not brands:
            return
        requested = (canonical_brand(brands[0][0]), run.number_key)
        seen: set[tuple] = set()
        for brand_raw, number_key in brands:
            data = self._call(
                "search/articles",
                {
                    "number": number_key or run.number_key,
                    "brand": brand_raw,
                    "withOutAnalogs": 0 if run.with_analogues else 1,
                },
                run,
            )
            if data is None:  # 301: this brand has nothing after all
                continue
            rows = as_rows(data)
            if rows is None:
                raise SupplierProblem(
                    SearchState.ERROR, "Поставщик прислал список предложений в неожиданном виде"
                )
            for row in rows:
                run.rows_seen += 1
                offer = self._offer(row, requested, run)
                if offer is None:
                    run.skipped_rows += 1
                    continue
                identity = (
                    offer.brand,
                    offer.number_key,
                    offer.warehouse_id,
                    offer.order_ref.get("itemKey"),
                    offer.price_rub,
                )
                if identity not in seen:  # the same line comes back under each brand asked
                    seen.add(identity)
                    run.add(offer)

    def _brands(self, run: SearchRun) -> list[tuple[str, str]]:
        data = self._call("search/brands", {"number": run.number_key}, run)
        if data is None:
            return []
        rows = as_rows(data)
        if rows is None:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал список брендов в неожиданном виде"
            )
        brands: list[tuple[str, str]] = []
        canonical_seen: set[str] = set()
        for row in rows:
            if not isinstance(row, dict):
                continue
            brand = " ".join(str(row.get("brand") or "").split())
            key = normalize_number(row.get("numberFix") or row.get("number"))
            if not brand or canonical_brand(brand) in canonical_seen:
                continue
            canonical_seen.add(canonical_brand(brand))
            brands.append((brand, key))
        if rows and not brands:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал список брендов, который не удалось прочитать"
            )
        # The brand whose number is exactly the one asked for goes first (a stable sort keeps
        # the supplier's order otherwise); a few brands are enough — each costs a round trip.
        brands.sort(key=lambda brand: brand[1] != run.number_key)
        return brands[: self.max_brands]

    def _call(self, method: str, params: dict[str, Any], run: SearchRun) -> Any:
        """GET one ABCP method; None when ABCP says "no results" (errorCode 301)."""
        login = str(self.credentials.get("login") or "")
        password_md5 = self._password_md5()
        if not login or not password_md5:
            raise SupplierProblem(
                SearchState.AUTH_ERROR,
                "Не заданы логин и пароль ABCP: укажите их в настройках поставщика",
            )
        query = urlencode({**params, "userlogin": login, "userpsw": password_md5})
        url = f"{self.base_url}/{method}?{query}"
        reply = self._http("GET", url, run=run, headers={"Accept": "application/json"})
        if reply.status == 200:
            data = self._json(reply)
        else:
            data = self._error_body(reply)
        if isinstance(data, dict) and "errorCode" in data:
            return self._abcp_error(data, reply)
        if reply.status in (401, 403):
            raise _auth_problem()
        if reply.status != 200:
            raise self._server_error(reply, url)
        return data

    def _error_body(self, reply: HttpReply) -> Any:
        try:
            return self._json(reply)
        except SupplierProblem:
            return None

    def _abcp_error(self, data: dict, reply: HttpReply) -> None:
        code = as_int(data.get("errorCode"))
        if code == ERROR_NOT_FOUND:
            return None
        if code == ERROR_BAD_LOGIN:
            raise _auth_problem()
        if code == ERROR_BLOCKED:
            raise SupplierProblem(
                SearchState.ERROR,
                "ABCP заблокировал доступ к API (код 303): обратитесь к поставщику",
            )
        text = self._supplier_text(data.get("errorMessage"))
        raise SupplierProblem(
            SearchState.ERROR,
            f"Поставщик ответил ошибкой {code if code is not None else '?'}"
            f" (HTTP {reply.status}){': ' + text if text else ''}",
        )

    def _offer(self, row: Any, requested: tuple[str, str], run: SearchRun) -> Offer | None:
        if not isinstance(row, dict):
            return None
        try:
            brand_raw = " ".join(str(row.get("brand") or "").split())
            number_raw = str(row.get("number") or row.get("numberFix") or "").strip()
            number_key = normalize_number(number_raw)
            brand = canonical_brand(brand_raw)
            if not brand:
                return None
            qty, qty_min, on_order = _stock(as_int(row.get("availability")))
            hours_min = as_int(row.get("deliveryPeriod"), 0)
            hours_max = as_int(row.get("deliveryPeriodMax"))
            if hours_min is None or hours_min < 0:
                return None
            days_min = hours_to_days(hours_min)
            days_max = days_min if hours_max is None else max(days_min, hours_to_days(hours_max))
            probability = as_int(row.get("deliveryProbability"))
            no_return = row.get("noReturn")
            order_ref = {
                "brand": brand_raw,
                "number": number_raw,
                "supplierCode": str(row.get("supplierCode") or ""),
                "itemKey": str(row.get("itemKey") or ""),
            }
            if row.get("code"):
                order_ref["code"] = str(row["code"])
            return Offer(
                supplier=self.supplier_id,
                brand_raw=brand_raw,
                number_raw=number_raw,
                brand=brand,
                number_key=number_key,
                name=" ".join(str(row.get("description") or "").split()),
                is_cross=(brand, number_key) != requested,
                quality=quality_for_brand(brand),
                price_rub=money_parse(row.get("price")),
                currency_raw="RUB",  # ABCP prices are in the shop's site currency
                qty=qty,
                qty_min=qty_min,
                qty_on_order=on_order,
                multiple=max(1, as_int(row.get("packing"), 1) or 1),
                delivery_days_min=days_min,
                delivery_days_max=days_max,
                # 0 means "unknown" in ABCP
                delivery_probability=min(100, probability) if probability else None,
                warehouse_id=order_ref["supplierCode"],
                warehouse_name=" ".join(str(row.get("supplierDescription") or "").split()),
                # One public client reads 0 hours as the shop's own stock; nothing says "partner".
                own_stock=True if hours_min == 0 else None,
                returnable=None if no_return in (None, "") else not _truthy(no_return),
                warranty_months=None,  # ABCP search does not carry a warranty
                order_ref=order_ref,
                fetched_at=run.fetched_at,
            )
        except (ValueError, TypeError, ArithmeticError):
            return None

    def _password_md5(self) -> str:
        if self.credentials.get("password_md5"):
            return str(self.credentials["password_md5"]).lower()
        password = self.credentials.get("password")
        if not password:
            return ""
        return hashlib.md5(str(password).encode(), usedforsecurity=False).hexdigest()

    def _secrets(self) -> list[str]:
        md5 = self._password_md5()
        return [*super()._secrets(), *([md5] if md5 else [])]


def _stock(availability: int | None) -> tuple[int | None, int, bool]:
    """(qty, qty_min, on_order) from ABCP `availability`."""
    if availability is None:
        return None, 0, False
    if availability >= 0:
        return availability, availability, False
    if availability == _ON_ORDER:
        return None, 0, True
    return None, _LEVEL_LOWER_BOUND.get(availability, 0), False


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() not in ("0", "false", "no", "")


def _auth_problem() -> SupplierProblem:
    return SupplierProblem(
        SearchState.AUTH_ERROR,
        "Поставщик не принял логин или пароль ABCP: проверьте их в настройках поставщика",
    )
