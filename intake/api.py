"""Intake records for the shop's CRM: `Authorization: Bearer <token>`, read-only JSON.

Documented for the shop's integrators in intake/API.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from autoservice.access import AccessAction, personal_data_access_record
from autoservice.apitokens import api_token_required
from autoservice.http import json_error
from autoservice.params import ParamError, datetime_param, id_param, int_param

from .export import record_json, record_queryset
from .models import Addendum

LIMIT_DEFAULT = 50
LIMIT_MAX = 200
# RFC 9745: deprecated since REST API v1 (api/) serves the records at /api/v1/intake/records/;
# kept for one more release.
DEPRECATED_SINCE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _deprecated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every answer, refusals too, says this path is deprecated and names its successor."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Deprecation"] = f"@{int(DEPRECATED_SINCE.timestamp())}"
        response["Link"] = (
            f'<{request.build_absolute_uri("/api/v1/intake/records/")}>; rel="successor-version"'
        )
        return response

    return wrapper


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


@_deprecated
@require_GET
@never_cache
@api_token_required(scope="intake:read")
def records(request: HttpRequest) -> JsonResponse:
    """The shop's records, newest first, a page at a time (`after` = last id of the page)."""
    shop = request.shop  # type: ignore[attr-defined]
    try:
        # More than LIMIT_MAX is read as LIMIT_MAX (as documented), not refused.
        limit = min(
            int_param(request.GET.get("limit"), name="limit", min=1, default=LIMIT_DEFAULT),
            LIMIT_MAX,
        )
        after = id_param(request.GET.get("after"), name="after")
        since = datetime_param(
            request.GET.get("updated_since"), name="updated_since", tz=shop.tzinfo
        )
        sealed = request.GET.get("sealed", "").strip()
        if sealed not in ("", "0", "1"):
            raise ParamError(
                _("Параметр sealed может быть 1 или 0, а не «%(value)s».") % {"value": sealed[:40]}
            )
    except ParamError as exc:
        return json_error(exc.message, 400)

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
    # One entry per page the CRM pulls, naming the records it got.
    personal_data_access_record(
        request=request,
        action=AccessAction.API_INTAKE,
        object_type="intake_record",
        object_id=",".join(str(r.pk) for r in page)[:40],
    )
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


@_deprecated
@require_GET
@never_cache
@api_token_required(scope="intake:read")
def record(request: HttpRequest, record_id: int) -> JsonResponse:
    found = record_queryset().filter(shop=request.shop, pk=record_id).first()  # type: ignore[attr-defined]
    if found is None:
        return json_error(
            _("Акт с id %(id)s не найден в вашем автосервисе.") % {"id": record_id}, 404
        )
    personal_data_access_record(
        request=request,
        action=AccessAction.API_INTAKE,
        object_type="intake_record",
        object_id=found.pk,
    )
    return _json(record_json(found))
