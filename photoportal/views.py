from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from autoservice.models import Shop


def _get_public_shop(slug: str) -> Shop:
    """An active shop by its public slug; unknown or closed shops are a branded 404."""
    return get_object_or_404(Shop, slug=slug, is_active=True)


def shop_page(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _get_public_shop(slug)
    return render(request, "photoportal/shop_page.html", {"shop": shop})


def shop_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The shop's logo is public branding, served by the app (other media stay private)."""
    shop = _get_public_shop(slug)
    if not shop.logo:
        raise Http404
    return FileResponse(shop.logo.open("rb"))
