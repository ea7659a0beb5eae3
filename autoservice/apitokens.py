"""Tokens for the shop's CRM: made once, stored as a hash, checked on every API call."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .http import json_error
from .models import ApiToken, Shop


def token_create(*, shop: Shop, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the token itself (shown to the manager once)."""
    raw = "sto_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        shop=shop,
        name=name,
        prefix=raw[:8],
        token_sha256=hashlib.sha256(raw.encode()).hexdigest(),
    )
    return token, raw


def api_token_for(raw: str) -> ApiToken | None:
    """The active token of an active shop (with its shop loaded), or None."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    token = (
        ApiToken.objects.select_related("shop").filter(token_sha256=digest, is_active=True).first()
    )
    if token is None or not token.shop.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def shop_for_token(raw: str) -> Shop | None:
    token = api_token_for(raw)
    return token.shop if token else None


def api_token_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`Authorization: Bearer <token>`; the view gets `request.shop`. 401 otherwise."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        scheme, _sep, raw = header.partition(" ")
        token = api_token_for(raw.strip()) if scheme.lower() == "bearer" and raw else None
        if token is None:
            response = json_error(
                "Нужен действующий токен: заголовок Authorization: Bearer <токен>.", 401
            )
            response["WWW-Authenticate"] = "Bearer"
            return response
        request.shop = token.shop
        # Named in the audit log of access to personal data.
        request.api_token = token
        return view(request, *args, **kwargs)

    return wrapper
