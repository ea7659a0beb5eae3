"""The calculator: an estimate of 10 damaged parts through the view on PostgreSQL (server
time, queries against 1 part), the same with live supplier prices on (against the same car
with them off, measured in the same run), and the weight of the calculator page on a phone."""

from __future__ import annotations

import gzip
import re

from common import median_ms, report, setup_django

setup_django()

from django.contrib.staticfiles import finders  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from autoservice.models import Shop  # noqa: E402
from smartcalc.loader import load_calc_data  # noqa: E402
from smartcalc.models import Generation  # noqa: E402

load_calc_data()
shop, _ = Shop.objects.get_or_create(slug="bench-calc", defaults={"name": "Бенчмарк: калькулятор"})
generation = Generation.objects.get(
    model__make__name="Hyundai", model__name="Solaris", popular=True
)
url = f"/s/{shop.slug}/calc/{generation.pk}/sedan/estimate/"
TEN = {
    "bumper_front": ("crack", "2"),
    "bonnet": ("dent", "1"),
    "wing_front_left": ("dent", "2"),
    "door_front_left": ("dent", "4"),
    "door_rear_left": ("scratch", "2"),
    "quarter_left": ("dent", "1"),
    "headlamp_left": ("broken", "2"),
    "mirror_left": ("scratch", "1"),
    "wheel_front_left": ("scratch", "1"),
    "windscreen": ("crack", "1"),
}


def form(parts: dict) -> dict:
    data = {}
    for code, (kind, size) in parts.items():
        data[f"kind_{code}"] = kind
        data[f"size_{code}"] = size
    return data


client = Client()
ten = form(TEN)
one = form(dict(list(TEN.items())[:1]))
response = client.post(url, ten)
assert response.status_code == 200 and b"data-total" in response.content, response.content[:500]
ms = median_ms(lambda: client.post(url, ten), repeat=100)
with CaptureQueriesContext(connection) as q_ten:
    client.post(url, ten)
with CaptureQueriesContext(connection) as q_one:
    client.post(url, one)
report("estimate of 10 parts via the view", round(ms, 2), "ms", "≤ 30", ms <= 30)
report(
    "estimate queries, 10 parts (1 part)",
    f"{len(q_ten)} ({len(q_one)})",
    "queries",
    "same",
    len(q_ten) == len(q_one),
)

# Live supplier prices: a shop that shows drivers its suppliers' prices, a car whose parts
# have OEM numbers (the VW Polo sedan), each number answered by three suppliers an hour ago,
# among 20,000 other stored answers. Against the same request from a shop that did not opt in.
import datetime as dt  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from django.utils import timezone  # noqa: E402

from optima.models import KnownPrice, PricingSettings, Supplier  # noqa: E402
from smartcalc import techdata  # noqa: E402
from smartcalc.models import ShopPartPrice  # noqa: E402

polo = Generation.objects.get(model__make__name="Volkswagen", model__name="Polo", name="седан")
polo_url_for = lambda s: f"/s/{s.slug}/calc/{polo.pk}/sedan/estimate/"  # noqa: E731
live_shop, _ = Shop.objects.get_or_create(
    slug="bench-calc-live", defaults={"name": "Бенчмарк: живые цены"}
)
plain_shop, _ = Shop.objects.get_or_create(
    slug="bench-calc-plain", defaults={"name": "Бенчмарк: без живых цен"}
)
PricingSettings.objects.update_or_create(
    shop=live_shop, defaults={"show_supplier_prices_to_drivers": True}
)
PricingSettings.objects.update_or_create(
    shop=plain_shop, defaults={"show_supplier_prices_to_drivers": False}
)
numbers = [
    p.oem_number
    for p in techdata.prices_for(plain_shop, polo.model, generation=polo).values()
    if p.oem_number
]
KnownPrice.objects.filter(supplier__shop__in=[live_shop, plain_shop]).delete()
fresh = timezone.now() - dt.timedelta(hours=1)
rnd = random.Random(13)


def answer(number: str, price: int) -> list[dict]:
    base = {
        "supplier": "1",
        "name": "Деталь",
        "currency_raw": "RUB",
        "qty": 3,
        "qty_min": 0,
        "qty_on_order": False,
        "multiple": 1,
        "min_qty": 1,
        "delivery_days_min": 1,
        "delivery_days_max": 2,
        "condition": "new",
        "fetched_at": fresh.isoformat(),
    }
    return [
        {
            **base,
            "brand": "VAG",
            "brand_raw": "VAG",
            "number_key": number,
            "number_raw": number,
            "is_cross": False,
            "quality": "original",
            "price_rub": str(price),
        },
        {
            **base,
            "brand": "SAT",
            "brand_raw": "SAT",
            "number_key": "ST" + number,
            "number_raw": "ST" + number,
            "is_cross": True,
            "quality": "aftermarket",
            "price_rub": str(price // 3),
        },
    ]


rows = []
for index in range(3):
    for shop_row in (live_shop, plain_shop):
        supplier, _ = Supplier.objects.get_or_create(
            shop=shop_row, name=f"Бенчмарк {index}", defaults={"kind": "abcp"}
        )
        for number in numbers:
            rows.append(
                KnownPrice(
                    supplier=supplier,
                    number_key=number,
                    fetched_at=fresh,
                    offers=answer(number, rnd.randrange(5000, 60000)),
                )
            )
        for n in range(20_000 // 6):
            other = f"X{index}{n:06d}"
            rows.append(
                KnownPrice(
                    supplier=supplier,
                    number_key=other,
                    fetched_at=fresh,
                    offers=answer(other, 1000),
                )
            )
KnownPrice.objects.bulk_create(rows, batch_size=2000)
ShopPartPrice.objects.filter(shop__in=[live_shop, plain_shop]).delete()
live_url, plain_url = polo_url_for(live_shop), polo_url_for(plain_shop)
live_html = client.post(live_url, ten).content.decode()
supplier_lines = live_html.count('data-source="supplier"')
assert supplier_lines >= 2, live_html[:2000]
print(f"parts priced by suppliers: {supplier_lines}")
assert 'data-source="supplier"' not in client.post(plain_url, ten).content.decode()
# Interleaved, so that a busy machine slows both alike.
samples: dict[str, list[float]] = {"plain": [], "live": []}
for _ in range(3):
    client.post(plain_url, ten)
    client.post(live_url, ten)
for _ in range(100):
    for key, target in (("plain", plain_url), ("live", live_url)):
        started = time.perf_counter()
        client.post(target, ten)
        samples[key].append((time.perf_counter() - started) * 1000)
plain_ms = statistics.median(samples["plain"])
live_ms = statistics.median(samples["live"])
with CaptureQueriesContext(connection) as q_live:
    client.post(live_url, ten)
with CaptureQueriesContext(connection) as q_plain:
    client.post(plain_url, ten)
report("estimate of 10 parts, live supplier prices", round(live_ms, 2), "ms", "≤ 30", live_ms <= 30)
ratio = live_ms / plain_ms
report(f"  ratio to prices off ({plain_ms:.2f} ms)", round(ratio, 2), "×", "≤ 1.5", ratio <= 1.5)
report(
    "  queries with live prices (off)",
    f"{len(q_live)} ({len(q_plain)})",
    "queries",
    "+ ≤ 4",
    len(q_live) - len(q_plain) <= 4,
)

# Page weight: the HTML and every stylesheet, script and inline SVG it loads, gzip-compressed
# as WhiteNoise serves them.
page = client.get(f"/s/{shop.slug}/calc/{generation.pk}/sedan/")
html = page.content
total = len(gzip.compress(html, 9))
assets = re.findall(rb'(?:href|src)="/static/([^"]+\.(?:css|js))"', html)
for asset in assets:
    path = finders.find(asset.decode())
    assert path, asset
    total += len(gzip.compress(open(path, "rb").read(), 9))
kb = total / 1024
print(f"assets: {[a.decode() for a in assets]}")
report("calculator page weight (gzip)", round(kb, 1), "KB", "≤ 250", kb <= 250)
