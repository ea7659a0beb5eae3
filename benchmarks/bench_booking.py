"""The driver's slot picker and a booking, for a shop with 10 posts, a year of past visits
(about 70,000) and the next two weeks 80 % taken: server time, queries, and the ratio to
the driver's private request page measured in the same run."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from common import median_ms, report, setup_django

setup_django()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from autoservice.models import WEEKDAYS, Shop  # noqa: E402
from booking.models import Booking, BookingSettings  # noqa: E402
from leads.models import Lead  # noqa: E402

POSTS = 10
shop, _ = Shop.objects.get_or_create(slug="bench-booking", defaults={"name": "Бенчмарк: запись"})
BookingSettings.objects.update_or_create(shop=shop, defaults={"posts": POSTS})
numbers = itertools.count(1)


def _save(batch: list[Booking]) -> None:
    """Each visit is a request of its own (one upcoming visit per request)."""
    Lead.objects.bulk_create([b.lead for b in batch])
    for b in batch:
        b.lead_id = b.lead.pk
    Booking.objects.bulk_create(batch)


if not Booking.objects.filter(shop=shop).exists():
    print("creating a year of visits…", flush=True)
    rnd = random.Random(5)
    today = timezone.now().astimezone(shop.tzinfo).date()
    batch = []
    for offset in range(-365, 15):
        day = today + dt.timedelta(days=offset)
        span = shop.hours_for(WEEKDAYS[day.weekday()])
        if not span:
            continue
        start = dt.datetime.combine(day, span[0], tzinfo=shop.tzinfo)
        closes = dt.datetime.combine(day, span[1], tzinfo=shop.tzinfo)
        while start + dt.timedelta(minutes=30) <= closes:
            for post in range(1, POSTS + 1):
                if offset < 1 or rnd.random() < 0.8:
                    batch.append(
                        Booking(
                            shop=shop,
                            lead=Lead(
                                shop=shop,
                                number=next(numbers),
                                channel="phone",
                                customer_name="Клиент",
                                phone=f"+79{rnd.randrange(10**9):09d}",
                            ),
                            post=post,
                            starts_at=start,
                            ends_at=start + dt.timedelta(minutes=30),
                        )
                    )
            start += dt.timedelta(minutes=30)
        if len(batch) > 5000:
            _save(batch)
            batch = []
    _save(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE booking_booking; ANALYZE leads_lead")
print(f"{Booking.objects.filter(shop=shop).count()} visits in the shop", flush=True)

lead = Lead.objects.create(
    shop=shop,
    number=Lead.objects.filter(shop=shop).count() + 1,
    channel="photo",
    customer_name="Водитель",
    phone="+79120000001",
)
client = Client()
picker = f"/s/{shop.slug}/book/{lead.public_token}/"
private = f"/s/{shop.slug}/photo/sent/{lead.public_token}/"
assert client.get(picker).status_code == 200
assert client.get(private).status_code == 200

picker_ms = median_ms(lambda: client.get(picker), repeat=40)
private_ms = median_ms(lambda: client.get(private), repeat=40)
with CaptureQueriesContext(connection) as queries:
    client.get(picker)
report(
    "booking picker, 10 posts, 14 days: server time",
    round(picker_ms, 1),
    "ms",
    "≤ 150",
    picker_ms <= 150,
)
report("booking picker: SQL queries", len(queries), "queries", "≤ 25", len(queries) <= 25)
ratio = picker_ms / private_ms
# The picker reads two weeks of the shop's visits (about 2,500 rows here), the private page
# one request: ten times its cost is the budget.
report("booking picker ÷ private request page", round(ratio, 2), "×", "≤ 10", ratio <= 10)
