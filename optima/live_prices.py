"""Live supplier prices for the driver's calculator, from answers already held.

The calculator asks (through `smartcalc.part_prices`, registered in OptimaConfig.ready) for
the parts of a car that have an OEM number. A shop that opted in («показывать водителю цены
поставщиков») gets, per part, the cheapest new original offer its active suppliers gave for
that number within the last 24 hours (`KnownPrice`, filled by searches and by the daily
refresh below), priced with the shop's discounts, markup and rounding exactly as the search
table prices it, and dated. A supplier is never called during the driver's request.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone

from autoservice.models import Shop
from smartcalc import selectors as calc_selectors
from smartcalc.part_prices import LivePrice, PartQuery

from . import pricing, services
from .models import KnownPrice, PricingSettings, Supplier, SupplierDiscount
from .suppliers import SearchResult
from .suppliers.offer import normalize_number

log = logging.getLogger(__name__)

MAX_AGE = dt.timedelta(hours=24)
# The daily refresh asks again for numbers whose answer is older than this, so that a price
# refreshed yesterday at the same time is still under 24 h when the next run starts.
REFRESH_AFTER = dt.timedelta(hours=20)
# The refresh leaves at least this share of a supplier's daily quota to the advisors'
# searches, whatever it still has to ask.
REFRESH_QUOTA_SHARE = Decimal("0.5")
REFRESH_MAX_NUMBERS = 500
# The run stops asking after this long (the task's soft limit is 540 s); the numbers left
# are the freshest ones, asked first the next day.
REFRESH_BUDGET_S = 420.0


def _available(offer: dict) -> bool:
    return bool(offer.get("qty") or offer.get("qty_min") or offer.get("qty_on_order"))


def supplier_part_prices(
    shop: Shop, model: object, generation: object, queries: Sequence[PartQuery]
) -> dict[str, LivePrice]:
    """The provider: {part: LivePrice} for the parts a fresh supplier answer prices, for a
    shop that opted in; {} otherwise. A fixed number of queries whatever the parts."""
    # Plain values, not model instances: a supplier row decrypts its secret on load, and
    # the driver's request needs none of it.
    # The shop's rounding and its markup bands in one query (a row per band).
    rows = list(
        PricingSettings.objects.filter(shop=shop, show_supplier_prices_to_drivers=True).values_list(
            "round_to_rub",
            "allow_below_purchase",
            "shop__markup_rules__quality",
            "shop__markup_rules__price_from_rub",
            "shop__markup_rules__markup_pct",
        )
    )
    if not rows:
        return {}
    round_to_rub, allow_below_purchase = rows[0][0], rows[0][1]
    markups = [
        pricing.MarkupRule(quality or "", price_from, pct)
        for _r, _a, quality, price_from, pct in rows
        if pct is not None
    ]
    keys = {q.part: normalize_number(q.oem_number) for q in queries if q.oem_number}
    if not keys:
        return {}
    since = timezone.now() - MAX_AGE
    memos = list(
        KnownPrice.objects.filter(
            supplier__shop=shop,
            supplier__is_active=True,
            number_key__in=set(keys.values()),
            fetched_at__gte=since,
        ).values_list("supplier_id", "number_key", "offers", "supplier__discount_pct")
    )
    if not memos:
        return {}
    default_discounts = {supplier_id: pct for supplier_id, _n, _o, pct in memos}
    supplier_ids = set(default_discounts)
    discounts: dict[int, list[pricing.DiscountRule]] = {pk: [] for pk in supplier_ids}
    for supplier_id, brand, quality, pct in SupplierDiscount.objects.filter(
        supplier_id__in=supplier_ids
    ).values_list("supplier_id", "brand", "quality", "discount_pct"):
        discounts[supplier_id].append(pricing.DiscountRule(brand.upper(), quality, pct))
    # number -> (best original (customer price, as of), best alternative customer price)
    best: dict[str, list] = {}
    for supplier_id, number_key, offers, _pct in memos:
        for offer in offers:
            fetched = dt.datetime.fromisoformat(offer["fetched_at"])
            if fetched < since or offer.get("condition", "new") != "new" or not _available(offer):
                continue
            list_price = Decimal(offer["price_rub"])
            price = pricing.customer_price(
                list_price_rub=list_price,
                discount_pct=pricing.discount_for(
                    default_pct=default_discounts[supplier_id],
                    rules=discounts[supplier_id],
                    brand=offer["brand"].upper(),
                    quality=offer["quality"],
                ),
                markup_pct=pricing.markup_for(
                    rules=markups, quality=offer["quality"], list_price_rub=list_price
                ),
                round_to_rub=round_to_rub,
                allow_below_purchase=allow_below_purchase,
            )
            entry = best.setdefault(number_key, [None, None])
            original = not offer.get("is_cross") and offer["number_key"] == number_key
            if original:
                if entry[0] is None or price.customer_rub < entry[0][0]:
                    entry[0] = (price.customer_rub, fetched)
            elif entry[1] is None or price.customer_rub < entry[1]:
                entry[1] = price.customer_rub
    found = {}
    for part, key in keys.items():
        entry = best.get(key)
        if entry is None or entry[0] is None:
            continue
        original_rub, as_of = entry[0]
        alternative = entry[1] if entry[1] is not None and entry[1] < original_rub else None
        found[part] = LivePrice(original_rub=original_rub, alternative_rub=alternative, as_of=as_of)
    return found


# --- the daily refresh ----------------------------------------------------------------------


def _refresh_room(supplier: Supplier) -> bool:
    """The refresh may take one more number's requests and still leave the advisors their
    share of today's quota."""
    limit = services.supplier_daily_limit(supplier)
    if limit is None:
        return True
    used = services.supplier_quota(supplier).used
    return used + services.REQUESTS_PER_NUMBER <= limit * (1 - REFRESH_QUOTA_SHARE)


def _payload(result: SearchResult) -> dict:
    return {
        "state": result.state,
        "offers": [services.offer_json(o) for o in result.offers],
        "fetched_at": timezone.now().isoformat(),
    }


def _known_brand(memo: KnownPrice | None) -> str:
    """The brand a supplier gave for the number itself in its last answer (search/batch
    asks by brand and number)."""
    for offer in memo.offers if memo else []:
        if not offer.get("is_cross") and offer.get("number_key") == memo.number_key:
            return offer.get("brand_raw") or offer.get("brand") or ""
    return ""


def live_prices_refresh(
    *, shop_ids: Sequence[int] | None = None, budget_s: float = REFRESH_BUDGET_S
) -> dict[str, int]:
    """Beat, daily: ask the suppliers of every shop that shows supplier prices to drivers
    for the catalogue's OEM numbers whose last answer is older than REFRESH_AFTER, within
    each supplier's daily quota (leaving the advisors REFRESH_QUOTA_SHARE of it). An ABCP
    supplier that allows search/batch gets the numbers whose brand it told us before in
    one call per 100. Returns counts for the log."""
    counts = {"asked": 0, "batched": 0, "skipped_quota": 0, "skipped_time": 0, "errors": 0}
    stop_at = time.monotonic() + budget_s
    settings_rows = PricingSettings.objects.filter(show_supplier_prices_to_drivers=True)
    if shop_ids is not None:
        settings_rows = settings_rows.filter(shop_id__in=shop_ids)
    for rules in settings_rows.select_related("shop"):
        shop = rules.shop
        numbers = [normalize_number(n) for n in calc_selectors.catalogue_oem_numbers(shop)]
        numbers = [n for n in dict.fromkeys(numbers) if n][:REFRESH_MAX_NUMBERS]
        if not numbers:
            continue
        stale_before = timezone.now() - REFRESH_AFTER
        for supplier in Supplier.objects.filter(shop=shop, is_active=True):
            memos = {
                m.number_key: m
                for m in KnownPrice.objects.filter(supplier=supplier, number_key__in=numbers)
            }
            due = [n for n in numbers if n not in memos or memos[n].fetched_at < stale_before]
            # Never asked first, then the oldest answers: a run cut short by its time
            # budget leaves the freshest for tomorrow.
            due.sort(key=lambda n: (n in memos, memos[n].fetched_at if n in memos else None))
            if due:
                _refresh_supplier(supplier, due, memos, counts, stop_at)
    return counts


def _refresh_supplier(
    supplier: Supplier,
    due: list[str],
    memos: dict[str, KnownPrice],
    counts: dict[str, int],
    stop_at: float,
) -> None:
    credentials = services.supplier_credentials(supplier)
    batched: list[tuple[str, str]] = []
    if services.supplier_batch_allowed(supplier):
        batched = [(brand, n) for n in due if (brand := _known_brand(memos.get(n)))]
    if batched:
        results = services.supplier_ask_batch_counted(
            supplier=supplier, pairs=batched, credentials=credentials
        )
        for (_brand, number), result in zip(batched, results, strict=True):
            if result.state in ("answered", "no_stock"):
                services.known_price_remember(
                    supplier=supplier,
                    number=number,
                    payload=_merge_crosses(memos.get(number), _payload(result)),
                )
                counts["batched"] += 1
            elif result.state == "quota_spent":
                counts["skipped_quota"] += 1
            else:
                counts["errors"] += 1
        done = {number for _brand, number in batched}
        due = [n for n in due if n not in done]
    for number in due:
        if time.monotonic() >= stop_at:
            counts["skipped_time"] += len(due) - due.index(number)
            return
        if not _refresh_room(supplier) or not services.supplier_requests_reserve(supplier=supplier):
            counts["skipped_quota"] += len(due) - due.index(number)
            return
        deadline = time.monotonic() + float(supplier.timeout_s)
        result = services.supplier_ask(
            supplier=supplier, number=number, deadline=deadline, credentials=credentials
        )
        services.supplier_requests_settle(
            supplier=supplier,
            reserved=services.REQUESTS_PER_NUMBER,
            used=result.requests,
            quota_spent=result.quota_spent,
        )
        if result.state in ("answered", "no_stock"):
            services.known_price_remember(
                supplier=supplier, number=number, payload=_payload(result)
            )
            counts["asked"] += 1
        else:
            counts["errors"] += 1
            if result.quota_spent:
                return


def _merge_crosses(memo: KnownPrice | None, payload: dict) -> dict:
    """search/batch gives no analogues: the analogues of the last full answer stay, each
    with its own date (the calculator drops them once they are older than a day)."""
    crosses = [o for o in (memo.offers if memo else []) if o.get("is_cross")]
    return {**payload, "offers": payload["offers"] + crosses}
