"""The calculator: an estimate of 10 damaged parts through the view on PostgreSQL (server
time, queries against 1 part), and the weight of the calculator page on a phone."""

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
