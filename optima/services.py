"""Part searches across all of a shop's suppliers at once, and their results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import Membership, Shop
from autoservice.outbound import OutboundRefused, outbound_request
from leads.models import Lead

from .models import (
    CrossReference,
    KnownPrice,
    MarkupRule,
    PriceListRow,
    PricingSettings,
    Search,
    Supplier,
    SupplierAnswer,
    SupplierDiscount,
    SupplierKind,
    SupplierRequestCount,
)
from .suppliers import SearchResult, adapter_for
from .suppliers.offer import normalize_number

log = logging.getLogger(__name__)

MAX_NUMBERS = 50
CACHE_SECONDS = 300


class NumbersError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def numbers_parse(text: str) -> list[str]:
    """A pasted list (lines, commas, semicolons) as normalised OEM numbers, in order, once each.
    Raises NumbersError with a Russian message for an empty list, nonsense or too many."""
    raw = [part.strip() for part in re.split(r"[\n,;]+", text or "") if part.strip()]
    if not raw:
        raise NumbersError(_("Вставьте хотя бы один номер детали (OEM), по одному в строке."))
    if len(raw) > MAX_NUMBERS:
        raise NumbersError(
            _("Слишком много номеров сразу: %(n)s. Можно не больше %(max)s за один поиск.")
            % {"n": len(raw), "max": MAX_NUMBERS}
        )
    numbers, bad = [], []
    for item in raw:
        key = normalize_number(item)
        if not 3 <= len(key) <= 30 or not re.search(r"\d", key):
            bad.append(item)
        elif key not in numbers:
            numbers.append(key)
    if bad:
        raise NumbersError(
            _("Не похоже на номер детали: %(bad)s. Номер — от 3 до 30 букв и цифр.")
            % {"bad": ", ".join(bad[:5])}
        )
    return numbers


def pricing_settings(shop: Shop) -> PricingSettings:
    settings_row, _created = PricingSettings.objects.get_or_create(shop=shop)
    return settings_row


@transaction.atomic
def pricing_rules_save(
    *,
    shop: Shop,
    settings: PricingSettings,
    markups: Sequence[MarkupRule] = (),
    markups_removed: Sequence[MarkupRule] = (),
) -> PricingSettings:
    """The shop's pricing settings and its markup bands, saved together: new and changed
    bands become the shop's, removed ones go. Rows of another shop are refused."""
    if settings.shop_id != shop.pk:
        raise ValueError("pricing settings of another shop")
    if any(rule.pk is not None and rule.shop_id != shop.pk for rule in markups):
        raise ValueError("markup rule of another shop")
    settings.save()
    removed = [rule.pk for rule in markups_removed if rule.pk is not None]
    if removed:
        MarkupRule.objects.filter(shop=shop, pk__in=removed).delete()
    for rule in markups:
        rule.shop = shop
        rule.save()
    return settings


class SupplierSecretRequired(ValueError):
    """The supplier's address or login changed and no password was entered with it: the
    stored one is not sent to a place it was not entered for."""

    def __init__(self, reason: str):
        if reason == "login":
            message = _(
                "Введите пароль ещё раз: логин изменился, старый пароль с ним не отправляется."
            )
        else:
            message = _(
                "Введите пароль ещё раз: адрес изменился, старый пароль туда не отправляется."
            )
        super().__init__(message)
        self.reason = reason
        self.message = message


@transaction.atomic
def supplier_save(
    *,
    shop: Shop,
    supplier: Supplier,
    secret: str | None = None,
    discounts: Sequence[SupplierDiscount] = (),
    discounts_removed: Sequence[SupplierDiscount] = (),
) -> Supplier:
    """Connect a new supplier to the shop or change one, with its discounts by brand or
    quality tier: new and changed discounts are kept, removed ones go.

    `secret` is the password or key the manager entered; None or empty keeps the stored one
    (for a supplier already saved, its `secret` attribute is not taken as entered). Keeping
    it while the API address or login changes raises SupplierSecretRequired: the old
    password is never sent to a new address."""
    if supplier.pk is not None and supplier.shop_id != shop.pk:
        raise ValueError("supplier of another shop")
    stored = (
        Supplier.objects.select_for_update().filter(pk=supplier.pk, shop=shop).first()
        if supplier.pk is not None
        else None
    )
    if secret:
        supplier.secret = secret
    elif stored is not None:
        reason = stored.secret_reentry_reason(base_url=supplier.base_url, login=supplier.login)
        if reason is not None:
            raise SupplierSecretRequired(reason)
        supplier.secret = stored.secret
    supplier.shop = shop
    supplier.save()
    if any(d.pk is not None and d.supplier_id != supplier.pk for d in discounts):
        raise ValueError("discount of another supplier")
    removed = [d.pk for d in discounts_removed if d.pk is not None]
    if removed:
        SupplierDiscount.objects.filter(supplier=supplier, pk__in=removed).delete()
    for discount in discounts:
        discount.supplier = supplier
        discount.save()
    return supplier


def supplier_credentials(supplier: Supplier) -> dict:
    """What the supplier's adapter needs to be asked: its login and options, or, for a
    price-list supplier, the rows of its loaded list (read once per search, not per number)."""
    if supplier.kind == SupplierKind.PRICELIST:
        return {
            "rows": list(
                PriceListRow.objects.filter(supplier=supplier).values(
                    "brand",
                    "number_raw",
                    "number_key",
                    "name",
                    "price_rub",
                    "qty",
                    "delivery_days",
                    "warehouse",
                    "warranty_months",
                )
            )
        }
    return {"login": supplier.login, "password": supplier.secret, **(supplier.options or {})}


class SupplierDetailsError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def supplier_rossko_details_load(*, supplier: Supplier) -> dict:
    """Ask Rossko which delivery types, addresses, payment types and companies this account
    may use (GetCheckoutDetails) and keep them in the supplier's options, where the settings
    form offers them as choices. SupplierDetailsError with a Russian message otherwise."""
    from .suppliers.rossko import CheckoutDetailsProblem, checkout_details

    if supplier.kind != SupplierKind.ROSSKO:
        raise SupplierDetailsError(_("Способы доставки загружаются только у поставщика Росско."))
    try:
        details = checkout_details(
            base_url=supplier.base_url,
            credentials=supplier_credentials(supplier),
            timeout_s=float(supplier.timeout_s),
        )
    except CheckoutDetailsProblem as problem:
        raise SupplierDetailsError(problem.message) from None
    choices = {
        "deliveries": [list(pair) for pair in details.deliveries],
        "addresses": [[i, label, list(allowed)] for i, label, allowed in details.addresses],
        "payments": [list(pair) for pair in details.payments],
        "companies": [list(pair) for pair in details.companies],
        "loaded_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        locked = Supplier.objects.select_for_update().get(pk=supplier.pk, shop=supplier.shop_id)
        locked.options = {**(locked.options or {}), "rossko_choices": choices}
        locked.save(update_fields=["options"])
    supplier.options = locked.options
    return choices


def _cache_key(supplier: Supplier, number: str) -> str:
    return f"optima:v1:{supplier.pk}:{number}"


def supplier_ask(
    *, supplier: Supplier, number: str, deadline: float, credentials: dict | None = None
) -> SearchResult:
    """One supplier's offers for one normalised number, with analogues, answered by the
    `deadline` (a time.monotonic() value). Never raises for the supplier's faults: the
    result's state and message say what went wrong."""
    if credentials is None:
        credentials = supplier_credentials(supplier)
    adapter = adapter_for(
        supplier.kind,
        supplier_id=str(supplier.pk),
        base_url=supplier.base_url,
        credentials=credentials,
        timeout_s=float(supplier.timeout_s),
    )
    return adapter.search(number, with_analogues=True, deadline=deadline)


# --- daily request quotas -----------------------------------------------------------------

# Armtek allows 1000 search requests a day per account by default and blocks the account
# past it (shared/reference/supplier-apis.md §2). The manager may set another figure in the
# supplier's options ("daily_request_limit"; 0 = no limit); other kinds have none unless set.
DEFAULT_DAILY_REQUEST_LIMIT = {SupplierKind.ARMTEK: 1000}
# What one number can cost at most: the brand step and up to three brands.
REQUESTS_PER_NUMBER = 4
QUOTA_TZ = dt.timezone(dt.timedelta(hours=3), "MSK")  # suppliers count their days in Moscow


@dataclasses.dataclass(frozen=True)
class RequestQuota:
    limit: int | None
    used: int

    @property
    def spent(self) -> bool:
        """No room for one more number's search."""
        return self.limit is not None and self.used + REQUESTS_PER_NUMBER > self.limit


def supplier_daily_limit(supplier: Supplier) -> int | None:
    raw = (supplier.options or {}).get("daily_request_limit")
    if raw in (None, ""):
        return DEFAULT_DAILY_REQUEST_LIMIT.get(supplier.kind)
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_DAILY_REQUEST_LIMIT.get(supplier.kind)
    return limit if limit > 0 else None


def quota_day(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(QUOTA_TZ).date()


def supplier_quota(supplier: Supplier) -> RequestQuota:
    limit = supplier_daily_limit(supplier)
    row = SupplierRequestCount.objects.filter(supplier=supplier, day=quota_day()).first()
    return RequestQuota(limit=limit, used=row.requests if row else 0)


def supplier_requests_reserve(*, supplier: Supplier, requests: int = REQUESTS_PER_NUMBER) -> bool:
    """Take `requests` from today's quota before asking; False (nothing taken) when they do
    not fit. One conditional UPDATE, so parallel searches never take more than the limit."""
    limit = supplier_daily_limit(supplier)
    if limit is None:
        return True
    day = quota_day()
    SupplierRequestCount.objects.get_or_create(supplier=supplier, day=day)
    return (
        SupplierRequestCount.objects.filter(
            supplier=supplier, day=day, requests__lte=limit - requests, spent_by_supplier=False
        ).update(requests=F("requests") + requests)
        == 1
    )


def supplier_requests_settle(
    *, supplier: Supplier, reserved: int, used: int, quota_spent: bool = False
) -> None:
    """Correct today's count once the search is done: the requests it really made, or the
    whole quota when the supplier said it is spent."""
    limit = supplier_daily_limit(supplier)
    if limit is None:
        return
    rows = SupplierRequestCount.objects.filter(supplier=supplier, day=quota_day())
    if quota_spent:
        rows.update(requests=Greatest(F("requests"), limit), spent_by_supplier=True)
    elif used != reserved:
        # A day the supplier closed stays closed, whatever searches finish after.
        rows.filter(spent_by_supplier=False).update(
            requests=Greatest(Least(F("requests") + (used - reserved), limit), 0)
        )


def supplier_quota_spend(*, supplier: Supplier, used: int) -> None:
    """Record `used` requests of today (the demo's account that has spent its day)."""
    SupplierRequestCount.objects.update_or_create(
        supplier=supplier, day=quota_day(), defaults={"requests": used, "spent_by_supplier": False}
    )


def supplier_ask_counted(*, supplier: Supplier, number: str, deadline: float) -> SearchResult:
    """`supplier_ask` within the supplier's daily request quota: a "quota_spent" result,
    without asking, when today's requests are used up (for asks outside a search, such as
    the re-check of an accepted offer)."""
    if not supplier_requests_reserve(supplier=supplier):
        payload = _quota_payload(supplier)
        return SearchResult(str(supplier.pk), payload["state"], [], payload["message"], 0)
    result = supplier_ask(supplier=supplier, number=number, deadline=deadline)
    supplier_requests_settle(
        supplier=supplier,
        reserved=REQUESTS_PER_NUMBER,
        used=result.requests,
        quota_spent=result.quota_spent,
    )
    return result


# search/batch takes at most this many (brand, number) pairs a call (ABCP API:Docs).
BATCH_MAX_PAIRS = 100


def supplier_batch_allowed(supplier: Supplier) -> bool:
    """An ABCP supplier whose manager ticked «поставщик разрешает пакетный поиск»."""
    return supplier.kind == SupplierKind.ABCP and bool((supplier.options or {}).get("batch"))


def supplier_ask_batch_counted(
    *,
    supplier: Supplier,
    pairs: Sequence[tuple[str, str]],
    deadline: float | None = None,
    credentials: dict | None = None,
) -> list[SearchResult]:
    """Offers for known (brand, number) pairs through ABCP search/batch, one call per 100
    pairs instead of a search per number, within the daily quota (one request a call).
    One result per pair, in order; "quota_spent" for all, without asking, when the calls
    do not fit in today's quota."""
    pairs = list(pairs)
    if not pairs:
        return []
    calls = -(-len(pairs) // BATCH_MAX_PAIRS)
    if not supplier_requests_reserve(supplier=supplier, requests=calls):
        message = _quota_payload(supplier)["message"]
        return [SearchResult(str(supplier.pk), "quota_spent", [], message, 0) for _ in pairs]
    adapter = adapter_for(
        supplier.kind,
        supplier_id=str(supplier.pk),
        base_url=supplier.base_url,
        credentials=credentials if credentials is not None else supplier_credentials(supplier),
        timeout_s=float(supplier.timeout_s),
    )
    results = adapter.search_batch(pairs, deadline=deadline)
    supplier_requests_settle(
        supplier=supplier,
        reserved=calls,
        used=sum(r.requests for r in results),
        quota_spent=any(r.quota_spent for r in results),
    )
    return results


def _quota_payload(supplier: Supplier) -> dict:
    quota = supplier_quota(supplier)
    return {
        "state": "quota_spent",
        "message": _(
            "Дневной лимит запросов к поставщику исчерпан: %(used)s из %(limit)s. Поиск у "
            "него остановлен до полуночи по Москве, чтобы поставщик не заблокировал договор."
        )
        % {"used": quota.used, "limit": quota.limit},
        "elapsed_ms": 0,
        "offers": [],
        "fetched_at": timezone.now().isoformat(),
    }


def offer_json(offer) -> dict:
    """An adapter's offer as stored in answers (JSON: Decimal and dates as strings)."""
    data = dataclasses.asdict(offer)
    data["price_rub"] = str(offer.price_rub)
    data["fetched_at"] = offer.fetched_at.isoformat()
    return data


@transaction.atomic
def search_start(
    *, shop: Shop, by: Membership | None, numbers: list[str], lead: Lead | None = None
) -> Search:
    deadline_s = pricing_settings(shop).search_deadline_s
    now = timezone.now()
    crosses = {
        row.analogue_key: row.number_key
        for row in CrossReference.objects.filter(number_key__in=numbers).filter(
            Q(shop=shop) | Q(shop__isnull=True)
        )
        if row.analogue_key not in numbers
    }
    search = Search.objects.create(
        shop=shop,
        created_by=by,
        lead=lead,
        numbers=numbers,
        crosses=crosses,
        created_at=now,
        deadline_at=now + dt.timedelta(seconds=float(deadline_s)),
    )
    transaction.on_commit(lambda: _enqueue(search.pk))
    return search


def _enqueue(search_id: int) -> None:
    from .tasks import run_search

    try:
        run_search.delay(search_id)
    except Exception as exc:  # broker down: run it here, within the deadline, rather than lose it
        log.warning("search %s not queued (%s): running inline", search_id, exc)
        search_run(search_id)


def search_run(search_id: int) -> Search:
    """Ask every active supplier for every number at once, under one overall deadline.
    Answers are saved as they arrive, so the page shows them one by one. Idempotent."""
    search = Search.objects.select_related("shop").get(pk=search_id)
    if search.finished_at:
        return search
    suppliers = list(Supplier.objects.filter(shop=search.shop, is_active=True))
    done = set(
        SupplierAnswer.objects.filter(search=search).values_list("supplier_id", "number_key")
    )
    # Stop asking a little before the deadline so that saving the last states still ends
    # within it.
    remaining = max((search.deadline_at - timezone.now()).total_seconds() - 0.15, 0.5)
    deadline = time.monotonic() + remaining
    jobs = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(32, len(suppliers) * len(search.numbers))))
    try:
        for supplier in suppliers:
            credentials = None
            for number in [*search.numbers, *search.crosses]:
                if (supplier.pk, number) in done:
                    continue
                cached = cache.get(_cache_key(supplier, number))
                if cached is not None:
                    _save(search, supplier, number, cached, from_cache=True)
                    continue
                if not supplier_requests_reserve(supplier=supplier):
                    _save(search, supplier, number, _quota_payload(supplier))
                    continue
                if credentials is None:
                    credentials = supplier_credentials(supplier)
                future = pool.submit(
                    supplier_ask,
                    supplier=supplier,
                    number=number,
                    deadline=deadline,
                    credentials=credentials,
                )
                jobs[future] = (supplier, number)
        pending = set(jobs)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            finished, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
            for future in finished:
                supplier, number = jobs[future]
                try:
                    result = future.result()
                except Exception as exc:  # an adapter bug must not take the search down
                    log.exception("adapter %s failed", supplier.kind)
                    result = SearchResult(str(supplier.pk), "error", [], str(exc)[:200], 0)
                supplier_requests_settle(
                    supplier=supplier,
                    reserved=REQUESTS_PER_NUMBER,
                    used=result.requests,
                    quota_spent=result.quota_spent,
                )
                payload = {
                    "state": result.state,
                    "message": result.message,
                    "elapsed_ms": result.elapsed_ms,
                    "offers": [offer_json(o) for o in result.offers],
                    "fetched_at": timezone.now().isoformat(),
                }
                if result.state in ("answered", "no_stock"):
                    cache.set(_cache_key(supplier, number), payload, CACHE_SECONDS)
                _save(search, supplier, number, payload)
        for future in pending:
            supplier, number = jobs[future]
            _save(
                search,
                supplier,
                number,
                {
                    "state": "timeout",
                    "message": _("Поставщик не ответил за %(s)s с.") % {"s": f"{remaining:.0f}"},
                    "elapsed_ms": int(remaining * 1000),
                    "offers": [],
                    "fetched_at": timezone.now().isoformat(),
                },
            )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    search.finished_at = timezone.now()
    search.save(update_fields=["finished_at"])
    return search


def _save(
    search: Search, supplier: Supplier, number: str, payload: dict, *, from_cache: bool = False
) -> None:
    SupplierAnswer.objects.update_or_create(
        search=search,
        supplier=supplier,
        number_key=number,
        defaults={
            "state": payload["state"],
            "message": payload["message"][:300],
            "elapsed_ms": payload["elapsed_ms"],
            "offers": payload["offers"],
            "from_cache": from_cache,
            "fetched_at": dt.datetime.fromisoformat(payload["fetched_at"]),
        },
    )
    if not from_cache and payload["state"] in ("answered", "no_stock"):
        known_price_remember(supplier=supplier, number=number, payload=payload)


def known_price_remember(*, supplier: Supplier, number: str, payload: dict) -> None:
    """Keep the supplier's answer for `number` as its last known prices (for the calculator's
    live prices); "no stock" is kept too: an empty answer is not a price."""
    KnownPrice.objects.update_or_create(
        supplier=supplier,
        number_key=number,
        defaults={
            "fetched_at": dt.datetime.fromisoformat(payload["fetched_at"]),
            "offers": payload["offers"],
        },
    )


@transaction.atomic
def pricelist_load(
    *, supplier: Supplier, content: bytes, filename: str, confirm: bool
) -> tuple[int | None, list[tuple[int, str]]]:
    """Replace a price-list supplier's rows. With broken rows nothing is loaded unless the
    manager confirms: then the good rows only. Returns (rows loaded or None, errors)."""
    from .suppliers.pricelist import parse_pricelist

    rows, errors = parse_pricelist(content, filename)
    if errors and (not confirm or not rows):
        return None, errors
    PriceListRow.objects.filter(supplier=supplier).delete()
    PriceListRow.objects.bulk_create(
        PriceListRow(
            supplier=supplier,
            brand=row.brand,
            number_raw=row.number,
            number_key=normalize_number(row.number),
            name=row.name,
            price_rub=row.price_rub,
            qty=row.qty,
            delivery_days=row.delivery_days_max,
            warehouse=row.warehouse,
            warranty_months=row.warranty_months,
        )
        for row in rows
    )
    supplier.pricelist_loaded_at = timezone.now()
    supplier.save(update_fields=["pricelist_loaded_at"])
    return len(rows), errors


PRICELIST_MAX_BYTES = 50 * 1024 * 1024
# The scheduled download of one price list: each socket wait, and the whole of it.
PRICELIST_SOCKET_TIMEOUT_S = 30
PRICELIST_TIMEOUT_S = 300


def pricelists_refresh() -> dict[int, str]:
    """The scheduled load of price lists published at a URL: good rows replace the old
    list; broken rows are skipped and counted (a manager sees them on the supplier page
    when loading by hand). The download goes through the outbound policy: an internal
    address, a redirect to one, plain http in production or a list over 50 MB is refused
    and the old list stays. Returns {supplier id: result} for the log."""
    results = {}
    for supplier in Supplier.objects.filter(kind=SupplierKind.PRICELIST, is_active=True).exclude(
        pricelist_url=""
    ):
        try:
            response = outbound_request(
                "GET",
                supplier.pricelist_url,
                timeout_s=PRICELIST_TIMEOUT_S,
                socket_timeout_s=PRICELIST_SOCKET_TIMEOUT_S,
                max_bytes=PRICELIST_MAX_BYTES,
            )
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            name = supplier.pricelist_url.rsplit("/", 1)[-1] or "price.csv"
            count, errors = pricelist_load(
                supplier=supplier, content=response.body, filename=name, confirm=True
            )
        except OutboundRefused as refused:
            log.warning("price list of supplier %s refused: %s", supplier.pk, refused.message)
            results[supplier.pk] = f"error: {refused.message}"
            continue
        except Exception as exc:  # one supplier's broken list must not stop the others
            log.warning("price list of supplier %s not loaded: %s", supplier.pk, exc)
            results[supplier.pk] = f"error: {exc.__class__.__name__}"
            continue
        results[supplier.pk] = f"{count} rows, {len(errors)} skipped"
    return results
