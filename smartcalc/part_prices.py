"""Part prices from outside the calculator's own tables: an extension point.

smartcalc sits below optima in the layers (`.importlinter`), so it never asks suppliers
itself. An app above it registers a provider here (in its AppConfig.ready); the price lookup
(`techdata.prices_for`) calls every provider once per estimate with the parts of the car
that have an OEM number, and a part a provider prices wins over the shop's list and the
platform's reference price.

A provider answers from what it already holds (a stored supplier answer, never a call to a
supplier): the driver's request must stay fast. A provider that fails is logged and
skipped, so the estimate falls back to the shop's list and the reference price.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from autoservice.models import Shop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartQuery:
    """One part of the car whose price is asked: the calculator's code and its OEM number."""

    part: str
    oem_number: str


@dataclass(frozen=True)
class LivePrice:
    """What the customer pays for the part at the shop (the shop's markup applied, before
    any VAT on top: whether the price includes VAT is the shop's "supplier prices include
    VAT" setting), and when the supplier gave the price it is built from."""

    original_rub: Decimal
    alternative_rub: Decimal | None
    as_of: dt.datetime


# (shop, model, generation or None, the parts asked) -> {part code: LivePrice}
Provider = Callable[[Shop, object, object, Sequence[PartQuery]], Mapping[str, LivePrice]]

_providers: list[Provider] = []


def provider_register(provider: Provider) -> Provider:
    """Add a provider (once: registering the same function again changes nothing)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def provider_unregister(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def live_prices(
    shop: Shop, model: object, generation: object, queries: Sequence[PartQuery]
) -> dict[str, LivePrice]:
    """Every provider's prices for the parts asked; the first provider that prices a part
    wins. Parts without an OEM number are never asked."""
    queries = [q for q in queries if q.oem_number]
    asked = {q.part for q in queries}
    found: dict[str, LivePrice] = {}
    if not queries:
        return found
    for provider in list(_providers):
        try:
            answer = provider(shop, model, generation, queries)
        except Exception:  # a provider's bug must not take the calculator down
            log.exception("part price provider %r failed", provider)
            continue
        for part, price in answer.items():
            if part in asked and part not in found and price.original_rub > 0:
                found[part] = price
    return found
