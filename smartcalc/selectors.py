"""Reads for the calculator pages."""

from __future__ import annotations

import statistics
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from autoservice.models import Shop
from leads.models import Lead

from .models import Estimate, EstimateVersion, Generation, VehicleMake, VehicleModel


def makes_with_models(q: str = "") -> QuerySet[VehicleMake]:
    models = VehicleModel.objects.order_by("-popular", "name")
    makes = VehicleMake.objects.prefetch_related(Prefetch("models", queryset=models))
    if q:
        makes = makes.filter(Q(name__icontains=q) | Q(models__name__icontains=q)).distinct()
    return makes


def generations_of(model: VehicleModel) -> QuerySet[Generation]:
    return model.generations.order_by("-year_from")


def estimate_of_lead(lead: Lead) -> Estimate | None:
    """The calculator's estimate a lead was sent with, if it was."""
    return Estimate.objects.filter(shop=lead.shop_id, lead=lead).first()


def estimates_for_shop(shop: Shop) -> QuerySet[Estimate]:
    return (
        Estimate.objects.filter(shop=shop)
        .select_related("generation__model__make", "lead")
        .annotate(version_count=Count("versions"))
        .prefetch_related(Prefetch("versions", queryset=EstimateVersion.objects.order_by("number")))
    )


def estimate_for_shop(shop: Shop, estimate_id: int) -> QuerySet[Estimate]:
    return Estimate.objects.filter(shop=shop, pk=estimate_id).select_related(
        "generation__model__make", "lead"
    )


def estimate_latest_for_lead(lead: Lead) -> EstimateVersion | None:
    """The newest version of the estimate attached to a lead, or None when it has none: what
    other apps (the parts offer) build on."""
    return (
        EstimateVersion.objects.filter(estimate__lead=lead, estimate__shop=lead.shop_id)
        .order_by("-number")
        .first()
    )


def range_calibration(shop: Shop, limit: int = 500) -> dict:
    """How the driver-facing hidden-damage ranges compare with what inspections found:
    for each estimate revised after inspection, the change of the total against the range
    promised in the driver's version."""
    below = inside = above = 0
    changes: list[Decimal] = []
    estimates = (
        Estimate.objects.filter(shop=shop)
        .annotate(n=Count("versions"))
        .filter(n__gte=2)
        .prefetch_related(Prefetch("versions", queryset=EstimateVersion.objects.order_by("number")))
        .order_by("-created_at")[:limit]
    )
    for estimate in estimates:
        versions = list(estimate.versions.all())
        first, last = versions[0], versions[-1]
        if not first.total_rub:
            continue
        change = (last.total_rub - first.total_rub) * 100 / first.total_rub
        low = Decimal(first.result.get("hidden_low_pct", "0"))
        high = Decimal(first.result.get("hidden_high_pct", "0"))
        changes.append(change)
        if change < low:
            below += 1
        elif change > high:
            above += 1
        else:
            inside += 1
    count = below + inside + above
    return {
        "count": count,
        "inside": inside,
        "below": below,
        "above": above,
        "inside_pct": round(inside * 100 / count) if count else None,
        "median_change_pct": round(statistics.median(changes), 1) if changes else None,
    }
