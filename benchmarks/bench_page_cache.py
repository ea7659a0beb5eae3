"""The drivers' public pages with and without the page cache (autoservice/pagecache.py), each
against the bare get-by-PK page (autoservice/ceiling.py) measured in the same run through the
same middleware: the shop's landing page, the photo form, a calculator estimate and an offer.

Budget: from the cache, each page costs at most 4× the bare page in this process (the bare page
is one query; a cached page is one or two queries, one round trip to Redis and the tokens put
in), with a fixed number of queries. Through nginx and gunicorn, where every request pays the
same HTTP cost, `make loadtest` checks the issue's own budget: ≥ 60 % of the bare page's rps."""

from __future__ import annotations

import os

os.environ["LOADTEST_CEILING_VIEW"] = "true"

from common import median_ms, report, setup_django  # noqa: E402

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from autoservice.models import Shop  # noqa: E402
from optima.models import CustomerOffer  # noqa: E402
from smartcalc.models import Generation  # noqa: E402
from smartcalc.parts import parts_for_body  # noqa: E402

call_command("demo", verbosity=0, stdout=open(os.devnull, "w"))
shop = Shop.objects.get(slug="demo")
generation = Generation.objects.filter(model__name__icontains="Vesta").order_by("pk").first()
body = generation.body_types[0]
part = parts_for_body(body)[0].code
offer = CustomerOffer.objects.filter(shop=shop, versions__status__in=["sent", "accepted"]).first()
client = Client()

PAGES = {
    "landing": lambda: client.get(f"/s/{shop.slug}/"),
    "photo form": lambda: client.get(f"/s/{shop.slug}/photo/"),
    "calculator estimate": lambda: client.post(
        f"/s/{shop.slug}/calc/{generation.pk}/{body}/estimate/",
        {f"kind_{part}": "dent", f"size_{part}": "2"},
    ),
    "offer": lambda: client.get(f"/s/{shop.slug}/o/{offer.token}/"),
}


def timed(page) -> tuple[float, int]:
    assert page().status_code == 200
    reset_queries()  # the demo's queries filled the log: count from an empty one
    with CaptureQueriesContext(connection) as queries:
        page()
    return median_ms(page, repeat=200), len(queries)


ceiling_ms, _ceiling_queries = timed(lambda: client.get(f"/loadtest/ceiling/{shop.pk}/"))
report("bare get-by-PK page (baseline)", round(ceiling_ms, 2), "ms", "-", True)
for name, page in PAGES.items():
    with override_settings(PAGE_CACHE_SECONDS=0):
        rendered_ms, rendered_queries = timed(page)
    cached_ms, cached_queries = timed(page)
    ratio = cached_ms / ceiling_ms
    report(
        f"{name}: rendered each time",
        round(rendered_ms / ceiling_ms, 1),
        "× bare",
        f"({rendered_queries} queries)",
        True,
    )
    report(f"{name}: from the cache", round(ratio, 1), "× bare", "≤ 4", ratio <= 4)
    report(f"{name}: queries from the cache", cached_queries, "queries", "≤ 2", cached_queries <= 2)
