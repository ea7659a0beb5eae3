"""The customer's offers (with what was chosen), their supplier orders and what they spent,
on the staff card; their offers on the driver's own page."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, Sum
from django.http import HttpRequest
from django.template.loader import render_to_string

from customers.models import Customer
from customers.panels import register_card_panel, register_driver_panel

from .models import CustomerOffer, OfferStatus, OfferVersion, SupplierOrder


def customer_spent_rub(customer: Customer) -> Decimal:
    """What the customer agreed to pay: the sum of their accepted offers."""
    total = OfferVersion.objects.filter(
        offer__lead__customer=customer,
        offer__shop_id=customer.shop_id,
        status=OfferStatus.ACCEPTED,
    ).aggregate(s=Sum("accepted_total_rub"))["s"]
    return total or Decimal("0.00")


def _chosen(version: OfferVersion) -> list[dict]:
    """The parts the driver picked, as lines to show."""
    lines = []
    for index, position in enumerate(version.positions or []):
        picked = (version.accepted_choice or {}).get(str(index))
        if picked is None:
            continue
        try:
            option = position["options"][int(picked)]
        except (IndexError, KeyError, TypeError, ValueError):
            continue
        lines.append(
            {
                "name": position.get("name") or option.get("name", ""),
                "brand": option.get("brand", ""),
                "number": option.get("number", ""),
                "label": option.get("label", ""),
                "price_rub": option.get("customer_rub", ""),
            }
        )
    return lines


def customer_offers(customer: Customer) -> list[dict]:
    offers = (
        CustomerOffer.objects.filter(lead__customer=customer, shop_id=customer.shop_id)
        .select_related("lead")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=OfferVersion.objects.exclude(status=OfferStatus.DRAFT).order_by("-number"),
            )
        )
        .order_by("-created_at")
    )
    rows = []
    for offer in offers:
        versions = list(offer.versions.all())
        if not versions:
            continue
        latest = versions[0]
        rows.append(
            {
                "offer": offer,
                "latest": latest,
                "chosen": _chosen(latest) if latest.status == OfferStatus.ACCEPTED else [],
            }
        )
    return rows


@register_card_panel
def offers_card_panel(request: HttpRequest, customer: Customer) -> str:
    rows = customer_offers(customer)
    orders = list(
        SupplierOrder.objects.filter(
            version__offer__lead__customer=customer, shop_id=customer.shop_id
        )
        .select_related("supplier", "version__offer__lead")
        .order_by("-id")
    )
    return render_to_string(
        "optima/customers/_card_offers.html",
        {"rows": rows, "orders": orders, "spent": customer_spent_rub(customer)},
        request=request,
    )


@register_driver_panel
def offers_driver_panel(request: HttpRequest, customer: Customer) -> str:
    rows = customer_offers(customer)
    if not rows:
        return ""
    return render_to_string(
        "optima/customers/_driver_offers.html",
        {"rows": rows, "shop": customer.shop},
        request=request,
    )
