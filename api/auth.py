"""Who calls the API: a shop's token, with its scopes and its own request budget."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _
from rest_framework import authentication, permissions, throttling
from rest_framework.request import Request

from autoservice.apitokens import token_for_raw
from autoservice.models import ApiScope, ApiToken, Shop

from .problems import Problem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiClient:
    """`request.user` of an API call: the shop's integration that holds the token."""

    token: ApiToken

    is_authenticated = True
    is_anonymous = False

    @property
    def shop(self) -> Shop:
        return self.token.shop


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer sto_…`; anything else that claims to be a token is a 401."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiToken] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _sep, raw = header.partition(" ")
        token = token_for_raw(raw.strip()) if scheme.lower() == self.keyword and raw else None
        if token is None:
            raise Problem(
                "unauthorized",
                _(
                    "Токен не подошёл: он неверный, отозван или истёк. Руководитель выпускает "
                    "новый в настройках автосервиса."
                ),
            )
        return ApiClient(token), token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no token came.
        return 'Bearer realm="api"'


class HasScope(permissions.BasePermission):
    """The view names the resource (`scope_resource = "leads"`); reads need `<resource>:read`,
    writes `<resource>:write`."""

    def has_permission(self, request: Request, view) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        resource = getattr(view, "scope_resource", None)
        if resource is None:
            return False
        action = "read" if request.method in permissions.SAFE_METHODS else "write"
        scope = f"{resource}:{action}"
        if not client.token.has_scope(scope):
            label = ApiScope(scope).label if scope in ApiScope.values else scope
            raise Problem(
                "forbidden",
                _("У токена нет права «%(scope)s» (%(code)s): выпустите токен с этим правом.")
                % {"scope": label, "code": scope},
            )
        return True


# The fixed window the per-token budget is counted in, in seconds.
THROTTLE_WINDOW = 60


def window_count(key: str, window: int = THROTTLE_WINDOW) -> int | None:
    """Count one more request under `key` and return the count, atomically across every web
    process: one Redis MULTI with INCR and EXPIRE (the key lives a little longer than its
    window). Without Redis (the embedded default) the local cache's add-then-incr, which is
    atomic within the process. None when the cache cannot be reached: the API then serves
    rather than fails (the budget protects the service, it guards no data)."""
    cache = caches["default"]
    full = cache.make_and_validate_key(key)
    try:
        if isinstance(cache, RedisCache):
            client = cache._cache.get_client(full, write=True)
            pipe = client.pipeline(transaction=True)
            pipe.incr(full)
            pipe.expire(full, window + 5)
            count, _expiry = pipe.execute()
            return int(count)
        cache.add(key, 0, timeout=window + 5)
        try:
            return cache.incr(key)
        except ValueError:  # gone between add and incr (evicted): this request starts anew
            cache.add(key, 1, timeout=window + 5)
            return 1
    except Exception:  # noqa: BLE001 - any outage of the cache
        logger.warning("api throttle: the cache did not answer; request let through")
        return None


class PerTokenThrottle(throttling.BaseThrottle):
    """API_RATE_PER_MINUTE requests per token and minute (a fixed window per calendar
    minute), counted atomically in the shared cache: of concurrent requests at the limit
    exactly the budget passes, in every web process together."""

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.user, ApiClient):
            return True
        now = time.time()
        slot = int(now // THROTTLE_WINDOW)
        self.retry_in = THROTTLE_WINDOW - (now - slot * THROTTLE_WINDOW)
        count = window_count(f"api-throttle:{request.user.token.pk}:{slot}")
        # The rate is read per request so that a changed setting applies at once.
        return count is None or count <= settings.API_RATE_PER_MINUTE

    def wait(self) -> float:
        return max(1, math.ceil(self.retry_in))
