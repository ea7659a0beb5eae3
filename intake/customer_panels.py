"""The customer's intake acts on the staff card and on the driver's own page."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from customers.models import Customer
from customers.panels import register_card_panel, register_driver_panel

from .models import IntakeRecord


def customer_acts(customer: Customer, *, sealed_only: bool = False) -> list[IntakeRecord]:
    records = IntakeRecord.objects.filter(
        lead__customer=customer, shop_id=customer.shop_id
    ).select_related("lead")
    if sealed_only:
        records = records.filter(sealed_at__isnull=False)
    return list(records.order_by("-created_at"))


@register_card_panel
def acts_card_panel(request: HttpRequest, customer: Customer) -> str:
    records = customer_acts(customer)
    if not records:
        return ""
    return render_to_string(
        "intake/customers/_card_acts.html", {"records": records}, request=request
    )


@register_driver_panel
def acts_driver_panel(request: HttpRequest, customer: Customer) -> str:
    records = [r for r in customer_acts(customer, sealed_only=True) if not r.personal_data_hidden]
    if not records:
        return ""
    return render_to_string(
        "intake/customers/_driver_acts.html",
        {"records": records, "shop": customer.shop},
        request=request,
    )
