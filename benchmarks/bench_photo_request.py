"""A driver's 10-photo request (3 MB photos, the form without JavaScript) sent to a real
gunicorn on loopback: time until the redirect, and no rendition made inside the request."""

from __future__ import annotations

import http.client
import re
import statistics
import time

from common import gunicorn_start, multipart, photo_3mb, report, setup_django

setup_django()


from autoservice.models import Shop  # noqa: E402
from leads.models import Lead, LeadPhoto  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/3"  # tasks are queued here and never run: no worker


shop, _ = Shop.objects.get_or_create(
    slug="bench-photo", defaults={"name": "Бенчмарк: фото", "phone": "+74950000000"}
)
photos = [photo_3mb(i) for i in range(10)]
print(f"photo size: {statistics.mean(len(p) for p in photos) / 1e6:.2f} MB each", flush=True)
server, port, media = gunicorn_start(redis_url=REDIS_URL, timeout_s=60)
try:
    timings = []
    lead_ids = []
    for attempt in range(6):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", f"/s/{shop.slug}/photo/")
        page = conn.getresponse().read().decode()
        token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
        body, content_type = multipart(
            {
                "form_token": token,
                "description": "Вмятина на двери",
                "vehicle_make": "Kia",
                "vehicle_model": "Rio",
                "vehicle_year": "2019",
                "customer_name": "Бенчмарк",
                "phone": f"+7912{attempt:07d}",
                "preferred_contact": "call",
                "consent": "on",
            },
            [(f"IMG_{i}.jpg", content) for i, content in enumerate(photos)],
        )
        started = time.perf_counter()
        conn.request(
            "POST", f"/s/{shop.slug}/photo/", body=body, headers={"Content-Type": content_type}
        )
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status == 302, response.status
        token_in_location = response.getheader("Location").rstrip("/").rsplit("/", 1)[-1]
        lead_ids.append(Lead.objects.get(shop=shop, public_token=token_in_location).pk)
        if attempt:  # the first request warms the worker up
            timings.append(elapsed)
        conn.close()
    ms = statistics.median(timings)
    report("10-photo request (3 MB each), loopback", round(ms, 1), "ms", "≤ 600", ms <= 600)
    made = LeadPhoto.objects.filter(lead_id__in=lead_ids).exclude(state="processing").count()
    total = LeadPhoto.objects.filter(lead_id__in=lead_ids).count()
    report(
        "renditions made inside the request", made, f"of {total}", "0", made == 0 and total == 60
    )
finally:
    server.terminate()
    server.wait(timeout=10)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    import shutil

    shutil.rmtree(media, ignore_errors=True)
