"""The measured inputs of docs/capacity.md, on this machine's PostgreSQL: what one lead costs.

1. Storage: a driver sends the photo form with 3 photos of 3 MB (phone-like JPEGs); the
   renditions are made (tasks inline here); the sizes of originals, renditions and of an
   estimate PDF are read from the storage.
2. Database: the sum of pg_total_relation_size over every table (with indexes and TOAST)
   before and after CAPACITY_LEADS (200) more leads sent through the same form (one small
   photo each), and the tables that grew most.
3. Requests: the HTTP requests of a scripted journey (the driver's, then the advisor's
   first handling of the lead), counted as they are made.

Run: `DATABASE_URL=postgres://.../some_db python loadtest/capacity.py` (the database is
created and migrated; the demo shop is loaded into it)."""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DEBUG", "true")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="capacity-media-")
os.environ["PHOTO_UPLOADS_PER_HOUR_PER_ADDRESS"] = "100000"

from common import photo_3mb, setup_django  # noqa: E402

setup_django()

from django.core.files.storage import default_storage  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from PIL import Image  # noqa: E402

from autoservice.models import Membership, Shop  # noqa: E402
from leads.models import Lead, LeadPhoto  # noqa: E402
from smartcalc.models import Estimate  # noqa: E402

N = int(os.environ.get("CAPACITY_LEADS", "200"))
TOKEN_RE = re.compile(rb'name="form_token" value="([^"]+)"')


class Counting(Client):
    """A test client that counts the requests it makes."""

    count = 0

    def request(self, **request):
        Counting.count += 1
        return super().request(**request)


def table_bytes() -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        return dict(cur.fetchall())


def send_form(client: Client, slug: str, n: int, photos: list[bytes]) -> None:
    # Another driver's address each time: one address may send 30 requests an hour.
    address = f"{('198.51.100', '203.0.113', '192.0.2')[n % 3]}.{n // 3 % 250 + 1}"
    page = client.get(f"/s/{slug}/photo/", REMOTE_ADDR=address)
    token = TOKEN_RE.search(page.content).group(1).decode()
    files = []
    for i, content in enumerate(photos):
        f = io.BytesIO(content)
        f.name = f"photo{i}.jpg"
        files.append(f)
    answer = client.post(
        f"/s/{slug}/photo/",
        {
            "form_token": token,
            "description": "Вмятина на задней левой двери и царапины на бампере после парковки",
            "vehicle_make": "Hyundai",
            "vehicle_model": "Solaris",
            "vehicle_year": "2017",
            "customer_name": f"Водитель {n}",
            "phone": f"+7 912 {n // 10000 % 1000:03d}-{n // 100 % 100:02d}-{n % 100:02d}",
            "email": f"driver{n}@example.ru",
            "preferred_contact": "call",
            "consent": "on",
            "photos": files,
        },
        REMOTE_ADDR=address,
    )
    assert answer.status_code == 302, answer.status_code
    client.get(answer["Location"])


def small_jpeg(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((1600, 1200), 30).convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def main() -> None:
    call_command("demo", verbosity=0, stdout=open(os.devnull, "w"))
    shop = Shop.objects.get(slug="demo")
    advisor = Membership.objects.filter(shop=shop, role="advisor").first().user

    # 1 + 3: the driver's journey with 3 × 3 MB photos, counted.
    driver = Counting()
    send_form(driver, shop.slug, 1, [photo_3mb(i) for i in range(3)])
    driver_requests = Counting.count
    lead = Lead.objects.filter(shop=shop).order_by("-pk").first()
    sizes = {"original": 0, "web": 0, "thumb": 0}
    for photo in LeadPhoto.objects.filter(lead=lead):
        for kind in sizes:
            field = getattr(photo, kind)
            if field:
                sizes[kind] += default_storage.size(field.name)
    staff = Counting()
    staff.force_login(advisor)
    Counting.count = 0
    staff.get("/staff/leads/")
    staff.get("/staff/leads/poll/")
    page = staff.get(f"/staff/leads/{lead.pk}/")
    assert page.status_code == 200
    for photo in LeadPhoto.objects.filter(lead=lead):
        staff.get(f"/staff/leads/{lead.pk}/photos/{photo.pk}/thumb/")
        staff.get(f"/staff/leads/{lead.pk}/photos/{photo.pk}/web/")
    staff_requests = Counting.count
    estimate = Estimate.objects.filter(shop=shop).order_by("pk").first()
    version = estimate.versions.order_by("-number").first() if estimate else None
    pdf = staff.get(f"/staff/calc/{estimate.pk}/v{version.number}/pdf/") if version else None
    pdf_bytes = len(pdf.getvalue() if hasattr(pdf, "getvalue") else pdf.content) if pdf else 0

    print(f"one lead with 3 photos of 3 MB: {lead.photos.count()} photos")
    for kind, total in sizes.items():
        print(f"  {kind:<9} {total / 1e6:8.2f} MB")
    print(f"  estimate PDF {pdf_bytes / 1e3:.1f} kB (status {pdf.status_code if pdf else '-'})")
    print(f"requests: driver journey {driver_requests} (form page, post, thank-you page);")
    print(f"  advisor's first look {staff_requests} (inbox, poll, lead page, 3 thumbs, 3 photos)")

    # 2: database growth over N leads through the same form.
    before = table_bytes()
    leads_before = Lead.objects.count()
    photo = small_jpeg(0)
    client = Client()
    for n in range(N):
        send_form(client, shop.slug, 1000 + n, [photo])
    with connection.cursor() as cur:
        cur.execute("CHECKPOINT")
    after = table_bytes()
    made = Lead.objects.count() - leads_before
    grown = sum(after.values()) - sum(before.values())
    print(
        f"database: {made} leads (1 photo each) added {grown / 1e6:.2f} MB = "
        f"{grown / made / 1024:.1f} kB per lead"
    )
    top = sorted(after, key=lambda t: after[t] - before.get(t, 0), reverse=True)[:8]
    for table in top:
        print(f"  {table:<40} +{(after[table] - before.get(table, 0)) / 1024:8.0f} kB")


if __name__ == "__main__":
    main()
