"""Time `sealing.verify_shop` over 1 000 sealed intake records of one shop.

Run: ``DATABASE_URL=postgres://…/autoservice_bench .venv/bin/python benchmarks/run.py
intake_verify``. The records (shop slug ``bench-intake-verify``, four shots of small real
JPEG files and two signatures each, files under ``var/bench/media`` unless MEDIA_ROOT is
set) are made once and reused by later runs. Every file is hashed again, as in production;
the files are small, so the figure is the database and manifest side of verification, and
a line above the table projects it to 12 MP shots from the measured SHA-256 throughput.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, report, setup_django  # noqa: E402

os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench" / "media"))

SHOP_SLUG = "bench-intake-verify"
RECORDS = 1000
SHOTS_PER_RECORD = 4
REPEAT = 3
PHOTO_MB = 3.5  # a 12 MP phone JPEG, for the projection
SHOTS_REAL = 17  # required shots of the platform "body" template


def _jpeg(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (40 + seed * 40, 90, 160))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        draw.line((0, i * 40, 640, 480 - i * 37 * seed % 480), fill=(250, 200, 30), width=4)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _signature(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(40 + i * 26, 100 + (30 + seed * 5) * (-1) ** i) for i in range(20)]
    ImageDraw.Draw(image).line(points, fill=(10, 10, 60, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _existing(shop) -> bool:
    from django.core.files.storage import default_storage

    from intake.models import IntakeRecord

    sealed = IntakeRecord.objects.filter(shop=shop, seal_index__isnull=False)
    if sealed.count() != RECORDS:
        return False
    for record in (sealed.order_by("seal_index").first(), sealed.order_by("seal_index").last()):
        names = [shot.file.name for shot in record.shots.all()]
        names += [record.customer_signature.name, record.advisor_signature.name]
        if not all(default_storage.exists(name) for name in names):
            return False
    return True


def _create(shop, membership) -> None:
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from intake import sealing
    from intake.models import IntakeRecord, IntakeShot, ShotTemplate

    template = ShotTemplate.objects.get(shop=None, family="service", is_current=True)
    specs = list(template.specs.order_by("position"))[:SHOTS_PER_RECORD]
    photos = [_jpeg(seed) for seed in range(SHOTS_PER_RECORD)]
    signatures = [_signature(1), _signature(2)]
    media = Path(default_storage.path(f"intake/{shop.pk}"))
    now = timezone.now()
    records = IntakeRecord.objects.bulk_create(
        IntakeRecord(
            shop=shop,
            number=number,
            template=template,
            plate=f"А{number:03d}АА77"[:12],
            vin=f"XW8ZZZ61ZJG{number:06d}",
            make="Kia",
            model="Rio",
            year=2018,
            customer_name=f"Клиент {number}",
            customer_phone=f"+7916{number:07d}",
            odometer_km=40000 + number,
            fuel_level=4,
            warning_lamps=["check_engine"],
            complaint="Стук в подвеске",
            damages=[{"part": "door_front_left", "kind": "scratch", "size": "1"}],
            created_by=membership,
            created_at=now,
        )
        for number in range(1, RECORDS + 1)
    )
    shots = []
    for record in records:
        folder = media / str(record.pk)
        folder.mkdir(parents=True, exist_ok=True)
        for spec, photo in zip(specs, photos, strict=True):
            name = f"intake/{shop.pk}/{record.pk}/{uuid.uuid4().hex}.jpg"
            Path(default_storage.path(name)).write_bytes(photo)
            shots.append(
                IntakeShot(
                    record=record,
                    spec=spec,
                    client_id=uuid.uuid4(),
                    file=name,
                    original_name=f"{spec.code}.jpg",
                    sha256=hashlib.sha256(photo).hexdigest(),
                    size_bytes=len(photo),
                    width=640,
                    height=480,
                    received_at=now,
                )
            )
        for who, data in zip(("customer", "advisor"), signatures, strict=True):
            name = f"intake/{shop.pk}/{record.pk}/signature-{who}.png"
            Path(default_storage.path(name)).write_bytes(data)
            setattr(record, f"{who}_signature", name)
    IntakeShot.objects.bulk_create(shots)
    IntakeRecord.objects.bulk_update(records, ["customer_signature", "advisor_signature"])
    for record in records:
        sealing.seal(record, by=membership)


def main() -> int:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage
    from django.db import connection

    from autoservice.models import Membership, Shop
    from intake import sealing

    shop = Shop.objects.filter(slug=SHOP_SLUG).first()
    started = time.perf_counter()
    if shop is None or not _existing(shop):
        if shop is not None:
            shutil.rmtree(default_storage.path(f"intake/{shop.pk}"), ignore_errors=True)
            shop.delete()  # records, shots and the seal head go with it
        shop = Shop.objects.create(slug=SHOP_SLUG, name="Бенчмарк проверки актов")
        user, _ = get_user_model().objects.get_or_create(username=f"{SHOP_SLUG}@example.ru")
        Membership.objects.filter(user=user).delete()
        membership = Membership.objects.create(user=user, shop=shop, role="manager")
        _create(shop, membership)
        print(f"made {RECORDS} sealed records in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {RECORDS} sealed records of shop {SHOP_SLUG}")

    sealing.verify_shop(shop)  # warm-up: page cache, connection
    timings = []
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    for _ in range(REPEAT):
        with connection.execute_wrapper(count):
            began = time.perf_counter()
            verdicts, chain = sealing.verify_shop(shop)
            timings.append(time.perf_counter() - began)
    seconds = statistics.median(timings)
    broken = sum(not verdict.intact for verdict in verdicts)
    assert len(verdicts) == RECORDS and broken == 0 and not chain, (broken, chain)

    # SHA-256 throughput, to project the figure to real-size photos.
    block = os.urandom(8 << 20)
    began = time.perf_counter()
    for _ in range(8):
        hashlib.sha256(block).hexdigest()
    sha_mb_s = 64 / (time.perf_counter() - began)
    per_record = seconds / RECORDS + SHOTS_REAL * PHOTO_MB / sha_mb_s
    print(
        f"verify_shop: median of {REPEAT} {seconds:.2f} s, "
        f"{queries[0] / REPEAT / RECORDS:.1f} queries per record; all intact, chain unbroken. "
        f"SHA-256 {sha_mb_s:.0f} MB/s → with "
        f"{SHOTS_REAL} shots of {PHOTO_MB} MB (page cache warm) ≈ {1 / per_record:.0f} records/s"
    )
    figure = round(RECORDS / seconds)
    report(f"intake verify, {RECORDS} sealed records", figure, "records/s", "report", True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
