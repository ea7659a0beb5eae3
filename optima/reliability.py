"""Supplier reliability measured from deliveries, not assumed: the on-time share, how
often "in stock" was true, and the extra days a customer should honestly expect."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from autoservice.models import Shop

from .models import DeliveryRecord, OfferVersion, Supplier

WINDOW_DAYS = 90
MIN_RECORDS = 3


@dataclass(frozen=True)
class Reliability:
    supplier_id: int
    marked: int
    on_time_share: float | None  # None until enough deliveries were marked
    in_stock_true_share: float | None
    extra_days: int  # added to the supplier's promise for an honest date

    @property
    def unreliable(self) -> bool:
        return self.on_time_share is not None and self.on_time_share < 0.5


def reliability_for(shop: Shop, supplier_ids) -> dict[int, Reliability]:
    """One query for all suppliers of a results page."""
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    records = DeliveryRecord.objects.filter(
        shop=shop, supplier_id__in=list(supplier_ids), created_at__gte=since
    ).filter(Q(arrived_on__isnull=False) | Q(not_delivered=True))
    delays: dict[int, list[int]] = {}
    stats: dict[int, dict] = {}
    for record in records.only(
        "supplier_id",
        "promised_on",
        "arrived_on",
        "not_delivered",
        "claimed_in_stock",
        "was_in_stock",
    ):
        entry = stats.setdefault(record.supplier_id, {"n": 0, "on_time": 0, "claims": 0, "true": 0})
        entry["n"] += 1
        if record.arrived_on and record.arrived_on <= record.promised_on:
            entry["on_time"] += 1
        if record.arrived_on:
            delays.setdefault(record.supplier_id, []).append(
                max((record.arrived_on - record.promised_on).days, 0)
            )
        if record.claimed_in_stock and record.was_in_stock is not None:
            entry["claims"] += 1
            entry["true"] += int(record.was_in_stock)
    result = {}
    for supplier_id in supplier_ids:
        entry = stats.get(supplier_id)
        if not entry or entry["n"] < MIN_RECORDS:
            result[supplier_id] = Reliability(
                supplier_id, entry["n"] if entry else 0, None, None, 0
            )
            continue
        late = sorted(delays.get(supplier_id, [0]))
        # The delay that four of five deliveries stay within: an honest promise, not the worst.
        extra = late[min(len(late) - 1, math.ceil(len(late) * 0.8) - 1)]
        result[supplier_id] = Reliability(
            supplier_id,
            entry["n"],
            entry["on_time"] / entry["n"],
            entry["true"] / entry["claims"] if entry["claims"] else None,
            extra,
        )
    return result


@transaction.atomic
def deliveries_open(version: OfferVersion) -> list[DeliveryRecord]:
    """The accepted parts become deliveries to mark when they arrive (once per version)."""
    if version.deliveries.exists():
        return list(version.deliveries.all())
    created = []
    for index, position in enumerate(version.positions):
        picked = version.accepted_choice.get(str(index))
        if picked is None:
            continue
        option = position["options"][picked]
        supplier = Supplier.objects.filter(
            pk=option["supplier_id"], shop=version.offer.shop
        ).first()
        if supplier is None:
            continue
        created.append(
            DeliveryRecord.objects.create(
                shop=version.offer.shop,
                supplier=supplier,
                version=version,
                brand=option["brand"],
                number=option["number"],
                promised_on=dt.date.fromisoformat(option["delivery_date"]),
                claimed_in_stock=bool(option.get("in_stock")),
            )
        )
    return created


def delivery_mark(
    *, record: DeliveryRecord, arrived_on: dt.date | None, was_in_stock: bool | None
) -> DeliveryRecord:
    record.arrived_on = arrived_on
    record.not_delivered = arrived_on is None
    record.was_in_stock = was_in_stock
    record.marked_at = timezone.now()
    record.save(update_fields=["arrived_on", "not_delivered", "was_in_stock", "marked_at"])
    return record


def supplier_scorecard(shop: Shop) -> list[tuple[Supplier, Reliability]]:
    suppliers = list(Supplier.objects.filter(shop=shop).annotate(n=Count("deliveries")))
    stats = reliability_for(shop, [s.pk for s in suppliers])
    return [(s, stats[s.pk]) for s in suppliers]
