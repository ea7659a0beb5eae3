"""The search results table: every offer priced for the shop, dated, and marked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from leads.models import Lead

from . import pricing, services
from .models import (
    BrandRating,
    CustomerOffer,
    MarkupRule,
    OfferVersion,
    SafetyKeyword,
    Search,
    Supplier,
    SupplierAnswer,
    SupplierRequestCount,
)
from .ordering_models import OrderStatus, SupplierOrder, SupplierOrderLine
from .reliability import Reliability, reliability_for
from .reliability import supplier_scorecard as reliability_supplier_scorecard
from .services import pricing_settings

# A supplier's state as a Bootstrap badge that is readable on any background.
STATE_BADGES = {
    "answered": "text-bg-success",
    "no_stock": "text-bg-secondary",
    "timeout": "text-bg-warning",
    "error": "text-bg-danger",
    "auth_error": "text-bg-danger",
    "config_error": "text-bg-danger",
    "quota_spent": "text-bg-danger",
    "waiting": "text-bg-light border",
}
NOTES_MARK = " сообщает: "
STATE_LABELS = {
    "answered": _("ответил"),
    "no_stock": _("нет в наличии"),
    "timeout": _("не успел ответить"),
    "error": _("ошибка"),
    "auth_error": _("ошибка входа"),
    "config_error": _("проверьте подключение"),
    "quota_spent": _("лимит запросов исчерпан"),
    "waiting": _("ждём ответа"),
}


@dataclass
class Row:
    key: str
    supplier: Supplier
    offer: dict
    price: pricing.Price
    delivery_date: dt.date
    delivery_days: int
    age_minutes: int
    is_cheapest: bool = False
    is_fastest: bool = False
    is_recommended: bool = False
    reliability: Reliability | None = None
    # A used or clearance part in a shop that does not offer them as new: shown, marked,
    # but never cheapest, fastest, recommended or put in an offer.
    second_hand_excluded: bool = False

    @property
    def offerable(self) -> bool:
        return not self.second_hand_excluded


@dataclass
class NumberBlock:
    number: str
    rows: list[Row] = field(default_factory=list)
    reasons: tuple[str, ...] = ()
    name: str = ""


def supplier_scorecard(shop: Shop) -> list[tuple[Supplier, Reliability]]:
    """The suppliers page: each supplier with its measured reliability and, where it has a
    daily request limit, `request_quota` (today's requests and the limit). Two queries more
    than the reliability alone, whatever the number of suppliers."""
    rows = reliability_supplier_scorecard(shop)
    counts = dict(
        SupplierRequestCount.objects.filter(
            supplier__shop=shop, day=services.quota_day()
        ).values_list("supplier_id", "requests")
    )
    for supplier, _reliability in rows:
        limit = services.supplier_daily_limit(supplier)
        supplier.request_quota = (
            services.RequestQuota(limit=limit, used=counts.get(supplier.pk, 0))
            if limit is not None
            else None
        )
    return rows


def searches_recent(shop: Shop, *, limit: int = 10) -> list[Search]:
    return list(Search.objects.filter(shop=shop).select_related("lead")[:limit])


def suppliers_active_exist(shop: Shop) -> bool:
    return Supplier.objects.filter(shop=shop, is_active=True).exists()


def offer_versions_for_lead(lead: Lead) -> list[OfferVersion]:
    """Every version of the lead's offer, newest first (for the lead page)."""
    return list(
        OfferVersion.objects.filter(offer__lead=lead, offer__shop=lead.shop_id)
        .select_related("offer")
        .order_by("-number")
    )


def delivery_date(supplier: Supplier, days: int, now: dt.datetime, tz) -> dt.date:
    """When the part reaches the shop: after the supplier's cut-off the order leaves a day
    later; then the supplier's days and the transit to the shop."""
    local = now.astimezone(tz)
    start = local.date()
    if local.time() >= supplier.cutoff_time:
        start += dt.timedelta(days=1)
    return start + dt.timedelta(days=days + supplier.transit_days)


def search_table(search: Search, *, sort: str = "price", tier: str = "", in_stock: bool = False):
    """(blocks per number, supplier states). Queries do not grow with the number of offers."""
    shop: Shop = search.shop
    rules = pricing_settings(shop)
    markups = [
        pricing.MarkupRule(r.quality, r.price_from_rub, r.markup_pct)
        for r in MarkupRule.objects.filter(shop=shop)
    ]
    answers = list(
        SupplierAnswer.objects.filter(search=search).select_related("supplier").order_by("id")
    )
    supplier_ids = {a.supplier_id for a in answers}
    discounts: dict[int, list[pricing.DiscountRule]] = {}
    for supplier in Supplier.objects.filter(pk__in=supplier_ids).prefetch_related("discounts"):
        discounts[supplier.pk] = [
            pricing.DiscountRule(d.brand.upper(), d.quality, d.discount_pct)
            for d in supplier.discounts.all()
        ]
    ratings = {b.brand.upper(): b for b in BrandRating.objects.all()}
    reliability = reliability_for(shop, supplier_ids)
    safety = [k.keyword.lower() for k in SafetyKeyword.objects.all()]
    now = timezone.now()
    blocks = {number: NumberBlock(number) for number in search.numbers}
    states: dict[int, dict] = {}
    for answer in answers:
        entry = states.setdefault(
            answer.supplier_id,
            {"supplier": answer.supplier, "states": [], "ms": 0, "cache": False, "messages": {}},
        )
        entry["messages"].setdefault(answer.state, answer.message)
        entry["states"].append(answer.state)
        entry["ms"] = max(entry["ms"], answer.elapsed_ms)
        entry["cache"] = entry["cache"] or answer.from_cache
        # Offers for a cross number from the shop's table go under the number asked for.
        asked = search.crosses.get(answer.number_key, answer.number_key)
        block = blocks.setdefault(asked, NumberBlock(asked))
        for index, offer in enumerate(answer.offers):
            if asked != answer.number_key:
                offer = {**offer, "is_cross": True}
            supplier = answer.supplier
            list_price = Decimal(offer["price_rub"])
            discount = pricing.discount_for(
                default_pct=supplier.discount_pct,
                rules=discounts.get(supplier.pk, []),
                brand=offer["brand"].upper(),
                quality=offer["quality"],
            )
            markup = pricing.markup_for(
                rules=markups, quality=offer["quality"], list_price_rub=list_price
            )
            price = pricing.customer_price(
                list_price_rub=list_price,
                discount_pct=discount,
                markup_pct=markup,
                round_to_rub=rules.round_to_rub,
                allow_below_purchase=rules.allow_below_purchase,
            )
            # The supplier's promise plus what its deliveries show it really needs.
            days = int(offer["delivery_days_max"]) + reliability[supplier.pk].extra_days
            fetched = dt.datetime.fromisoformat(offer["fetched_at"])
            block.rows.append(
                Row(
                    key=f"{answer.pk}:{index}",
                    supplier=supplier,
                    offer=offer,
                    price=price,
                    delivery_date=delivery_date(supplier, days, now, shop.tzinfo),
                    delivery_days=days,
                    age_minutes=int((now - fetched).total_seconds() // 60),
                    reliability=reliability[supplier.pk],
                    second_hand_excluded=offer.get("condition", "new") != "new"
                    and not rules.allow_used_parts,
                )
            )
            if not block.name and offer.get("name") and not offer.get("is_cross"):
                block.name = offer["name"]
    today = now.astimezone(shop.tzinfo).date()
    for block in blocks.values():
        candidates = []
        for row in block.rows:
            rating = ratings.get(row.offer["brand"].upper())
            candidates.append(
                pricing.Candidate(
                    key=row.key,
                    brand=row.offer["brand"],
                    name=row.offer.get("name", ""),
                    quality=row.offer["quality"],
                    customer_rub=row.price.customer_rub,
                    # A supplier whose deliveries are mostly late is never the one relied on.
                    available=bool(
                        row.offer.get("qty")
                        or row.offer.get("qty_min")
                        or row.offer.get("qty_on_order")
                    )
                    and not row.reliability.unreliable
                    and row.offerable,
                    # The day the customer gets it (the supplier's cut-off and the transit
                    # to the shop included), so that «быстрее всех» marks the earliest date.
                    delivery_days=(row.delivery_date - today).days,
                    rating=rating.rating if rating else 3,
                    warranty_months=(rating.warranty_months if rating else 0)
                    or int(row.offer.get("warranty_months") or 0),
                    certified=rating.certified if rating else False,
                    material_note=rating.material_note if rating else "",
                )
            )
        name = (block.name or "").lower()
        marks = pricing.recommend(
            candidates,
            threshold_pct=rules.recommend_threshold_pct,
            safety_relevant=any(word in name for word in safety),
        )
        for row in block.rows:
            row.is_cheapest = row.key == marks.cheapest
            row.is_fastest = row.key == marks.fastest
            row.is_recommended = row.key == marks.recommended
        block.reasons = marks.reasons
        if tier:
            block.rows = [r for r in block.rows if r.offer["quality"] == tier]
        if in_stock:
            block.rows = [r for r in block.rows if r.offer.get("qty") or r.offer.get("qty_min")]
        if sort == "delivery":
            block.rows.sort(key=lambda r: (r.delivery_date, r.price.customer_rub))
        else:
            block.rows.sort(key=lambda r: (r.price.customer_rub, r.delivery_date))
    for entry in states.values():
        s = entry["states"]
        entry["state"] = next(
            (
                x
                for x in (
                    "answered",
                    "timeout",
                    "error",
                    "auth_error",
                    "config_error",
                    "quota_spent",
                    "no_stock",
                )
                if x in s
            ),
            "waiting",
        )
        entry["label"] = STATE_LABELS[entry["state"]]
        entry["badge"] = STATE_BADGES[entry["state"]]
        entry["message"] = entry["messages"].get(entry["state"], "")
        # What the supplier asked to tell (Armtek W/I messages), after the adapter's label.
        entry["notes"] = next(
            (
                message.split(NOTES_MARK, 1)[1]
                for message in entry["messages"].values()
                if NOTES_MARK in message
            ),
            "",
        )
    return list(blocks.values()), list(states.values())


def offers_for_shop(shop: Shop) -> QuerySet[CustomerOffer]:
    """The shop's offers with their versions (options and acceptances), a fixed number of
    queries per page."""
    return (
        CustomerOffer.objects.filter(shop=shop)
        .select_related("lead")
        .prefetch_related(
            Prefetch("versions", queryset=OfferVersion.objects.order_by("number")),
        )
        .order_by("-created_at", "-id")
    )


# --- supplier orders for the shop's CRM (REST API) ----------------------------------------

# The moments an order changes: its status stamps, and each poll of the supplier (a poll may
# change a line's confirmed price without changing the status).
ORDER_CHANGE_STAMPS = (
    "created_at",
    "placing_at",
    "placed_at",
    "confirmed_at",
    "rejected_at",
    "shipped_at",
    "delivered_at",
    "failed_at",
    "polled_at",
)
# (status, stamp) in the order an order moves; each status is reached at most once.
ORDER_HISTORY = (
    (OrderStatus.DRAFT, "created_at"),
    (OrderStatus.PLACING, "placing_at"),
    (OrderStatus.PLACED, "placed_at"),
    (OrderStatus.CONFIRMED, "confirmed_at"),
    (OrderStatus.PARTLY_REJECTED, "rejected_at"),
    (OrderStatus.SHIPPED, "shipped_at"),
    (OrderStatus.DELIVERED, "delivered_at"),
    (OrderStatus.FAILED, "failed_at"),
)


def orders_for_api(shop: Shop) -> QuerySet[SupplierOrder]:
    """The shop's supplier orders with their lines, supplier and lead, newest first, each
    with `changed_at` (the latest of its stamps); a fixed number of queries per page."""
    return (
        SupplierOrder.objects.filter(shop=shop)
        .select_related("supplier", "version__offer__lead")
        .prefetch_related(
            Prefetch("lines", queryset=SupplierOrderLine.objects.order_by("position", "pk"))
        )
        # Coalesce: SQLite's MAX() of a NULL is NULL (PostgreSQL's GREATEST skips it).
        .annotate(changed_at=Greatest(*(Coalesce(f, "created_at") for f in ORDER_CHANGE_STAMPS)))
        .order_by("-created_at", "-id")
    )


def orders_changed_since(
    queryset: QuerySet[SupplierOrder], since: dt.datetime
) -> QuerySet[SupplierOrder]:
    return queryset.filter(changed_at__gte=since)


def order_status_history(order: SupplierOrder) -> list[tuple[str, dt.datetime]]:
    """(status, when) of each status the order went through. Statuses only move forward
    (ordering._set_status), so the order of ORDER_HISTORY is the order they came in."""
    stamps = [(status, getattr(order, stamp)) for status, stamp in ORDER_HISTORY]
    return [(status, at) for status, at in stamps if at is not None]
