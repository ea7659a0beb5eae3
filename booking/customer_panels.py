"""The customer's visits on the staff card; on the driver's own page, where their current
request stands (the same steps as the request's own page) and their visit."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from customers.models import Customer
from customers.panels import register_card_panel, register_driver_panel
from leads.models import Status

from .models import Booking
from .selectors import booking_for_lead, lead_progress


@register_card_panel
def visits_card_panel(request: HttpRequest, customer: Customer) -> str:
    visits = list(
        Booking.objects.filter(lead__customer=customer, shop_id=customer.shop_id)
        .select_related("lead")
        .order_by("-starts_at")
    )
    if not visits:
        return ""
    return render_to_string(
        "booking/customers/_card_visits.html", {"visits": visits}, request=request
    )


@register_driver_panel
def current_request_driver_panel(request: HttpRequest, customer: Customer) -> str:
    """The newest request that is still open (or the newest one at all)."""
    leads = list(
        customer.leads.filter(consent_withdrawn_at__isnull=True).order_by("-created_at")[:5]
    )
    if not leads:
        return ""
    open_leads = [lead for lead in leads if lead.status not in (Status.WON, Status.LOST)]
    lead = open_leads[0] if open_leads else leads[0]
    return render_to_string(
        "booking/customers/_driver_current.html",
        {
            "lead": lead,
            "progress": lead_progress(lead),
            "booking": booking_for_lead(lead),
            "shop": customer.shop,
        },
        request=request,
    )
