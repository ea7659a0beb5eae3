"""The analytics page of a shop with 100,000 leads and their timelines, offers, supplier
answers and deliveries (a year of history, built by the demo's generator and rolled up by
the same `facts_rebuild` that Celery beat runs): server time and queries for the default
90 days and for the whole year, against a bare Django view (`/healthz/live`, the same
middleware) measured in the same run."""

from __future__ import annotations

import datetime as dt
import time

from common import median_ms, report, setup_django

setup_django()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from analytics.demo import history_generate  # noqa: E402
from analytics.models import LeadFact  # noqa: E402
from analytics.services import facts_rebuild  # noqa: E402
from autoservice.models import Membership, Role, Shop  # noqa: E402
from leads.models import Lead  # noqa: E402
from optima.models import Supplier  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

TOTAL = 100_000
DAYS = 365
BUDGET_MS = 300
BUDGET_QUERIES = 15

shop, _ = Shop.objects.get_or_create(
    slug="bench-analytics", defaults={"name": "Бенчмарк: аналитика"}
)
manager = Membership.objects.filter(shop=shop, role=Role.MANAGER).first()
if manager is None:
    # Named after the shop: other benchmarks make staff in the same database too.
    manager = Membership.objects.create(
        user=UserFactory(username="analytics-manager@bench.local"), shop=shop, role=Role.MANAGER
    )
    for n in range(4):
        Membership.objects.create(
            user=UserFactory(username=f"analytics-advisor{n}@bench.local"),
            shop=shop,
            role=Role.ADVISOR,
        )
    for name in ("Бенч-АБЦП", "Бенч-Армтек", "Бенч-прайс"):
        Supplier.objects.create(shop=shop, name=name, kind="pricelist")
if not Lead.objects.filter(shop=shop).exists():
    started = time.monotonic()
    advisors = list(shop.memberships.filter(role=Role.ADVISOR).order_by("pk"))
    suppliers = list(Supplier.objects.filter(shop=shop).order_by("pk"))
    made = history_generate(shop, advisors, suppliers, timezone.now(), days=DAYS, scale=30.2)
    print(f"history: {made} leads in {time.monotonic() - started:.0f} s", flush=True)
if LeadFact.objects.filter(shop=shop).count() != Lead.objects.filter(shop=shop).count():
    started = time.monotonic()
    facts_rebuild(shop=shop)
    print(f"rollups rebuilt in {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE analytics_leadfact; ANALYZE analytics_offerpick; "
            "ANALYZE analytics_supplierday; ANALYZE analytics_estimatecheck"
        )
leads = Lead.objects.filter(shop=shop).count()
print(f"shop with {leads} leads", flush=True)

client = Client()
client.force_login(manager.user)
bare_ms = median_ms(lambda: client.get("/healthz/live"), repeat=40)
today = timezone.localdate()
for name, params in [
    ("analytics page, 90 days", {}),
    (
        "analytics page, the whole year",
        {"from": (today - dt.timedelta(days=DAYS)).isoformat(), "to": today.isoformat()},
    ),
]:
    response = client.get("/staff/analytics/", params)
    assert response.status_code == 200, response.status_code
    ms = median_ms(lambda p=params: client.get("/staff/analytics/", p), repeat=15)
    with CaptureQueriesContext(connection) as queries:
        client.get("/staff/analytics/", params)
    report(f"{name}: server time", round(ms, 1), "ms", f"≤ {BUDGET_MS}", ms <= BUDGET_MS)
    report(f"{name}: × bare view", round(ms / bare_ms, 1), "×", "—", True)
    report(
        f"{name}: SQL queries",
        len(queries),
        "queries",
        f"≤ {BUDGET_QUERIES}",
        len(queries) <= BUDGET_QUERIES,
    )
print(f"bare view (/healthz/live): {bare_ms:.1f} ms", flush=True)
