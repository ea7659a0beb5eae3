"""Reads and small actions behind the staff customer card, the customers list and the
search from anywhere. (Matching, merging and routing are the customers services.)"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from autoservice.models import Membership, Shop
from autoservice.phones import format_phone

from .models import Car, Customer, CustomerEvent, CustomerPhone, EventKind

PAGE_SIZE = 50
SEARCH_LIMIT = 20

_LATIN_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")


def _plate_form(q: str) -> str:
    return re.sub(r"\s", "", q.upper()).translate(_LATIN_TO_CYRILLIC)


def _phone_digits(q: str) -> str:
    """The digits of what reads as a phone ("" otherwise), without the leading 7/8."""
    if not re.fullmatch(r"[\d\s()+\-.]+", q):
        return ""
    digits = re.sub(r"\D", "", q)
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    return digits if len(digits) >= 3 else ""


def customer_search_condition(q: str) -> Q:
    """Name, phone (only what reads as a phone), plate or VIN."""
    q = q.strip()
    condition = Q(name__icontains=q)
    digits = _phone_digits(q)
    if digits:
        condition |= Q(phones__phone__contains=digits)
    plate = _plate_form(q)
    if len(plate) >= 3:
        condition |= Q(cars__plate__contains=plate)
    vin = re.sub(r"\s", "", q.upper())
    if len(vin) >= 5 and vin.isalnum():
        condition |= Q(cars__vin__contains=vin)
    return condition


def _listed(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.select_related("manager__user").prefetch_related(
        Prefetch("phones", queryset=CustomerPhone.objects.order_by("-is_primary", "id")),
        Prefetch("cars", queryset=Car.objects.order_by("id")),
    )


def customer_list(
    *, shop: Shop, q: str = "", manager_id: int | None = None, page: int = 1
) -> tuple[list[Customer], bool]:
    """A page of the shop's customers (merged duplicates hidden), newest visit first, and
    whether there is a next page. Three queries whatever the page holds."""
    queryset = Customer.objects.filter(shop=shop, merged_into__isnull=True)
    if q.strip():
        ids = (
            Customer.objects.filter(shop=shop, merged_into__isnull=True)
            .filter(customer_search_condition(q))
            .values("pk")
        )
        queryset = queryset.filter(pk__in=ids)
    if manager_id:
        queryset = queryset.filter(manager_id=manager_id)
    queryset = _listed(queryset.annotate(lead_count=Count("leads", distinct=True))).order_by(
        "-last_seen_at", "-id"
    )
    start = (max(page, 1) - 1) * PAGE_SIZE
    rows = list(queryset[start : start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def customer_search(*, shop: Shop, q: str) -> list[Customer]:
    rows, _more = customer_list(shop=shop, q=q)
    return rows[:SEARCH_LIMIT]


def customer_card(shop: Shop) -> QuerySet[Customer]:
    """The shop's customers with what the card shows beside the panels."""
    return _listed(Customer.objects.filter(shop=shop)).select_related(
        "consent__text", "merged_into"
    )


def customer_events(customer: Customer, limit: int = 100) -> list[CustomerEvent]:
    return list(
        customer.events.select_related("actor__user").order_by("-created_at", "-id")[:limit]
    )


def shop_staff(shop: Shop) -> QuerySet[Membership]:
    return Membership.objects.filter(shop=shop).select_related("user").order_by("id")


# --- actions on the card -----------------------------------------------------------------


def _event(customer: Customer, kind: str, by: Membership | None, text: str, **data) -> None:
    CustomerEvent.objects.create(customer=customer, kind=kind, actor=by, text=text, data=data)


@transaction.atomic
def customer_contacts_update(
    *,
    customer: Customer,
    by: Membership,
    name: str,
    email: str,
    preferred_channel: str,
    manager: Membership | None,
) -> list[str]:
    """Saves what changed; each change is on the customer's timeline. Returns the changed
    field labels."""
    changed: list[str] = []
    labels = {
        "name": _("имя"),
        "email": _("e-mail"),
        "preferred_channel": _("предпочтительный канал"),
    }
    for field, value in (
        ("name", name),
        ("email", email),
        ("preferred_channel", preferred_channel),
    ):
        if getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.append(str(labels[field]))
    if changed:
        _event(
            customer,
            EventKind.CHANGED,
            by,
            _("Изменено: %(what)s.") % {"what": ", ".join(changed)},
            fields=changed,
        )
    if customer.manager_id != (manager.pk if manager else None):
        old = customer.manager
        customer.manager = manager
        text = _("Персональный менеджер: %(old)s → %(new)s") % {
            "old": old.display_name if old else "—",
            "new": manager.display_name if manager else "—",
        }
        _event(
            customer,
            EventKind.MANAGER,
            by,
            text,
            old=old.pk if old else None,
            new=manager.pk if manager else None,
        )
        changed.append(str(_("персональный менеджер")))
    if changed:
        customer.save(update_fields=["name", "email", "preferred_channel", "manager"])
    return changed


def customer_note_add(*, customer: Customer, by: Membership, text: str) -> CustomerEvent:
    return CustomerEvent.objects.create(
        customer=customer, kind=EventKind.NOTE, actor=by, text=text.strip()
    )


def phone_display(phone: str) -> str:
    return format_phone(phone)


# --- search from anywhere: sections other apps add (leads adds its requests) ---------------

SearchSection = Callable[[HttpRequest, str], str]
SEARCH_SECTIONS: list[SearchSection] = []


def register_search_section(section: SearchSection) -> SearchSection:
    """``section(request, q)`` returns the HTML of another app's matches (a fixed number of
    queries whatever it finds), or "" for none. Registered in the app's AppConfig.ready."""
    if section not in SEARCH_SECTIONS:
        SEARCH_SECTIONS.append(section)
    return section


def render_search_sections(request: HttpRequest, q: str) -> list[SafeString]:
    # Each section renders through Django's escaping templates, so its output is safe HTML.
    return [mark_safe(html) for section in SEARCH_SECTIONS if (html := section(request, q))]
