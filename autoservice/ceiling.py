"""The load test's ceiling: the cheapest page Django can serve from the database, one shop's
name by primary key, through the same nginx, gunicorn and middleware as every real page.
`make loadtest` compares the product's public pages with it; it is routed only when
LOADTEST_CEILING_VIEW is on (the load test's own stack), never in production."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from .models import Shop


def shop_name_by_pk(request: HttpRequest, pk: int) -> HttpResponse:
    # Deliberately unscoped and bare: a shop's public name, as its landing page shows it.
    name = Shop.objects.filter(pk=pk).values_list("name", flat=True).first()
    if name is None:
        raise Http404
    return HttpResponse(name, content_type="text/plain; charset=utf-8")
