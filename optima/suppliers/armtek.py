"""Armtek REST adapter (ws.armtek.ru): HTTP Basic, the {STATUS, MESSAGES, RESP} envelope.

With analogues: `ws_search/assortment_search` finds the brands of the number, then
`ws_search/search` with BRAND and QUERY_TYPE=2 per brand. Without: one `ws_search/search` with an
empty BRAND and QUERY_TYPE=1, as Armtek asks. Reference: `shared/reference/supplier-apis.md` §2;
the documented answer shapes the adapter is checked against are in
tests/optima/contracts/armtek/.

Both methods answer `RESP: {"ARRAY": [...]}` (API v1.1.7); a bare list in RESP (an older shape)
is read too. A message of type A (critical) or E (error) is the answer's failure — with an
empty RESP it is never "no stock"; W (warning) and I (information) are shown with the result.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from autoservice.money import money_parse

from .base import (
    SearchRun,
    SearchState,
    SupplierAdapter,
    SupplierProblem,
    as_int,
    as_rows,
    basic_auth_header,
    register,
)
from .offer import Offer, canonical_brand, normalize_number, quality_for_brand

# Moscow has kept UTC+3 all year since 2014; Armtek dates are Moscow wall-clock time.
MOSCOW = timezone(timedelta(hours=3), "MSK")
_AUTH_WORDS = re.compile(
    r"авториз|логин|парол|доступ запрещ|unauthori|authenti|password|login|access denied",
    re.IGNORECASE,
)
_LOWER_BOUND = re.compile(r"^(?:>|более|больше|от)\s*(\d+)$|^(\d+)\s*\+$", re.IGNORECASE)
# Armtek's answer once the account's daily request quota is spent (1000 a day by default).
_QUOTA_WORDS = re.compile(r"лимит|квот|превышен|limit|quota", re.IGNORECASE)
ERROR_TYPES = ("A", "E")
NOTE_TYPES = ("W", "I")


@register
class ArmtekAdapter(SupplierAdapter):
    """credentials: {"login", "password", "VKORG", "KUNNR_RG"} and optionally "KUNNR_ZA"
    (delivery address or pick-up point; some RU accounts answer nothing without it),
    "INCOTERMS" ("1" = pick-up, "0" = delivery), "warehouse_names" {KEYZAK: name} and
    "currency_rates" {"BYN": "29.1"} for accounts priced in another currency."""

    kind = "armtek"
    max_brands = 3

    def _collect(self, run: SearchRun) -> None:
        if run.with_analogues:
            brands = self._brands(run)
            if not brands:
                return
            requested_brand: str | None = canonical_brand(brands[0])
            queries = [(brand, 2) for brand in brands[: self.max_brands]]
        else:
            requested_brand = None
            queries = [("", 1)]
        seen: set[tuple] = set()
        for brand, query_type in queries:
            fields = {
                "VKORG": self._credential("VKORG"),
                "KUNNR_RG": self._credential("KUNNR_RG"),
                "PIN": run.number_key,
                "BRAND": brand,
                "QUERY_TYPE": query_type,
            }
            for name in ("KUNNR_ZA", "INCOTERMS"):
                if self._credential(name):
                    fields[name] = self._credential(name)
            for row in self._post("ws_search/search", fields, run):
                run.rows_seen += 1
                offer = self._offer(row, requested_brand, run)
                if offer is None:
                    run.skipped_rows += 1
                    continue
                identity = (offer.brand, offer.number_key, offer.warehouse_id, offer.price_rub)
                if identity not in seen:
                    seen.add(identity)
                    run.add(offer)

    def _brands(self, run: SearchRun) -> list[str]:
        rows = self._post(
            "ws_search/assortment_search",
            {"VKORG": self._credential("VKORG"), "PIN": run.number_key},
            run,
        )
        exact: list[str] = []
        other: list[str] = []
        for row in rows:
            if not isinstance(row, dict) or not str(row.get("BRAND") or "").strip():
                continue
            brand = " ".join(str(row["BRAND"]).split())
            if any(canonical_brand(b) == canonical_brand(brand) for b in exact + other):
                continue
            (exact if normalize_number(row.get("PIN")) == run.number_key else other).append(brand)
        if rows and not exact + other:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал список брендов, который не удалось прочитать"
            )
        return exact + other

    def _post(self, method: str, fields: dict[str, Any], run: SearchRun) -> list[Any]:
        """POST one Armtek method and return RESP as a list (empty when nothing was found)."""
        login, password = self._credential("login"), self._credential("password")
        if not (login and password and self._credential("VKORG")):
            raise SupplierProblem(
                SearchState.AUTH_ERROR,
                "Не заданы логин, пароль или VKORG Armtek: укажите их в настройках поставщика",
            )
        url = f"{self.base_url}/{method}?format=json"
        reply = self._http(
            "POST",
            url,
            run=run,
            body=urlencode(fields).encode(),
            headers={
                "Authorization": basic_auth_header(login, password),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        if reply.status in (401, 403):
            raise _auth_problem()
        try:
            envelope = self._json(reply)
        except SupplierProblem:
            if reply.status != 200:
                raise self._server_error(reply, url) from None
            raise
        if not isinstance(envelope, dict) or "STATUS" not in envelope:
            if reply.status != 200:
                raise self._server_error(reply, url)
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал ответ без конверта Armtek (STATUS/RESP)"
            )
        errors, notes = [], []
        for message in as_rows(envelope.get("MESSAGES") or []) or []:
            if not isinstance(message, dict):
                continue
            kind = str(message.get("TYPE", "")).strip().upper()
            text = self._supplier_text(message.get("TEXT"))
            if kind in ERROR_TYPES and text:
                errors.append(text)
            elif kind in NOTE_TYPES and text:
                notes.append(text)
        status = as_int(envelope.get("STATUS"))
        rows = self._rows(envelope.get("RESP"))
        for text in notes:
            run.note(text)
        if errors and not rows:
            if any(_QUOTA_WORDS.search(text) for text in errors):
                run.quota_spent = True
                raise SupplierProblem(
                    SearchState.QUOTA_SPENT,
                    "Armtek: дневной лимит запросов этого договора исчерпан — поиск у Armtek "
                    "возобновится завтра. Ответ Armtek: " + "; ".join(errors),
                )
            if status in (401, 403) or any(_AUTH_WORDS.search(text) for text in errors):
                raise _auth_problem()
            raise SupplierProblem(
                SearchState.ERROR, "Armtek сообщил об ошибке: " + "; ".join(errors)
            )
        for text in errors:  # an error next to real rows: show the rows and the error
            run.note(text)
        if status in (401, 403):
            raise _auth_problem()
        if status != 200 or reply.status != 200:
            raise SupplierProblem(
                SearchState.ERROR, f"Armtek ответил со статусом {status or reply.status}"
            )
        return rows

    def _notes_label(self) -> str:
        return "Armtek сообщает: "

    def _rows(self, resp: Any) -> list[Any]:
        """RESP as a list: {"ARRAY": [...]} (v1.1.7), a bare list (older), or empty."""
        if resp in (None, [], {}, ""):
            return []
        if isinstance(resp, dict) and "ARRAY" in resp:
            resp = resp["ARRAY"]
            if resp in (None, [], {}, ""):
                return []
        rows = as_rows(resp)
        if rows is None:
            raise SupplierProblem(
                SearchState.ERROR, "Поставщик прислал список предложений в неожиданном виде"
            )
        return rows

    def _offer(self, row: Any, requested_brand: str | None, run: SearchRun) -> Offer | None:
        if not isinstance(row, dict):
            return None
        try:
            brand_raw = " ".join(str(row.get("BRAND") or "").split())
            number_raw = str(row.get("PIN") or "").strip()
            brand, number_key = canonical_brand(brand_raw), normalize_number(number_raw)
            if not brand:
                return None
            currency = str(row.get("WAERS") or "RUB").strip().upper()
            price = money_parse(row.get("PRICE")) * self._rate(currency)
            qty, qty_min, on_order = _quantity(row.get("RVALUE"))
            now = datetime.now(MOSCOW)
            days_min = _days_until(row.get("DLVDT"), now)
            guaranteed = row.get("WRNTDT")
            days_max = max(days_min, _days_until(guaranteed, now)) if guaranteed else days_min
            probability = as_int(_round_text(row.get("VENSL")))
            return_days = as_int(row.get("RETDAYS"))
            keyzak = str(row.get("KEYZAK") or "")
            partner = " ".join(str(row.get("PARNR") or "").split())
            multiple = max(1, as_int(_round_text(row.get("RDPRF")), 1) or 1)
            min_qty = max(1, as_int(_round_text(row.get("MINBM")), 1) or 1)
            order_ref = {
                "PIN": number_raw,
                "BRAND": brand_raw,
                "KEYZAK": keyzak,
                "PRICE": str(row.get("PRICE")),
            }
            if row.get("ARTID"):
                order_ref["ARTID"] = str(row["ARTID"])
            if partner:
                order_ref["PARNR"] = partner
            warehouse_name = str((self.credentials.get("warehouse_names") or {}).get(keyzak, ""))
            return Offer(
                supplier=self.supplier_id,
                brand_raw=brand_raw,
                number_raw=number_raw,
                brand=brand,
                number_key=number_key,
                name=" ".join(str(row.get("NAME") or "").split()),
                is_cross=number_key != run.number_key
                or (requested_brand is not None and brand != requested_brand),
                quality=quality_for_brand(brand),
                price_rub=price,
                currency_raw=currency,
                qty=qty,
                qty_min=qty_min,
                qty_on_order=on_order,
                multiple=multiple,
                delivery_days_min=days_min,
                delivery_days_max=days_max,
                delivery_probability=min(100, probability) if probability else None,
                warehouse_id=keyzak,
                warehouse_name=warehouse_name,
                # PARNR: a partner's warehouse, not Armtek's own; its DLVDT/WRNTDT already
                # carry the partner's longer delivery.
                own_stock=False if partner else (True if "PARNR" in row else None),
                returnable=None if return_days is None else return_days > 0,
                warranty_months=None,  # WRNTDT is a guaranteed delivery date, not a warranty
                order_ref=order_ref,
                fetched_at=run.fetched_at,
                min_qty=min_qty,
            )
        except (ValueError, TypeError, ArithmeticError):
            return None

    def _rate(self, currency: str) -> Decimal:
        if currency in ("RUB", "RUR"):
            return Decimal(1)
        rate = (self.credentials.get("currency_rates") or {}).get(currency)
        if rate is None:
            raise ValueError(f"no rate for {currency}")
        return Decimal(str(rate))

    def _credential(self, name: str) -> str:
        for key in (name, name.lower(), name.upper()):
            if self.credentials.get(key):
                return str(self.credentials[key])
        return ""


def _quantity(value: Any) -> tuple[int | None, int, bool]:
    """(qty, qty_min, on_order) from RVALUE: "7", ">10", "10+", "0"."""
    if value is None or str(value).strip() == "":
        return None, 0, False
    text = str(value).strip()
    exact = as_int(text)
    if exact is not None:
        if exact < 0:
            raise ValueError(f"RVALUE {text}")
        # Armtek lists an orderable line with an empty shelf: it arrives by DLVDT.
        return exact, exact, exact == 0
    match = _LOWER_BOUND.match(text)
    if not match:
        raise ValueError(f"RVALUE {text}")
    return None, int(match.group(1) or match.group(2)), False


def _days_until(value: Any, now: datetime) -> int:
    """Whole days from Moscow `now` to an Armtek YYYYMMDDHHMMSS date, rounded up, at least 0."""
    text = str(value or "").strip()
    if not re.fullmatch(r"\d{14}", text):
        raise ValueError(f"date {text!r}")
    moment = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=MOSCOW)
    return max(0, math.ceil((moment - now).total_seconds() / 86400))


def _round_text(value: Any) -> Any:
    """VENSL may come as "95.00": whole percent."""
    try:
        return round(Decimal(str(value).strip().replace(",", ".")))
    except (ArithmeticError, ValueError):
        return None


def _auth_problem() -> SupplierProblem:
    return SupplierProblem(
        SearchState.AUTH_ERROR,
        "Armtek не принял логин или пароль: проверьте их в настройках поставщика",
    )
