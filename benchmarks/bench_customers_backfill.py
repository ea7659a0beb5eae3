"""The customers backfill (leads/migrations/0008) on 100,000 leads of one shop: 60,000
drivers, a third with a plate, some coming back with a second car. Baseline, in the same
run: one plain UPDATE that touches every one of those leads (the least any backfill that
links each lead must write). The run is rolled back, so it measures the same thing every
time."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import time

from common import report, setup_django

setup_django()

from django.apps import apps  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from autoservice.models import Shop  # noqa: E402
from leads.models import Lead  # noqa: E402

TOTAL = 100_000
PEOPLE = 60_000
BUDGET_S = 120.0
BUDGET_RATIO = 4.0
migration = importlib.import_module("leads.migrations.0008_backfill_customers")

shop, _ = Shop.objects.get_or_create(slug="bench-customers", defaults={"name": "Бенчмарк: клиенты"})
have = Lead.objects.filter(shop=shop).count()
if have < TOTAL:
    print(f"creating {TOTAL - have} leads…", flush=True)
    rnd = random.Random(18)
    now = timezone.now()
    letters = "АВЕКМНОРСТУХ"
    batch = []
    for number in range(have + 1, TOTAL + 1):
        person = rnd.randrange(PEOPLE)
        second_car = rnd.random() < 0.1
        plate = (
            f"{letters[person % 12]}{person % 1000:03d}{letters[(person // 12) % 12]}"
            f"{letters[(person // 144) % 12]}77"
            if person % 3 == 0 and not second_car
            else ""
        )
        batch.append(
            Lead(
                shop=shop,
                number=number,
                channel=rnd.choice(["photo", "calculator", "phone"]),
                customer_name=f"Клиент {person}",
                phone=f"+7916{person:07d}",
                vehicle_make="Lada" if second_car else "Kia",
                vehicle_model="Vesta" if second_car else "Rio",
                plate=plate,
                created_at=now - dt.timedelta(minutes=TOTAL - number),
            )
        )
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)
Lead.objects.filter(shop=shop).update(customer=None, car=None)

with transaction.atomic():
    started = time.perf_counter()
    touched = Lead.objects.filter(shop=shop).update(customer=None, car=None)
    baseline_s = time.perf_counter() - started
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        migration.backfill_leads(apps, connection.alias, shop_ids=[shop.pk])
        took_s = time.perf_counter() - started
    linked = Lead.objects.filter(shop=shop, customer__isnull=False).count()
    customers = shop.customers.count()
    transaction.set_rollback(True)

slowest: dict[str, float] = {}
for query in queries.captured_queries:
    head = " ".join(query["sql"].split()[:3])[:40]
    slowest[head] = slowest.get(head, 0.0) + float(query["time"])
for head, spent in sorted(slowest.items(), key=lambda item: -item[1])[:4]:
    print(f"  {spent:6.1f} s  {head}", flush=True)
print(
    f"{touched} leads → {customers} customers, {linked} linked; {len(queries)} queries; "
    f"baseline (one UPDATE of every lead) {baseline_s:.1f} s",
    flush=True,
)
assert linked == TOTAL and 0 < customers <= PEOPLE
report(
    "customers backfill, 100k leads",
    round(took_s, 1),
    "s",
    f"≤ {BUDGET_S:.0f}",
    took_s <= BUDGET_S,
)
report(
    "customers backfill ÷ one UPDATE of the leads",
    round(took_s / baseline_s, 1),
    "×",
    f"≤ {BUDGET_RATIO:.0f}",
    took_s / baseline_s <= BUDGET_RATIO,
)
