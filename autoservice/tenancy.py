"""The one mechanism that scopes staff requests to the user's shop.

`ShopMiddleware` puts `request.membership` and `request.shop` on every request (None for
anonymous users and for users who are not staff of any shop). Staff views are wrapped in
`staff_required` / `manager_required`, and every shop-owned object is fetched with
`get_for_shop`, which answers 404 for another shop's object: never a 403 that would
confirm it exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .logcontext import log_bind
from .models import Membership, Shop

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponse]


def _membership_for(request: HttpRequest) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        membership = Membership.objects.select_related("shop").get(user=user)
    except Membership.DoesNotExist:
        return None
    return membership if membership.shop.is_active else None


class ShopMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cache: dict[str, Membership | None] = {}

        def membership() -> Membership | None:
            if "m" not in cache:
                cache["m"] = _membership_for(request)
            return cache["m"]

        request.membership = SimpleLazyObject(membership)  # type: ignore[attr-defined]
        request.shop = SimpleLazyObject(lambda: membership() and membership().shop)  # type: ignore[attr-defined]
        return self.get_response(request)


def staff_required(view: View) -> View:
    """Login required, and the user must be staff of an active shop.

    Activates the shop's time zone so that every time a staff page shows is local.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = _membership_for(request)
        if membership is None:
            raise PermissionDenied(_("Вы не сотрудник ни одного работающего автосервиса."))
        request.membership = membership  # type: ignore[attr-defined]
        log_bind(shop=membership.shop_id)
        request.shop = membership.shop  # type: ignore[attr-defined]
        timezone.activate(membership.shop.tzinfo)
        try:
            return view(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapper


def manager_required(view: View) -> View:
    """Staff of the shop with the manager role (settings, team, prices)."""

    @staff_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.is_manager:  # type: ignore[attr-defined]
            raise PermissionDenied(_("Этот раздел доступен только руководителю автосервиса."))
        return view(request, *args, **kwargs)

    return wrapper


def for_shop(queryset: models.QuerySet[M] | type[M], shop: Shop) -> models.QuerySet[M]:
    """Rows of one shop only."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return queryset.filter(shop=shop)


def get_for_shop(request: HttpRequest, queryset: models.QuerySet[M] | type[M], **lookup: Any) -> M:
    """The object of the request's shop, or 404 (also when it belongs to another shop)."""
    return get_object_or_404(for_shop(queryset, request.shop), **lookup)  # type: ignore[attr-defined]


def shop_context(request: HttpRequest) -> dict[str, Any]:
    """Templates see the staff member and the shop without every view passing them."""
    membership = getattr(request, "membership", None)
    if membership is None or not request.path.startswith("/staff/"):
        return {}
    from .outbox import outbox_backlog
    from .push import stream_url

    shop = request.shop
    return {
        "membership": membership,
        "staff_shop": shop,
        # Where an open page hears of changes ("" = it only polls).
        "push_url": stream_url(),
        # Read only by the staff layout's banner: one indexed query per full page.
        "notification_backlog": SimpleLazyObject(lambda: outbox_backlog(shop=shop)),
    }
