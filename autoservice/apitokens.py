"""Tokens for the shop's CRM: made once, stored as a hash, checked on every API call.

Each token carries scopes (what it may read or write, per resource) and may expire.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .http import json_error
from .models import ApiScope, ApiToken, Shop

# last_used_at is written at most this often per token: an integration polling every second
# must not turn every read into a write.
LAST_USE_RESOLUTION = dt.timedelta(minutes=1)


def token_create(
    *,
    shop: Shop,
    name: str,
    scopes: Iterable[str] = (ApiScope.INTAKE_READ,),
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token row and the token itself (shown to the manager once)."""
    wanted = set(scopes)
    unknown = wanted - set(ApiScope.values)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    raw = "sto_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        shop=shop,
        name=name,
        prefix=raw[:8],
        token_sha256=hashlib.sha256(raw.encode()).hexdigest(),
        scopes=[s for s in ApiScope.values if s in wanted],
        expires_at=expires_at,
    )
    return token, raw


def token_for_raw(raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The active, unexpired token of an active shop that `raw` is, with its shop; None
    otherwise. Notes the use."""
    if not raw or len(raw) > 200:
        return None
    now = now or timezone.now()
    digest = hashlib.sha256(raw.encode()).hexdigest()
    token = (
        ApiToken.objects.select_related("shop").filter(token_sha256=digest, is_active=True).first()
    )
    if token is None or not token.shop.is_active or token.is_expired(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, token: ApiToken) -> ApiToken:
    token.is_active = False
    token.save(update_fields=["is_active"])
    return token


def shop_for_token(raw: str, *, scope: str | None = None) -> Shop | None:
    token = token_for_raw(raw)
    if token is None or (scope is not None and not token.has_scope(scope)):
        return None
    return token.shop


def api_token_required(
    view: Callable[..., HttpResponse] | None = None, *, scope: str | None = None
):
    """`Authorization: Bearer <token>`; the view gets `request.shop`. 401 otherwise, 403 when
    the token lacks `scope`. Usable bare (`@api_token_required`) or with a scope."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            header = request.headers.get("Authorization", "")
            scheme, _sep, raw = header.partition(" ")
            token = token_for_raw(raw.strip()) if scheme.lower() == "bearer" and raw else None
            if token is None:
                response = json_error(
                    _("Нужен действующий токен: заголовок Authorization: Bearer <токен>."), 401
                )
                response["WWW-Authenticate"] = "Bearer"
                return response
            if scope is not None and not token.has_scope(scope):
                return json_error(
                    _("У токена нет права «%(scope)s»: выпустите токен с этим правом.")
                    % {"scope": ApiScope(scope).label},
                    403,
                )
            request.shop = token.shop
            request.api_token = token
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
