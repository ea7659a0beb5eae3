"""Who calls the API: a shop's token, with its scopes and its own request budget."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import authentication, permissions, throttling
from rest_framework.request import Request

from autoservice.apitokens import token_for_raw
from autoservice.models import ApiScope, ApiToken, Shop

from .problems import Problem


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


class PerTokenThrottle(throttling.SimpleRateThrottle):
    """API_RATE_PER_MINUTE requests per token and minute, counted in the shared cache so that
    every web process sees the same budget."""

    scope = "api-token"

    def get_rate(self) -> str:
        return f"{settings.API_RATE_PER_MINUTE}/min"

    def allow_request(self, request, view) -> bool:
        # The rate is read per request so that a changed setting applies at once.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view) -> str | None:
        if not isinstance(request.user, ApiClient):
            return None
        return f"api-throttle:{request.user.token.pk}"
