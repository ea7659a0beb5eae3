"""Demo intake records: sealed acts with real generated shots, one with a hand-over set, and
one deliberately altered after sealing, which the verify page flags."""

from __future__ import annotations

import base64
import io
import random
import uuid

from django.db import transaction
from PIL import Image, ImageDraw

from autoservice.models import Role, Shop
from leads.models import Lead

from . import services
from .models import IntakeRecord, ShotTemplate


def _shot_bytes(seed: int) -> bytes:
    """A distinct, sharp, well-lit generated shot: the quality check passes it and no two
    shots of a record look alike to the near-duplicate check."""
    rnd = random.Random(seed)
    width, height = 1600, 1200
    image = Image.new("RGB", (width, height), tuple(rnd.randrange(90, 200) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(40, 400)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        shape = draw.ellipse if rnd.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _signature(seed: int) -> str:
    image = Image.new("RGBA", (600, 220), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 26, 120 + ((i * 37 + seed * 11) % 70) - 35) for i in range(20)]
    draw.line(points, fill=(20, 30, 90, 255), width=5, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _shoot(record: IntakeRecord, seed: int) -> None:
    for index, spec in enumerate(record.template.specs.all()):
        if not spec.required and not spec.is_damage:
            continue
        count = 1 if spec.is_damage else max(spec.min_count, 1)
        for n in range(count):
            data = _shot_bytes(seed * 1000 + index * 10 + n)
            services.shot_store(
                record=record,
                spec=spec,
                client_id=uuid.uuid4(),
                filename=f"IMG_{seed}{index:02d}{n}.jpg",
                chunks=[data],
                damage_part="door_front_left" if spec.is_damage else "",
            )
    for spec in services.missing_shots(record):
        services.shot_skip(
            record=record, spec=spec, reason="Демо: кадр не прошёл проверку качества"
        )


DEMO = [
    (
        "body",
        "Алексей Морозов",
        "+79161234501",
        "М214ОР77",
        "Z94CT41CBJR123456",
        "Hyundai",
        "Solaris",
        2019,
        48210,
        True,
    ),
    (
        "service",
        "Дмитрий Орлов",
        "+79671234505",
        "К909МТ77",
        "XW8AN2NE5HH012345",
        "Skoda",
        "Octavia",
        2017,
        131400,
        False,
    ),
    (
        "service",
        "Наталья Белова",
        "+79151234506",
        "О100ОО177",
        "XW7BF4FK00S123456",
        "Toyota",
        "Camry",
        2022,
        22050,
        False,
    ),
]


def load(*, shop: Shop, stdout) -> None:
    if IntakeRecord.objects.filter(shop=shop).exists():
        return
    advisor = shop.memberships.filter(role=Role.ADVISOR).first()
    templates = {
        t.family: t for t in ShotTemplate.objects.filter(shop__isnull=True, is_current=True)
    }
    records = []
    for seed, (family, name, phone, plate, vin, make, model, year, km, with_return) in enumerate(
        DEMO, 1
    ):
        lead = Lead.objects.filter(shop=shop, phone=phone).first()
        with transaction.atomic():
            record = services.record_create(
                shop=shop,
                by=advisor,
                template=templates[family],
                data=services.VehicleData(
                    plate=plate,
                    vin=vin,
                    make=make,
                    model=model,
                    year=year,
                    body_type="sedan",
                    customer_name=name,
                    customer_phone=phone,
                ),
                consent=lead.consent if lead else None,
                lead=lead,
            )
        _shoot(record, seed)
        services.record_update_details(
            record=record,
            odometer_km=km,
            fuel_level=4,
            warning_lamps=[],
            belongings="Видеорегистратор",
            complaint="Вмятина на передней левой двери",
            damages=[{"part": "door_front_left", "kind": "dent", "size": "2"}],
        )
        record = services.record_sign_and_seal(
            record=record,
            by=advisor,
            customer_signature=_signature(seed),
            advisor_signature=_signature(seed + 7),
        )
        records.append(record)
        if with_return:
            returned = services.return_create(record=record, by=advisor)
            _shoot(returned, seed + 50)
            services.record_sign_and_seal(
                record=returned,
                by=advisor,
                customer_signature=_signature(seed + 3),
                advisor_signature=_signature(seed + 9),
            )
    # The altered one: its odometer was "corrected" in the database after signing.
    IntakeRecord.objects.filter(pk=records[-1].pk).update(odometer_km=12050)
    stdout.write(f"Демо-акты приёмки: {len(records)} (+1 выдача), один изменён после подписи.")
