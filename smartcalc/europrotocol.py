"""Which europrotocol payout limits an estimate fits, from the dated rules in force."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

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
