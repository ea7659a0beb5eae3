"""The customer's estimates on the staff card and on the driver's own page."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from django.template.loader import render_to_string

from customers.models import Customer
from customers.panels import register_card_panel, register_driver_panel

from .models import Estimate, EstimateVersion


def customer_estimates(customer: Customer) -> list[Estimate]:
    """Newest first, each with its versions (the latest total is what the driver last saw)."""
    return list(
        Estimate.objects.filter(lead__customer=customer, shop_id=customer.shop_id)
        .select_related("generation__model__make", "lead")
        .prefetch_related(
            Prefetch("versions", queryset=EstimateVersion.objects.order_by("-number"))
        )
        .order_by("-created_at")
    )


def _rows(customer: Customer) -> list[dict]:
    rows = []
    for estimate in customer_estimates(customer):
        versions = list(estimate.versions.all())
        if not versions:
            continue
        rows.append({"estimate": estimate, "latest": versions[0], "first": versions[-1]})
    return rows


@register_card_panel
def estimates_card_panel(request: HttpRequest, customer: Customer) -> str:
    rows = _rows(customer)
    if not rows:
        return ""
    return render_to_string(
        "smartcalc/customers/_card_estimates.html", {"rows": rows}, request=request
    )


@register_driver_panel
def estimates_driver_panel(request: HttpRequest, customer: Customer) -> str:
    rows = _rows(customer)
    if not rows:
        return ""
    return render_to_string(
        "smartcalc/customers/_driver_estimates.html",
        {"rows": rows, "shop": customer.shop},
        request=request,
    )
