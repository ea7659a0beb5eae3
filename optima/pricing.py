"""Customer prices from supplier prices, and the recommendation (the 30 % rule).

Pure functions over Decimal: the shop's discount with the supplier (most specific rule
wins), the shop's markup by the supplier's list-price band and quality tier, rounding to
the shop's step, and never below the purchase price unless the shop allows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from autoservice.money import format_rub, quantize_rub

QUALITY_RANK = {"original": 3, "oe_replacement": 2, "aftermarket": 1, "unknown": 0}
QUALITY_WORDS = {
    "original": gettext_lazy("оригинальная деталь производителя автомобиля"),
    "oe_replacement": gettext_lazy("деталь поставщика конвейера (ОЕМ-качество)"),
}


@dataclass(frozen=True)
class DiscountRule:
    brand: str  # canonical brand, "" = any
    quality: str  # "" = any
    pct: Decimal


@dataclass(frozen=True)
class MarkupRule:
    quality: str  # "" = any
    price_from_rub: Decimal
    pct: Decimal


def discount_for(
    *, default_pct: Decimal, rules: Iterable[DiscountRule], brand: str, quality: str
) -> Decimal:
    """Brand and quality > brand > quality > the supplier's own discount."""
    best: tuple[int, Decimal] | None = None
    for rule in rules:
        if rule.brand and rule.brand != brand:
            continue
        if rule.quality and rule.quality != quality:
            continue
        weight = (2 if rule.brand else 0) + (1 if rule.quality else 0)
        if best is None or weight > best[0]:
            best = (weight, rule.pct)
    return best[1] if best else default_pct


def markup_for(*, rules: Sequence[MarkupRule], quality: str, list_price_rub: Decimal) -> Decimal:
    """The band of the supplier's list price (not of the discounted price: so that a bigger
    discount can never move a part into a dearer band and raise the customer's price)."""
    for tier in (quality, ""):
        bands = [r for r in rules if r.quality == tier and r.price_from_rub <= list_price_rub]
        if bands:
            return max(bands, key=lambda r: r.price_from_rub).pct
    return Decimal("0")


def round_to_step(value: Decimal, step: int, *, ceiling: bool = False) -> Decimal:
    if step <= 0:
        return quantize_rub(value)
    units = (value / step).quantize(
        Decimal("1"), rounding=ROUND_CEILING if ceiling else ROUND_HALF_UP
    )
    return quantize_rub(units * step)


@dataclass(frozen=True)
class Price:
    purchase_rub: Decimal
    discount_pct: Decimal
    markup_pct: Decimal
    customer_rub: Decimal


def customer_price(
    *,
    list_price_rub: Decimal,
    discount_pct: Decimal,
    markup_pct: Decimal,
    round_to_rub: int,
    allow_below_purchase: bool,
) -> Price:
    purchase = quantize_rub(list_price_rub * (100 - discount_pct) / 100)
    customer = round_to_step(purchase * (100 + markup_pct) / 100, round_to_rub)
    if not allow_below_purchase and customer < purchase:
        customer = round_to_step(purchase, round_to_rub, ceiling=True)
    return Price(purchase, discount_pct, markup_pct, customer)


@dataclass(frozen=True)
class Candidate:
    """What the rule needs to know of one offer."""

    key: str
    brand: str
    name: str
    quality: str
    customer_rub: Decimal
    available: bool
    delivery_days: int
    rating: int = 3
    warranty_months: int = 0
    certified: bool = False
    material_note: str = ""


@dataclass(frozen=True)
class Marks:
    cheapest: str | None
    fastest: str | None
    recommended: str | None
    reasons: tuple[str, ...]


def _better(a: Candidate, b: Candidate) -> bool:
    """a is a better part than b: a higher quality tier, or the same tier and brand rating."""
    ra, rb = QUALITY_RANK.get(a.quality, 0), QUALITY_RANK.get(b.quality, 0)
    return ra > rb or (ra == rb and a.rating > b.rating)


def recommend(
    candidates: Sequence[Candidate], *, threshold_pct: int, safety_relevant: bool
) -> Marks:
    """Cheapest, fastest and recommended among the offers that can be had.

    A better offer (a higher quality tier or a higher-rated brand) is recommended when it
    costs at most `threshold_pct` % more than the cheapest acceptable one; the reasons
    are written for the driver."""
    usable = [c for c in candidates if c.available]
    if not usable:
        return Marks(None, None, None, ())
    cheapest = min(usable, key=lambda c: (c.customer_rub, c.delivery_days))
    fastest = min(usable, key=lambda c: (c.delivery_days, c.customer_rub))
    limit = cheapest.customer_rub * (100 + threshold_pct) / 100
    better = [c for c in usable if c.customer_rub <= limit and _better(c, cheapest)]
    if not better:
        return Marks(cheapest.key, fastest.key, None, ())
    best = max(
        better,
        key=lambda c: (
            QUALITY_RANK.get(c.quality, 0),
            c.rating,
            c.warranty_months,
            -c.customer_rub,
        ),
    )
    extra = best.customer_rub - cheapest.customer_rub
    share = (extra * 100 / cheapest.customer_rub).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    # The reasons are written for the driver in the language of the page that builds the
    # offer, and are kept in the offer as they were shown.
    reasons = [
        _("Дороже самого дешёвого варианта всего на %(share)s (%(extra)s).")
        % {"share": f"{share}\u00a0%", "extra": format_rub(extra)}
    ]
    if best.quality in QUALITY_WORDS and QUALITY_RANK[best.quality] > QUALITY_RANK.get(
        cheapest.quality, 0
    ):
        reasons.append(
            # Translators: a brand, then what its quality tier means for the driver.
            _("%(brand)s: %(quality)s.")
            % {"brand": best.brand, "quality": QUALITY_WORDS[best.quality]}
        )
    elif best.rating > cheapest.rating:
        reasons.append(
            _("%(brand)s — бренд с лучшей репутацией, чем %(other)s.")
            % {"brand": best.brand, "other": cheapest.brand}
        )
    if best.warranty_months > cheapest.warranty_months:
        reasons.append(
            _("Гарантия производителя %(months)s мес.") % {"months": best.warranty_months}
        )
    if best.certified and not cheapest.certified:
        reasons.append(_("Есть сертификат соответствия."))
    if best.material_note:
        reasons.append(best.material_note.rstrip(".") + ".")
    if safety_relevant:
        reasons.append(_("Деталь влияет на безопасность: экономить на ней не стоит."))
    return Marks(cheapest.key, fastest.key, best.key, tuple(reasons))
