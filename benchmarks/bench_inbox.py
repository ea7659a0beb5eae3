"""Inbox page of 50 leads with 100,000 leads of the shop in PostgreSQL: time and queries."""

from __future__ import annotations

import datetime as dt
import random

from common import median_ms, report, setup_django

setup_django()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from autoservice.models import Membership, Role, Shop  # noqa: E402
from leads.models import Lead, LeadPhoto, Status  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

TOTAL = 100_000
shop, _ = Shop.objects.get_or_create(slug="bench-inbox", defaults={"name": "Бенчмарк: входящие"})
have = Lead.objects.filter(shop=shop).count()
if have < TOTAL:
    print(f"creating {TOTAL - have} leads…", flush=True)
    rnd = random.Random(7)
    now = timezone.now()
    statuses = [s.value for s in Status]
    batch = []
    for number in range(have + 1, TOTAL + 1):
        batch.append(
            Lead(
                shop=shop,
                number=number,
                channel=rnd.choice(["photo", "calculator", "phone"]),
                status=rnd.choice(statuses),
                customer_name=f"Клиент {number}",
                phone=f"+79{rnd.randrange(10**9):09d}",
                vehicle_make="Kia",
                vehicle_model="Rio",
                created_at=now - dt.timedelta(minutes=TOTAL - number),
                opened_at=None if number % 7 == 0 else now,
            )
        )
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)
    newest = Lead.objects.filter(shop=shop).order_by("-created_at")[:500]
    LeadPhoto.objects.bulk_create(
        LeadPhoto(
            shop=shop,
            lead=lead,
            upload_token=f"bench-{lead.pk}",
            original=f"bench/{lead.pk}.orig",
            original_name="IMG.jpg",
            sha256="0" * 64,
            size_bytes=1,
            format="JPEG",
            width=1,
            height=1,
            state="ready",
            thumb=f"bench/{lead.pk}.thumb.jpg",
            web=f"bench/{lead.pk}.web.jpg",
        )
        for lead in newest
        for _ in range(3)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead; ANALYZE leads_leadphoto")

advisor = Membership.objects.filter(shop=shop, role=Role.ADVISOR).first()
if advisor is None:
    advisor = Membership.objects.create(
        user=UserFactory(username="inbox-advisor@bench.local"), shop=shop, role=Role.ADVISOR
    )
client = Client()
client.force_login(advisor.user)

for name, params in [
    ("inbox, 50 of 100,000 leads", {}),
    ("inbox filtered by status", {"status": "new"}),
]:
    response = client.get("/staff/leads/", params)
    assert response.status_code == 200 and response.content.count(b"data-lead-id") == 50
    ms = median_ms(lambda p=params: client.get("/staff/leads/", p), repeat=60)
    with CaptureQueriesContext(connection) as queries:
        client.get("/staff/leads/", params)
    report(f"{name}: server time", round(ms, 1), "ms", "≤ 100", ms <= 100)
    report(f"{name}: SQL queries", len(queries), "queries", "≤ 12", len(queries) <= 12)
