"""What the leads app adds around customers: the requests section of the customer card,
the customer box on the lead page, and the requests found by the search from anywhere."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from django.template.loader import render_to_string

from customers.card import register_search_section
from customers.models import Customer
from customers.panels import register_card_panel

from .models import Lead, LeadPhoto, PhotoState
from .panels import register_panel
from .selectors import InboxFilters, lead_list

SEARCH_LIMIT = 20


def customer_leads(customer: Customer) -> list[Lead]:
    """The customer's requests, newest first, with ready thumbnails (two queries)."""
    return list(
        customer.leads.select_related("assignee__user", "car")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=LeadPhoto.objects.filter(state=PhotoState.READY).only(
                    "id", "lead_id", "thumb", "state", "position", "original_name"
                ),
            )
        )
        .order_by("-created_at", "-id")
    )


@register_card_panel
def requests_card_panel(request: HttpRequest, customer: Customer) -> str:
    return render_to_string(
        "leads/customers/_card_requests.html",
        {"leads": customer_leads(customer)},
        request=request,
    )


@register_panel
def customer_lead_panel(request: HttpRequest, lead: Lead) -> str:
    """On the lead page: who this is, how often they came, and their personal manager."""
    if lead.customer_id is None:
        return ""
    customer = (
        Customer.objects.select_related("manager__user")
        .filter(pk=lead.customer_id, shop_id=lead.shop_id)
        .first()
    )
    if customer is None:
        return ""
    return render_to_string(
        "leads/customers/_lead_customer.html",
        {"customer": customer, "lead": lead, "lead_count": customer.leads.count()},
        request=request,
    )


@register_search_section
def leads_search_section(request: HttpRequest, q: str) -> str:
    leads, _next = lead_list(shop=request.shop, filters=InboxFilters(q=q), limit=SEARCH_LIMIT)
    return render_to_string(
        "leads/customers/_search_leads.html", {"leads": leads, "q": q}, request=request
    )
