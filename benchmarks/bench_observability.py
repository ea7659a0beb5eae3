"""What observability costs a request: the request id and request-figure middlewares,
measured against the same page without them in the same run, and the time of a /metrics
scrape (its gauges read the outbox and the queues on every call)."""

from __future__ import annotations

from common import median_ms, report, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

OURS = (
    "autoservice.logcontext.RequestIdMiddleware",
    "autoservice.metrics.RequestMetricsMiddleware",
)
URL = "/healthz/live"
WITHOUT = [m for m in settings.MIDDLEWARE if m not in OURS]


def page_ms() -> float:
    # A new client per configuration: a client builds its middleware chain once.
    client = Client()
    assert ("X-Request-ID" in client.get(URL)) == (settings.MIDDLEWARE != WITHOUT)
    return median_ms(lambda: client.get(URL), repeat=3000, warmup=200)


with override_settings(MIDDLEWARE=WITHOUT):
    baseline_ms = page_ms()
observed_ms = page_ms()
# The baseline once more, after: a machine shared with others drifts during a run.
with override_settings(MIDDLEWARE=WITHOUT):
    baseline_ms = min(baseline_ms, page_ms())

overhead_us = round((observed_ms - baseline_ms) * 1000, 1)
ratio = observed_ms / baseline_ms
print(f"{URL}: {baseline_ms:.3f} ms without, {observed_ms:.3f} ms with (×{ratio:.2f})")
report("request id + request figures: overhead", overhead_us, "µs", "≤ 150", overhead_us <= 150)
report("request id + request figures: ratio", round(ratio, 2), "×", "≤ 1.5", ratio <= 1.5)

scraper = Client()
scrape_ms = median_ms(lambda: scraper.get("/metrics"), repeat=200, warmup=10)
report("/metrics scrape", round(scrape_ms, 2), "ms", "≤ 50", scrape_ms <= 50)
