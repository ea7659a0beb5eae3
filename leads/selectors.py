"""Reads of leads that need care: scoping, filters, keyset pagination, few queries."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from autoservice.models import Membership, Shop
from autoservice.params import ParamError, datetime_param, id_param

from .models import Lead, LeadEvent, LeadPhoto
from .panels import Panel, register_panel
from .photos import photo_signed_url

PAGE_SIZE = 50
PERIODS = {"today": 0, "7d": 7, "30d": 30}


@dataclass(frozen=True)
class InboxFilters:
    status: str = ""
    channel: str = ""
    assignee: str = ""  # a membership id, "none" or "" for everyone
    period: str = ""
    q: str = ""

    @property
    def is_default(self) -> bool:
        return not any((self.status, self.channel, self.assignee, self.period, self.q))


def _encode_cursor(lead: Lead) -> str:
    return _cursor(lead.created_at, lead.pk)


def _cursor(when: dt.datetime, pk: int) -> str:
    raw = f"{when.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, *, name: str = "cursor") -> tuple[dt.datetime, int]:
    """The (created_at, id) a cursor names; a cursor the inbox did not make is a 400."""
    broken = ParamError(_("Ссылка на страницу списка повреждена: откройте входящие заново."))
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
    except (ValueError, UnicodeDecodeError):
        raise broken from None
    moment = datetime_param(when, name=name, tz=dt.UTC)
    number = id_param(pk, name=name)
    if moment is None or number is None:
        raise broken
    return moment, number


def _search(queryset: QuerySet[Lead], q: str) -> QuerySet[Lead]:
    q = q.strip()
    if not q:
        return queryset
    condition = Q(customer_name__icontains=q)
    digits = re.sub(r"\D", "", q)
    # Only what reads as a phone is looked for among phones: a plate fragment such as
    # «а123вс» must not list every driver whose number contains 123.
    if len(digits) >= 3 and re.fullmatch(r"[\d\s()+\-.]+", q):
        if len(digits) == 11 and digits[0] in "78":
            digits = digits[1:]
        condition |= Q(phone__contains=digits)
    plate = re.sub(r"\s", "", q.upper()).translate(str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ"))
    if len(plate) >= 3:
        condition |= Q(plate__contains=plate)
    return queryset.filter(condition)


def _inbox_rows(shop: Shop) -> QuerySet[Lead]:
    """The shop's leads with what an inbox row shows, in a fixed number of queries."""
    return (
        Lead.objects.filter(shop=shop)
        .select_related("assignee__user")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=LeadPhoto.objects.only("id", "lead_id", "thumb", "state", "position"),
            )
        )
    )


def inbox_row(shop: Shop, lead_id: int) -> QuerySet[Lead]:
    """One inbox row (the live inbox refreshes a row when its lead changes)."""
    return _inbox_rows(shop).filter(pk=lead_id)


def lead_list(
    *, shop: Shop, filters: InboxFilters, cursor: str = "", limit: int = PAGE_SIZE
) -> tuple[list[Lead], str]:
    """One page of the inbox, newest first, and the cursor of the next page ('' at the end)."""
    queryset = _inbox_rows(shop).order_by("-created_at", "-id")
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee.isascii() and filters.assignee.isdigit():
        queryset = queryset.filter(assignee_id=int(filters.assignee))
    if filters.period in PERIODS:
        local_midnight = shop.local_now().replace(hour=0, minute=0, second=0, microsecond=0)
        since = local_midnight - dt.timedelta(days=PERIODS[filters.period])
        queryset = queryset.filter(created_at__gte=since)
    queryset = _search(queryset, filters.q)
    position = _decode_cursor(cursor) if cursor else None
    if position is not None:
        when, pk = position
        queryset = queryset.filter(Q(created_at__lt=when) | Q(created_at=when, pk__lt=pk))
    leads = list(queryset[: limit + 1])
    next_cursor = _encode_cursor(leads[limit - 1]) if len(leads) > limit else ""
    return leads[:limit], next_cursor


def leads_newer_than(*, shop: Shop, filters: InboxFilters, newest: str) -> list[Lead]:
    """Leads that arrived after the newest one on the page (for the self-refreshing inbox)."""
    if not newest:
        return []
    when, pk = _decode_cursor(newest, name="newest")
    leads, _next = lead_list(shop=shop, filters=filters, limit=PAGE_SIZE)
    return [lead for lead in leads if (lead.created_at, lead.pk) > (when, pk)]


def newest_cursor(leads: list[Lead], *, listed_at: dt.datetime | None = None) -> str:
    """The cursor after which a lead is new to the page. An empty page counts from the
    moment it was listed: without it the first lead would never reach an empty inbox."""
    if leads:
        return _encode_cursor(leads[0])
    return _cursor(listed_at, 1) if listed_at else ""


def unread_count(shop: Shop) -> int:
    return Lead.objects.filter(shop=shop, opened_at__isnull=True).count()


def lead_staff(shop: Shop) -> QuerySet[Membership]:
    return shop.memberships.filter(user__is_active=True).select_related("user")


def lead_detail(shop: Shop, lead_id: int) -> QuerySet[Lead]:
    """The lead page's lead with everything it shows, in a fixed number of queries."""
    return (
        Lead.objects.filter(shop=shop, pk=lead_id)
        .select_related("assignee__user", "consent__text", "repeat_of")
        .prefetch_related(
            "photos",
            "repeats",
            Prefetch("events", queryset=LeadEvent.objects.select_related("actor__user")),
        )
    )


def lead_by_submission_key(*, shop: Shop, submission_key: uuid.UUID | str) -> Lead | None:
    """The lead a driver's form already made, found by the key its form token carries."""
    return Lead.objects.filter(shop=shop, submission_key=submission_key).first()


def photos_waiting(*, shop: Shop, upload_token: str) -> list[LeadPhoto]:
    """Photos uploaded for a form that is not sent yet, in the order the driver added them."""
    return list(
        LeadPhoto.objects.filter(shop=shop, upload_token=upload_token, lead__isnull=True).order_by(
            "position", "id"
        )
    )


def lead_panel_register(panel: Panel) -> Panel:
    """Add a read-only section to the lead page: ``panel(request, lead)`` returns the HTML
    of another app's records for that lead (an estimate, an offer, an intake record), or
    "" when it has none. Other apps call this from their ``AppConfig.ready``, so the
    leads app never imports them."""
    return register_panel(panel)


# --- the REST API (api/) ------------------------------------------------------------------

API_PHOTO_LINK_SECONDS = 3600


def leads_for_api(shop: Shop) -> QuerySet[Lead]:
    """The shop's leads for the API's list: one query per page, however long the page.

    The photo count is a subquery per row, not a GROUP BY: grouped, PostgreSQL would count
    the photos of every lead of the shop before taking the page; as a subquery it walks the
    (shop, -created_at, -id) index and counts only the page's rows."""
    photos = (
        LeadPhoto.objects.filter(lead=OuterRef("pk"))
        .order_by()
        .values("lead")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Lead.objects.filter(shop=shop)
        .select_related("assignee__user")
        .annotate(photo_count=Coalesce(Subquery(photos), 0))
        .order_by("-created_at", "-id")
    )


def leads_updated_since(queryset: QuerySet[Lead], since: dt.datetime) -> QuerySet[Lead]:
    """Leads with anything on their timeline (made, status, assignment, note…) since `since`."""
    return queryset.filter(
        Exists(LeadEvent.objects.filter(lead=OuterRef("pk"), created_at__gte=since))
    )


def lead_for_api(shop: Shop, lead_id: int) -> Lead | None:
    """One lead of the shop with its photos, consent and timeline, or None."""
    return (
        Lead.objects.filter(shop=shop, pk=lead_id)
        .select_related("assignee__user", "consent__text")
        .prefetch_related(
            Prefetch("photos", queryset=LeadPhoto.objects.order_by("position", "id")),
            Prefetch("events", queryset=LeadEvent.objects.select_related("actor__user")),
        )
        .first()
    )


def lead_photo_link(photo: LeadPhoto, kind: str) -> str:
    """A signed link to a photo's rendition (`web` or `thumb`) that works for an hour."""
    return photo_signed_url(photo, kind, max_age_s=API_PHOTO_LINK_SECONDS)
