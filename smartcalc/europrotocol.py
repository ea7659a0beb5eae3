"""Which europrotocol payout limits an estimate fits, from the dated rules in force."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from autoservice.money import round_rub_to

from .models import EuroprotocolLimit


@dataclass(frozen=True)
class LimitFit:
    limit: EuroprotocolLimit
    fits: bool  # the estimate is at most the limit
    margin_rub: Decimal  # limit minus estimate (negative when over)


def limits_in_force(*, region: str, on: dt.date) -> list[EuroprotocolLimit]:
    """Rules valid on the date, the region's own rule replacing the all-Russia one.

    When two rules of the same scope and condition overlap (a new amount entered without
    closing the old rule), the one that started last on or before the date wins: the rules
    are walked oldest first and a later one replaces an earlier one of its scope.
    """
    rules = EuroprotocolLimit.objects.filter(
        Q(region="") | Q(region=region),
        valid_from__lte=on,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    chosen: dict[str, EuroprotocolLimit] = {}
    for rule in rules.order_by("valid_from", "pk"):
        current = chosen.get(rule.condition)
        if current is None or rule.region or not current.region:
            chosen[rule.condition] = rule
    return sorted(chosen.values(), key=lambda rule: rule.amount_rub)


def fit_limits(total_rub: Decimal, limits: list[EuroprotocolLimit]) -> list[LimitFit]:
    return [
        LimitFit(
            limit=rule, fits=total_rub <= rule.amount_rub, margin_rub=rule.amount_rub - total_rub
        )
        for rule in limits
    ]


# The insurer pays by the Единая методика (Положение Банка России от 04.03.2021 № 755-П):
# its own prices (справочники РСА by economic region) and, for every part it replaces, wear
# deducted, at most 50 % of the part's price (40-ФЗ «Об ОСАГО», ст. 12 п. 19). The wear of
# a part (комплектующее изделие) in 755-П is exponential in age and mileage:
#     И = 100 × (1 − e^(−Ω)),  Ω = ΔТ × Т + ΔL × L,
# Т — age in years, L — mileage in thousands of km. The coefficients ΔТ, ΔL of the
# Методика's table for passenger cars were NOT found in the sources searched (the search
# corpus had no text of 755-П's appendix, Nov 2026): the values below are an estimate
# (оценка) that reproduces the common rule of thumb «at the 50 % cap after ~6 years».
# Paint, materials and labour carry no wear. So the block is stated as approximate.
WEAR_DELTA_T = Decimal("0.07")  # оценка, per year
WEAR_DELTA_L = Decimal("0.0035")  # оценка, per thousand km
MILEAGE_KM_PER_YEAR = Decimal("15")  # оценка: thousand km a year, an average private car
WEAR_CAP_PCT = Decimal("50")  # 40-ФЗ ст. 12 п. 19
# The insurer's prices are lower than a shop's: the РСА norm-hour ≈ 1 100–1 600 ₽ against
# 2 000–3 000 ₽ in an independent shop (shared/reference/repair-data.md §3, оценка), about
# 0.55 of the shop's work; its part prices assumed 0.85 of retail (оценка). The range runs
# from «insurer's prices, oldest car of the generation» to «the shop's prices, youngest».
INSURER_WORK_SHARE_LOW = Decimal("0.55")
INSURER_PARTS_SHARE_LOW = Decimal("0.85")


def wear_pct(age_years: int) -> Decimal:
    """Approximate wear of a replaced body part by the 755-П formula, capped at 50 %."""
    omega = (WEAR_DELTA_T + WEAR_DELTA_L * MILEAGE_KM_PER_YEAR) * max(age_years, 0)
    wear = 100 * (1 - Decimal(math.exp(-float(omega))))
    return min(wear, WEAR_CAP_PCT).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Payout:
    low_rub: Decimal
    high_rub: Decimal
    wear_low_pct: Decimal
    wear_high_pct: Decimal
    age_low: int
    age_high: int


def insurer_payout(result: dict, *, year_from: int, year_to: int | None, on: dt.date) -> Payout:
    """An approximate range of what the insurer pays for this estimate, for a car of the
    generation's years (the calculator does not ask the year): parts less wear, work."""
    age_low = max(on.year - (year_to or on.year), 0)
    age_high = max(on.year - year_from, age_low)
    wear_low, wear_high = wear_pct(age_low), wear_pct(age_high)
    parts = Decimal(result["parts_rub"])
    work = Decimal(result["total_rub"]) - parts
    high = work + parts * (100 - wear_low) / 100
    low = work * INSURER_WORK_SHARE_LOW + parts * INSURER_PARTS_SHARE_LOW * (100 - wear_high) / 100
    return Payout(
        low_rub=round_rub_to(low),
        high_rub=round_rub_to(high),
        wear_low_pct=wear_low,
        wear_high_pct=wear_high,
        age_low=age_low,
        age_high=age_high,
    )


@dataclass(frozen=True)
class PayoutFit:
    limit: EuroprotocolLimit
    status: str  # "fits": even the high payout is within; "over": even the low one exceeds


def fit_payout(payout: Payout, limits: list[EuroprotocolLimit]) -> list[PayoutFit]:
    """The limits against the insurer's approximate payout (not the shop's price: the
    insurer pays by the Единая методика, so the shop's price can mislead both ways)."""
    fits = []
    for rule in limits:
        if payout.high_rub <= rule.amount_rub:
            status = "fits"
        elif payout.low_rub > rule.amount_rub:
            status = "over"
        else:
            status = "maybe"
        fits.append(PayoutFit(limit=rule, status=status))
    return fits
