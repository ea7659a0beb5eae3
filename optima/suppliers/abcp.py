"""ABCP platform adapter (one API host per parts shop): search/brands, then search/articles;
search/batch for known (brand, number) pairs.

Field meanings are from `shared/reference/supplier-apis.md` §1; the documented answer shapes
the adapter is checked against are in tests/optima/contracts/abcp/. The password travels as
its MD5 in the query string, so URLs are masked before they reach a log.

Options (the supplier's `options` JSON, passed with the credentials):
    use_online_stocks  true by default: ask the supplier's online warehouses too
                       (useOnlineStocks=1; slower, but without it whole warehouses are missing)
    batch              true when the supplier allows search/batch (many numbers in one call)
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from autoservice.money import money_parse

from .base import (
    HttpReply,
    SearchResult,
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
# The calling address is not allowed / the site's own authentication failed: both are the
# shop's connection settings to fix with the supplier (abcp wiki API:Docs error table;
# miroslavkurb/da174-abcp-client ApiErrorDto.cs).
ERROR_ACCESS_DENIED = 103
ERROR_SITE_AUTH = 104
ERROR_BLOCKED = 303
BATCH_MAX_PAIRS = 100


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
                    **self._online_stocks(),
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
        data = self._call("search/brands", {"number": run.number_key, **self._online_stocks()}, run)
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

    def _online_stocks(self) -> dict[str, int]:
        return {"useOnlineStocks": 1 if _option_on(self.credentials, "use_online_stocks") else 0}

    @property
    def batch_allowed(self) -> bool:
        return _option_on(self.credentials, "batch", default=False)

    def _auth(self) -> dict[str, str]:
        login = str(self.credentials.get("login") or "")
        password_md5 = self._password_md5()
        if not login or not password_md5:
            raise SupplierProblem(
                SearchState.AUTH_ERROR,
                "Не заданы логин и пароль ABCP: укажите их в настройках поставщика",
            )
        return {"userlogin": login, "userpsw": password_md5}

    def _call(
        self, method: str, params: dict[str, Any], run: SearchRun, *, post: bool = False
    ) -> Any:
        """GET (or POST, form-encoded) one ABCP method; None when ABCP says "no results"
        (errorCode 301)."""
        fields = urlencode({**params, **self._auth()})
        if post:
            url = f"{self.base_url}/{method}"
            reply = self._http(
                "POST",
                url,
                run=run,
                body=fields.encode(),
                headers={
                    "Accept": "application/json",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        else:
            url = f"{self.base_url}/{method}?{fields}"
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
        if code == ERROR_ACCESS_DENIED:
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "ABCP: адрес сервера не разрешён у поставщика (код 103). Попросите поставщика "
                "открыть доступ к API для адреса нашего сервера",
            )
        if code == ERROR_SITE_AUTH:
            raise SupplierProblem(
                SearchState.CONFIG_ERROR,
                "ABCP: сайт поставщика не прошёл проверку доступа к API (код 104). Проверьте "
                "адрес API в настройках и уточните у поставщика, подключён ли API для сайта",
            )
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
            term_text = " ".join(str(row.get("deadlineReplace") or "").split())
            term = term_days(term_text)
            if term is not None:  # the supplier's own words replace the hours
                low, days_max = term
                days_min = min(days_min, days_max) if low is None else min(low, days_max)
            meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
            used = _truthy(row.get("isUsed")) or _truthy(meta.get("isUsed"))
            wear = as_int(_whole(meta.get("wearout")))
            if wear is not None and wear > 0:
                used = True
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
                condition="used"
                if used
                else ("clearance" if _truthy(row.get("nonliquid")) else "new"),
                wear_pct=min(100, max(0, wear)) if used and wear is not None else None,
                delivery_term_text=term_text[:60],
            )
        except (ValueError, TypeError, ArithmeticError):
            return None

    def search_batch(
        self, pairs: list[tuple[str, str]], *, deadline: float | None = None
    ) -> list[SearchResult]:
        """Offers for known (brand, number) pairs in one search/batch call (at most 100;
        the rest in further calls): no analogues and no online warehouses, as ABCP documents.
        One SearchResult per pair, in order; a failure of the call is every pair's state."""
        started = time.monotonic()
        results: list[SearchResult] = []
        for start in range(0, len(pairs), BATCH_MAX_PAIRS):
            chunk = pairs[start : start + BATCH_MAX_PAIRS]
            runs = [
                SearchRun(
                    number_raw=number,
                    number_key=normalize_number(number),
                    with_analogues=False,
                    started=started,
                    deadline=deadline if deadline is not None else started + self.timeout_s,
                    fetched_at=datetime.now(UTC),
                )
                for _brand, number in chunk
            ]
            fields: dict[str, Any] = {}
            for index, (brand, number) in enumerate(chunk):
                fields[f"search[{index}][number]"] = normalize_number(number)
                fields[f"search[{index}][brand]"] = brand
            try:
                data = self._call("search/batch", fields, runs[0], post=True)
                answers = as_rows(data) if data is not None else [[] for _ in chunk]
                if answers is None or len(answers) != len(chunk):
                    raise SupplierProblem(
                        SearchState.ERROR,
                        "Поставщик прислал ответ на пакетный поиск в неожиданном виде",
                    )
            except SupplierProblem as problem:
                for run in runs:
                    results.append(self._result(run, problem.state, problem.message, started))
                results[-len(chunk)].requests = runs[0].requests
                continue
            for run, (brand, _number), answer in zip(runs, chunk, answers, strict=True):
                requested = (canonical_brand(brand), run.number_key)
                for row in as_rows(answer) or []:
                    run.rows_seen += 1
                    offer = self._offer(row, requested, run)
                    if offer is None:
                        run.skipped_rows += 1
                    else:
                        run.add(offer)
                state, message = self._final_state(run)
                results.append(self._result(run, state, message, started))
            results[-len(chunk)].requests = runs[0].requests
        return results

    def _result(
        self, run: SearchRun, state: SearchState, message: str, started: float
    ) -> SearchResult:
        return SearchResult(
            supplier=self.supplier_id,
            state=state,
            offers=run.offers,
            message=message,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            skipped_rows=run.skipped_rows,
        )

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
    if value is None:
        return False
    return str(value).strip().lower() not in ("0", "false", "no", "", "none", "null")


def _option_on(options: dict, name: str, *, default: bool = True) -> bool:
    value = options.get(name)
    if value is None or value == "":
        return default
    return _truthy(value)


def _whole(value: Any) -> Any:
    """A wear given as 35, "35", 35.0 or "35,5": whole percent (rounded half up)."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().replace(",", ".").rstrip("%").strip()
    try:
        return math.floor(float(text) + 0.5)
    except ValueError:
        return None


_TERM_NUMBERS = re.compile(r"\d+")
_WORKING = re.compile(r"раб", re.IGNORECASE)
_HOURS = re.compile(r"\d\s*(?:ч|час|h)", re.IGNORECASE)


def term_days(text: str) -> tuple[int | None, int] | None:
    """(min or None, max) calendar days from an ABCP deadlineReplace: "до 7 раб.дн." →
    (None, 10), "5-7 дн." → (5, 7), "3 дня" → (3, 3), "48 ч" → (2, 2). Working days count
    with their weekends (5 working days = 7 calendar days), rounded up. None when the text
    names no number (then the hours stand)."""
    numbers = [int(n) for n in _TERM_NUMBERS.findall(text or "")][:2]
    if not numbers or max(numbers) > 3650:
        return None
    if len(numbers) > 1:
        low: int | None = min(numbers)
        high = max(numbers)
    elif re.match(r"\s*до\b", text or "", re.IGNORECASE):
        low, high = None, numbers[0]  # "до 7": at most seven, from the hours on
    else:
        low = high = numbers[0]

    def days(value: int) -> int:
        if _HOURS.search(text):
            return math.ceil(value / 24)
        if _WORKING.search(text):
            return math.ceil(value * 7 / 5)
        return value

    return (None if low is None else days(low)), days(high)


def _auth_problem() -> SupplierProblem:
    return SupplierProblem(
        SearchState.AUTH_ERROR,
        "ABCP: логин или пароль не подходят (код 102): проверьте их в настройках поставщика",
    )
