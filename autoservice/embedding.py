"""Embedding a shop's driver pages in the shop's own website: which sites may frame them.

A shop setting (Shop.embed_origins), applied to every public page of every app the driver
sees (the photo form, the calculator, their thank-you pages), so it lives with the shop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_exempt


def shop_frame_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Driver pages may be framed only by the sites the shop listed (CSP frame-ancestors).

    The view sets `request.public_shop` to the shop it shows; a page without a shop (a 404)
    may be framed by nobody but this site.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        response = view(request, slug, *args, **kwargs)
        shop = getattr(request, "public_shop", None)
        origins = " ".join(shop.embed_origin_list) if shop else ""
        response["Content-Security-Policy"] = f"frame-ancestors 'self' {origins}".strip()
        if not origins:
            response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return xframe_options_exempt(wrapper)
