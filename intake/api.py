"""Intake records for the shop's CRM: `Authorization: Bearer <token>`, read-only JSON.

Documented for the shop's integrators in intake/API.md.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from autoservice.apitokens import api_token_required
from autoservice.http import json_error

from .export import record_json, record_queryset
from .models import Addendum

LIMIT_DEFAULT = 50
LIMIT_MAX = 200

# An unencoded "+" in a query string arrives as a space: "10:00:00 03:00".
_LOST_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


class BadParameter(ValueError):
    pass


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _positive_int(request: HttpRequest, name: str, default: int | None) -> int | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise BadParameter(f"Параметр {name} должен быть целым числом больше нуля, а не «{value}».")
    return int(value)


def _moment(request: HttpRequest, name: str, tz: dt.tzinfo) -> dt.datetime | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    value = _LOST_PLUS.sub(r"+\1", value)
    try:
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)) is not None:
            moment = dt.datetime.combine(day, dt.time())
    except ValueError:
        moment = None
    if moment is None:
        raise BadParameter(
            f"Параметр {name} — дата и время в ISO 8601, например 2026-03-01T09:00:00+03:00, "
            f"а не «{value}»."
        )
    return timezone.make_aware(moment, tz) if timezone.is_naive(moment) else moment


@require_GET
@never_cache
@api_token_required
def records(request: HttpRequest) -> JsonResponse:
    """The shop's records, newest first, a page at a time (`after` = last id of the page)."""
    shop = request.shop  # type: ignore[attr-defined]
    try:
        limit = min(_positive_int(request, "limit", LIMIT_DEFAULT), LIMIT_MAX)
        after = _positive_int(request, "after", None)
        since = _moment(request, "updated_since", shop.tzinfo)
        sealed = request.GET.get("sealed", "").strip()
        if sealed not in ("", "0", "1"):
            raise BadParameter(f"Параметр sealed может быть 1 или 0, а не «{sealed}».")
    except BadParameter as exc:
        return json_error(str(exc), 400)

    queryset = record_queryset().filter(shop=shop).order_by("-id")
    if after is not None:
        queryset = queryset.filter(id__lt=after)
    if sealed:
        queryset = queryset.filter(sealed_at__isnull=sealed == "0")
    if since is not None:
        queryset = queryset.filter(
            Q(created_at__gte=since)
            | Q(sealed_at__gte=since)
            | Q(return_record__created_at__gte=since)
            | Exists(Addendum.objects.filter(record=OuterRef("pk"), created_at__gte=since))
        )
    page = list(queryset[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    next_after = page[-1].pk if has_more else None
    next_url = None
    if next_after is not None:
        params = request.GET.copy()
        params["after"] = str(next_after)
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return _json(
        {
            "results": [record_json(record) for record in page],
            "has_more": has_more,
            "next_after": next_after,
            "next": next_url,
        }
    )


@require_GET
@never_cache
@api_token_required
def record(request: HttpRequest, record_id: int) -> JsonResponse:
    found = record_queryset().filter(shop=request.shop, pk=record_id).first()  # type: ignore[attr-defined]
    if found is None:
        return json_error(f"Акт с id {record_id} не найден в вашем автосервисе.", 404)
    return _json(record_json(found))
