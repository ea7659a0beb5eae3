"""The audit log of staff access to personal data (152-FZ art. 19): who opened which
lead's contacts and photos, downloaded an act, exported or erased someone's data.

Views that reveal personal data call `personal_data_access_record` (one INSERT, nothing
read); services that act on a whole subject (export, erasure) call
`personal_data_access_record_subject`. Managers read the log at /staff/access-log/; the
daily task `autoservice.tasks.access_log_prune` keeps ACCESS_LOG_RETENTION_DAYS of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .consent import client_ip
from .models import AccessAction, Membership, PersonalDataAccess, Shop

PAGE_SIZE = 50


def personal_data_access_record(
    *,
    request: HttpRequest,
    action: str,
    object_type: str = "",
    object_id: int | str | None = None,
    lead_number: int | None = None,
) -> PersonalDataAccess:
    """Record that the request's staff member (or API token) saw personal data.

    Staff views (after `staff_required`) carry `request.membership`; API views (after
    `api_token_required`) carry `request.api_token`. Both are already loaded, so this is a
    single INSERT.
    """
    token = getattr(request, "api_token", None)
    if token is not None:
        user, actor, via_api = None, token.name, True
    else:
        user = request.user
        actor, via_api = request.membership.display_name, False  # type: ignore[attr-defined]
    return PersonalDataAccess.objects.create(
        shop=request.shop,  # type: ignore[attr-defined]
        user=user,
        actor=actor[:150],
        via_api=via_api,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        lead_number=lead_number,
        ip_address=client_ip(request),
    )


def personal_data_access_record_subject(
    *,
    shop: Shop,
    by: Membership | None,
    action: str,
    object_type: str = "subject",
    object_id: int | str | None = None,
    ip: str | None = None,
    actor: str = "",
) -> PersonalDataAccess:
    """For actions on a whole person (AccessAction.SUBJECT_EXPORTED / SUBJECT_ERASED),
    from a view, a command or a task. `by` is the staff member, None for a command (then
    `actor` says who, e.g. "manage.py erase_subject"). `object_id` names what was made (the
    export, the destruction act), never the phone or e-mail itself."""
    return PersonalDataAccess.objects.create(
        shop=shop,
        user=by.user if by else None,
        actor=(by.display_name if by else actor or "система")[:150],
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        ip_address=ip or None,
    )


@dataclass(frozen=True)
class AccessFilters:
    user_id: int | None = None
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    lead_number: int | None = None


def access_log_page(
    *, shop: Shop, filters: AccessFilters, before_id: int | None = None
) -> tuple[list[PersonalDataAccess], int | None]:
    """A page of the shop's log, newest first, and the cursor of the next page (or None).
    One query whatever the page holds: each row names its actor itself."""
    queryset: QuerySet[PersonalDataAccess] = PersonalDataAccess.objects.filter(shop=shop)
    if filters.user_id:
        queryset = queryset.filter(user_id=filters.user_id)
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    tz = shop.tzinfo
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=tz)
        queryset = queryset.filter(created_at__gte=start)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        queryset = queryset.filter(created_at__lt=end)
    if filters.lead_number:
        queryset = queryset.filter(lead_number=filters.lead_number)
    if before_id:
        queryset = queryset.filter(id__lt=before_id)
    rows = list(queryset.order_by("-id")[: PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].pk if has_more else None)


def access_log_prune(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than ACCESS_LOG_RETENTION_DAYS; the number deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    deleted, _per_model = PersonalDataAccess.objects.filter(created_at__lt=cutoff).delete()
    return deleted


__all__ = [
    "AccessAction",
    "AccessFilters",
    "access_log_page",
    "access_log_prune",
    "personal_data_access_record",
    "personal_data_access_record_subject",
]
