"""Demo leads for `manage.py demo`: every status, real generated photos, some overdue."""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from autoservice.consent import consent_text_current
from autoservice.models import ConsentRecord, Membership, Role, Shop

from . import services
from .models import Lead, Status
from .photos import photo_process, photo_upload_store

DEMO_LEADS = [
    # name, phone, make, model, year, plate, description, status, hours ago, photos
    (
        "Алексей Морозов",
        "+79161234501",
        "Hyundai",
        "Solaris",
        2019,
        "М214ОР77",
        "Задел столб на парковке, вмятина на задней левой двери и царапины на бампере.",
        Status.NEW,
        0.1,
        3,
    ),
    (
        "Марина Козлова",
        "+79261234502",
        "Kia",
        "Rio",
        2021,
        "А778КС750",
        "Въехали сзади на светофоре: треснул задний бампер, не закрывается багажник.",
        Status.NEW,
        2.5,
        4,
    ),
    (
        "Сергей Павлов",
        "+79031234503",
        "Lada",
        "Vesta",
        2020,
        "Т505ВХ99",
        "Скол на капоте и царапина на переднем крыле, хочу закрасить до зимы.",
        Status.IN_PROGRESS,
        5,
        2,
    ),
    (
        "Ольга Никитина",
        "+79851234504",
        "Volkswagen",
        "Polo",
        2018,
        "Е321НА197",
        "Помяли переднее правое крыло и фару, ДТП оформили по европротоколу.",
        Status.OFFER_SENT,
        26,
        5,
    ),
    (
        "Дмитрий Орлов",
        "+79671234505",
        "Skoda",
        "Octavia",
        2017,
        "К909МТ77",
        "Град: мелкие вмятины на крыше и капоте.",
        Status.BOOKED,
        50,
        3,
    ),
    (
        "Наталья Белова",
        "+79151234506",
        "Toyota",
        "Camry",
        2022,
        "О100ОО177",
        "Царапина по всей правой стороне, две двери.",
        Status.WON,
        120,
        4,
    ),
    (
        "Игорь Соловьёв",
        "+79091234507",
        "Renault",
        "Logan",
        2016,
        "Р456СЕ50",
        "Разбит задний фонарь и бампер.",
        Status.LOST,
        75,
        2,
    ),
    (
        "Виктор Лебедев",
        "+79251234508",
        "Haval",
        "Jolion",
        2023,
        "У777ХК799",
        "Вмятина на двери багажника после парковки.",
        Status.NEW,
        30,
        2,
    ),
    # Three more Polo sedans: the catalogue numbers that car's parts, so the demo offers in
    # their states (draft, accepted, expired) are built from the lead's own car.
    (
        "Елена Фролова",
        "+79161234509",
        "Volkswagen",
        "Polo",
        2019,
        "В612ТК777",
        "Царапина на задней правой двери и скол на капоте, фара целая.",
        Status.IN_PROGRESS,
        8,
        2,
    ),
    (
        "Полина Сергеева",
        "+79261234510",
        "Volkswagen",
        "Polo",
        2017,
        "Н404АМ750",
        "Задели на парковке: треснул передний бампер, помято левое крыло.",
        Status.BOOKED,
        70,
        3,
    ),
    (
        "Артём Кузнецов",
        "+79031234511",
        "Volkswagen",
        "Polo",
        2015,
        "С808РУ199",
        "Разбит задний фонарь, трещина на заднем бампере.",
        Status.LOST,
        140,
        2,
    ),
]


def _photo_bytes(seed: int, index: int) -> bytes:
    """A believable phone photo: a car body panel in the shop's light with a damaged spot."""
    rnd = random.Random(seed * 100 + index)
    width, height = 2016, 1512
    paint = rnd.choice(
        [(185, 190, 195), (30, 60, 120), (160, 20, 30), (240, 240, 235), (20, 20, 22)]
    )
    image = Image.new("RGB", (width, height), (90, 95, 100))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 8):  # floor-to-ceiling light gradient of a workshop
        shade = int(70 + 60 * y / height)
        draw.rectangle([0, y, width, y + 8], fill=(shade, shade + 4, shade + 8))
    body = [int(width * 0.08), int(height * 0.3), int(width * 0.92), int(height * 0.78)]
    draw.rounded_rectangle(body, radius=140, fill=paint)
    for x in (int(width * 0.25), int(width * 0.75)):  # wheels
        draw.ellipse(
            [x - 170, int(height * 0.68), x + 170, int(height * 0.68) + 340], fill=(25, 25, 25)
        )
        draw.ellipse(
            [x - 90, int(height * 0.68) + 80, x + 90, int(height * 0.68) + 260],
            fill=(150, 150, 155),
        )
    draw.line(
        [body[0] + 80, int(height * 0.42), body[2] - 80, int(height * 0.42)],
        fill=(230, 230, 230),
        width=6,
    )
    cx, cy = rnd.randint(body[0] + 300, body[2] - 300), rnd.randint(body[1] + 120, body[3] - 150)
    dent = Image.new("L", (width, height), 0)
    ImageDraw.Draw(dent).ellipse([cx - 160, cy - 90, cx + 160, cy + 90], fill=140)
    shadow = Image.new("RGB", (width, height), (10, 10, 10))
    image = Image.composite(shadow, image, dent.filter(ImageFilter.GaussianBlur(40)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):  # scratches through the paint
        x0, y0 = cx + rnd.randint(-200, 200), cy + rnd.randint(-100, 100)
        draw.line(
            [x0, y0, x0 + rnd.randint(80, 300), y0 + rnd.randint(-30, 30)],
            fill=(210, 210, 210),
            width=3,
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=86)
    return buffer.getvalue()


# A regular: three requests over 60 days from one phone, two cars, a personal manager.
REGULAR = ("Сергей Орлов", "+79857770011")
REGULAR_REQUESTS = [
    # channel, make, model, year, plate, description, status, days ago
    ("photo", "Toyota", "Camry", 2019, "Т404КМ750", "Царапина на заднем бампере", Status.WON, 60),
    ("calculator", "Kia", "Sportage", 2021, "К505ОР777", "Вмятина на двери жены", Status.WON, 34),
    ("walk_in", "Toyota", "Camry", 2019, "Т404КМ750", "Скол на капоте после трассы", Status.NEW, 1),
]


def _regular_customer(shop: Shop, advisor: Membership | None, stdout) -> None:
    """The customer card's example: the first request's advisor becomes the manager, the
    later ones go straight to them."""
    name, phone = REGULAR
    if advisor is None or Lead.objects.filter(shop=shop, phone=phone).exists():
        return
    text = consent_text_current(shop)
    now = timezone.now()
    for channel, make, model, year, plate, description, status, days_ago in REGULAR_REQUESTS:
        created = now - dt.timedelta(days=days_ago)
        with transaction.atomic():
            consent = ConsentRecord.objects.create(
                shop=shop,
                text=text,
                subject_name=name,
                subject_phone=phone,
                accepted_at=created,
                ip_address="95.24.18.9",
                user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36",
            )
            lead, _created = services.lead_create(
                shop=shop,
                channel=channel,
                data=services.LeadInput(
                    customer_name=name,
                    phone=phone,
                    vehicle_make=make,
                    vehicle_model=model,
                    vehicle_year=year,
                    plate=plate,
                    description=description,
                ),
                consent=consent if channel != "walk_in" else None,
                now=created,
            )
            _advance(lead, status, advisor, created)
    stdout.write(f"Постоянный клиент: {name}, три заявки за 60 дней, два автомобиля.")


def load(*, shop: Shop, stdout) -> None:
    if not shop.notification_emails:
        shop.notification_emails = "service@demo.local"
        shop.save(update_fields=["notification_emails"])
    advisors = list(shop.memberships.filter(role=Role.ADVISOR).select_related("user"))
    _regular_customer(shop, advisors[0] if advisors else None, stdout)
    if Lead.objects.filter(shop=shop, phone__in=[row[1] for row in DEMO_LEADS]).exists():
        stdout.write("Демо-заявки уже есть.")
        return
    manager = shop.memberships.filter(role=Role.MANAGER).first()
    text = consent_text_current(shop)
    now = timezone.now()
    for seed, row in enumerate(DEMO_LEADS):
        name, phone, make, model, year, plate, description, status, hours_ago, photos = row
        created = now - dt.timedelta(hours=hours_ago)
        token = uuid.uuid4().hex
        stored = []
        for index in range(photos):
            data = _photo_bytes(seed, index)
            stored.append(
                photo_upload_store(
                    shop=shop,
                    upload_token=token,
                    client_id=uuid.uuid4(),
                    filename=f"IMG_{4000 + seed * 10 + index}.jpg",
                    chunks=[data],
                )
            )
        for photo in stored:
            photo_process(photo.pk)
        with transaction.atomic():
            consent = ConsentRecord.objects.create(
                shop=shop,
                text=text,
                subject_name=name,
                subject_phone=phone,
                accepted_at=created,
                ip_address="95.24.18.7",
                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1",
            )
            lead, _created = services.lead_create(
                shop=shop,
                channel="photo",
                data=services.LeadInput(
                    customer_name=name,
                    phone=phone,
                    preferred_contact=["call", "whatsapp", "telegram"][seed % 3],
                    vehicle_make=make,
                    vehicle_model=model,
                    vehicle_year=year,
                    plate=plate,
                    description=description,
                ),
                consent=consent,
                upload_token=token,
                now=created,
            )
            _advance(lead, status, advisors[seed % len(advisors)] if advisors else manager, created)
    services.leads_escalate_overdue()
    stdout.write(f"Демо-заявки: {len(DEMO_LEADS)} с фото.")


def _advance(lead: Lead, status: str, advisor: Membership | None, created: dt.datetime) -> None:
    """Walk a demo lead through the workflow as an advisor would have."""
    if status == Status.NEW or advisor is None:
        return
    step = created + dt.timedelta(minutes=7)
    path = {
        Status.IN_PROGRESS: [Status.IN_PROGRESS],
        Status.OFFER_SENT: [Status.IN_PROGRESS, Status.OFFER_SENT],
        Status.BOOKED: [Status.IN_PROGRESS, Status.OFFER_SENT, Status.BOOKED],
        Status.WON: [Status.IN_PROGRESS, Status.OFFER_SENT, Status.BOOKED, Status.WON],
        Status.LOST: [Status.IN_PROGRESS, Status.OFFER_SENT, Status.LOST],
    }[status]
    services.lead_open(lead=lead, by=advisor)
    for target in path:
        reason = "Дорого: нашёл дешевле у частного мастера" if target == Status.LOST else ""
        services.lead_change_status(lead=lead, status=target, by=advisor, reason=reason, now=step)
        step += dt.timedelta(hours=2)
