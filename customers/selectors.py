"""Reads about customers for the staff card, the search and the duplicates list. Every
read is scoped by the shop; a merged customer is found through the one it lives in."""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from autoservice.models import Membership, Shop

from .models import Car, Customer, CustomerPhone, DuplicateProposal, DuplicateStatus
from .services import customer_live, plate_clean

SEARCH_LIMIT = 50


def customer_get(*, shop: Shop, pk: int) -> Customer:
    """The shop's customer (another shop's is DoesNotExist: the view answers 404); a merged
    one resolves to the customer it was merged into."""
    return customer_live(Customer.objects.select_related("manager__user").get(shop=shop, pk=pk))


def customer_by_phone(*, shop: Shop, phone: str) -> Customer | None:
    """`phone` normalised (E.164)."""
    found = CustomerPhone.objects.select_related("customer").filter(shop=shop, phone=phone).first()
    return customer_live(found.customer) if found else None


def duplicates_open(shop: Shop) -> QuerySet[DuplicateProposal]:
    return (
        DuplicateProposal.objects.filter(shop=shop, status=DuplicateStatus.OPEN)
        .select_related("customer_a", "customer_b")
        .prefetch_related("customer_a__phones", "customer_b__phones")
        .order_by("-created_at", "-id")
    )


def customer_history(customer: Customer) -> QuerySet:
    """Every request of the customer (its own and those of customers merged into it), newest
    first, with car and assignee. Lead rows reached through the reverse relation: this app
    sits below leads and does not import it."""
    ids = [customer.pk, *customer_merged_ids(customer)]
    leads = customer.leads.model._default_manager
    return (
        leads.filter(shop_id=customer.shop_id, customer_id__in=ids)
        .select_related("car", "assignee__user")
        .order_by("-created_at", "-id")
    )


def customer_merged_ids(customer: Customer) -> list[int]:
    """The customers merged into this one, at any depth."""
    found: list[int] = []
    frontier = [customer.pk]
    while frontier:
        frontier = list(
            Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = [pk for pk in frontier if pk not in found]
        found += frontier
    return found


def customer_events(customer: Customer) -> QuerySet:
    return customer.events.select_related("actor__user").order_by("-created_at", "-id")


def customers_search(shop: Shop, q: str, *, limit: int = SEARCH_LIMIT) -> QuerySet[Customer]:
    """By phone digits (four or more, as typed: 8 912…, +7 912…, 912…), by name, by plate (in
    any of the alphabets drivers type it) or by VIN. Merged customers are left out: their
    phones and cars now belong to the one they were merged into."""
    q = (q or "").strip()
    base = Customer.objects.filter(shop=shop, merged_into__isnull=True)
    if not q:
        return base.none()
    match = Q(name__icontains=q)
    digits = re.sub(r"\D", "", q)
    reads_as_phone = bool(re.fullmatch(r"[\d\s()+\-.]+", q)) and len(digits) >= 4
    if reads_as_phone:
        if len(digits) == 11 and digits[0] in "78":
            digits = digits[1:]
        match |= Q(phones__phone__contains=digits)
    compact = re.sub(r"[\s\-]", "", q.upper())
    if len(compact) >= 3 and not reads_as_phone:
        plate = plate_clean(compact)
        match |= Q(cars__plate__icontains=plate) | Q(cars__vin__icontains=compact)
    elif len(compact) >= 3:
        match |= Q(cars__vin__icontains=compact)
    ids = base.filter(match).values("pk").distinct()
    return (
        Customer.objects.filter(pk__in=ids)
        .select_related("manager__user")
        .prefetch_related(
            Prefetch("phones", queryset=CustomerPhone.objects.order_by("-is_primary", "id")),
            Prefetch("cars", queryset=Car.objects.order_by("id")),
        )
        .order_by("-last_seen_at", "-id")[:limit]
    )


def customers_of_manager(*, shop: Shop, member: Membership) -> QuerySet[Customer]:
    return (
        Customer.objects.filter(shop=shop, manager=member, merged_into__isnull=True)
        .prefetch_related("phones", "cars")
        .order_by("name", "id")
    )
