"""Six months of the demo shop's history for `manage.py demo`, so that the analytics charts
show something true to life: requests from every channel at the hours drivers write, each
advisor's own pace, offers with the driver's picks, lost reasons, supplier answers and
deliveries, and estimates revised after inspection.

Written in bulk (a few thousand rows in a couple of seconds on SQLite): it is history, so
it bypasses the services that would notify, escalate and call suppliers today. Nothing
here is used outside the demo.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from autoservice.apitokens import token_create
from autoservice.models import ApiToken, Role, Shop
from leads.models import EventKind, Lead, LeadEvent, Status
from optima.models import (
    CustomerOffer,
    DeliveryRecord,
    OfferStatus,
    OfferVersion,
    Search,
    Supplier,
    SupplierAnswer,
)
from smartcalc import engine
from smartcalc import services as calc_services
from smartcalc.models import Generation

from .services import facts_rebuild

DAYS = 182
SEED = 2026
CHANNELS = [
    ("photo", 38),
    ("calculator", 26),
    ("phone", 16),
    ("walk_in", 7),
    ("messenger", 8),
    ("api", 5),
]
# Hours drivers write (weights per hour of day): mornings, lunch and the evening peak.
HOUR_WEIGHTS = [1, 0, 0, 0, 0, 0, 1, 3, 6, 9, 10, 9, 8, 8, 7, 7, 7, 8, 10, 11, 9, 6, 4, 2]
LOST_REASONS = [
    ("Дорого: нашёл дешевле у частного мастера", 30),
    ("Не дозвонились", 18),
    ("Долго ждать запчасти", 14),
    ("Передумал ремонтировать", 12),
    ("Ремонт по ОСАГО в другом сервисе", 10),
    ("Сделал у дилера", 8),
]
CARS = [
    ("Lada", "Vesta"),
    ("Hyundai", "Solaris"),
    ("Kia", "Rio"),
    ("Volkswagen", "Polo"),
    ("Skoda", "Octavia"),
    ("Renault", "Logan"),
    ("Toyota", "Camry"),
    ("Haval", "Jolion"),
]
PARTS = [
    ("Бампер передний", 9000, 24000),
    ("Фара левая", 7000, 32000),
    ("Крыло переднее правое", 4500, 14000),
    ("Дверь задняя левая", 12000, 38000),
    ("Зеркало наружное", 3500, 11000),
    ("Капот", 11000, 30000),
]
# Per supplier of the demo: median answer (ms), timeout and error rates, price factor,
# on-time share, "in stock" truth.
SUPPLIER_HABITS = [(180, 0.01, 0.01, 1.00, 0.93, 0.95), (320, 0.04, 0.02, 0.96, 0.78, 0.85)]
SUPPLIER_HABITS += [(650, 0.09, 0.05, 1.06, 0.62, 0.7)]
NAMES = ["Андрей", "Мария", "Олег", "Татьяна", "Павел", "Светлана", "Роман", "Елена"]


def _pick(rnd: random.Random, weighted):
    return rnd.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


def _money(value: float) -> Decimal:
    return Decimal(round(value / 10) * 10).quantize(Decimal("0.01"))


def load(*, shop: Shop, stdout) -> None:
    now = timezone.now()
    if Lead.objects.filter(shop=shop, created_at__lt=now - dt.timedelta(days=30)).exists():
        stdout.write("История для аналитики уже есть.")
        return
    advisors = list(shop.memberships.filter(role=Role.ADVISOR).order_by("pk"))
    suppliers = list(
        Supplier.objects.filter(shop=shop, is_active=True).order_by("pk")[: len(SUPPLIER_HABITS)]
    )
    if not advisors:
        return
    with transaction.atomic():
        count = history_generate(shop, advisors, suppliers, now)
    _estimates(shop, advisors, now)
    facts_rebuild(shop=shop)
    stdout.write(f"История для аналитики: {count} заявок за {DAYS} дней.")


def history_generate(  # noqa: C901
    shop: Shop, advisors, suppliers, now: dt.datetime, *, days: int = DAYS, scale: float = 1.0
) -> int:
    """Leads of `days` days (about 9 a day times `scale`) with their timelines and offers."""
    rnd = random.Random(SEED)
    tz = shop.tzinfo
    token = ApiToken.objects.filter(shop=shop, name="1С:Автосервис (демо)").first()
    if token is None:
        token, _raw = token_create(shop=shop, name="1С:Автосервис (демо)")
    number = (Lead.objects.filter(shop=shop).aggregate(n=Max("number"))["n"] or 0) + 1
    pace = {m.pk: 1.0 + 0.7 * index for index, m in enumerate(advisors)}
    leads, plans = [], []
    first_day = now.astimezone(tz).date() - dt.timedelta(days=days)
    for offset in range(days - 2):
        day = first_day + dt.timedelta(days=offset)
        growth = (0.8 + 0.4 * offset / days) * scale  # the shop grows over the period
        base = 11 if day.weekday() < 5 else (6 if day.weekday() == 5 else 3)
        for _n in range(max(1, int(rnd.gauss(base * growth, 2)))):
            hour = rnd.choices(range(24), weights=HOUR_WEIGHTS)[0]
            created = dt.datetime.combine(
                day, dt.time(hour, rnd.randrange(60), rnd.randrange(60)), tz
            )
            if created >= now - dt.timedelta(days=2):
                continue
            channel = _pick(rnd, CHANNELS)
            make, model = rnd.choice(CARS)
            advisor = rnd.choice(advisors)
            leads.append(
                Lead(
                    shop=shop,
                    number=number,
                    channel="phone" if channel == "api" else channel,
                    customer_name=rnd.choice(NAMES),
                    phone=f"+7999{rnd.randrange(10**7):07d}",
                    vehicle_make=make,
                    vehicle_model=model,
                    vehicle_year=rnd.randint(2012, 2024),
                    created_at=created,
                    status_changed_at=created,
                    opened_at=created,
                    sla_due_at=shop.add_working_minutes(created, shop.sla_minutes),
                )
            )
            plans.append((channel, advisor))
            number += 1
    Lead.objects.bulk_create(leads, batch_size=2000)
    events: list[LeadEvent] = []
    offers: list[tuple[Lead, dt.datetime, bool]] = []
    for lead, (channel, advisor) in zip(leads, plans, strict=True):
        data = {"api_token": token.pk, "api_token_name": token.name} if channel == "api" else {}
        events.append(
            LeadEvent(lead=lead, kind=EventKind.CREATED, created_at=lead.created_at, data=data)
        )
        if rnd.random() < 0.04:
            lead.escalated_at = lead.sla_due_at  # never answered: went to the manager
            continue
        opening = shop.next_opening(lead.created_at) or lead.created_at
        minutes = math.exp(rnd.gauss(math.log(6 * pace[advisor.pk]), 0.9))
        answered = opening + dt.timedelta(minutes=minutes)
        lead.first_response_at = answered
        lead.assignee = advisor
        path = [Status.IN_PROGRESS]
        offered = rnd.random() < (0.75 if channel == "calculator" else 0.55)
        accepted = offered and rnd.random() < 0.58
        if offered:
            path.append(Status.OFFER_SENT)
        if accepted:
            path.append(Status.OFFER_ACCEPTED)
        if accepted or (not offered and rnd.random() < 0.15):
            if rnd.random() < 0.85:
                path.append(Status.BOOKED)
                if rnd.random() < 0.9:
                    path.append(Status.WON)
        if path[-1] not in (Status.WON, Status.BOOKED) and rnd.random() < 0.8:
            path.append(Status.LOST)
        when, old = answered, Status.NEW
        for status in path:
            if when > now - dt.timedelta(hours=1):
                break
            reason = _pick(rnd, LOST_REASONS) if status == Status.LOST else ""
            events.append(
                LeadEvent(
                    lead=lead,
                    kind=EventKind.STATUS,
                    actor=advisor,
                    text=reason,
                    data={"old": old, "new": status},
                    created_at=when,
                )
            )
            if status == Status.OFFER_SENT:
                offers.append((lead, when, accepted))
            lead.status, lead.status_changed_at, old = status, when, status
            lead.lost_reason = reason
            when += dt.timedelta(hours=rnd.uniform(2, 60))
    Lead.objects.bulk_update(
        leads,
        [
            "status",
            "status_changed_at",
            "lost_reason",
            "first_response_at",
            "assignee",
            "escalated_at",
        ],
        batch_size=500,
    )
    LeadEvent.objects.bulk_create(events, batch_size=1000)
    if suppliers:
        _offers(shop, suppliers, offers, rnd, now)
    return len(leads)


def _option(rnd, tags, part, low, high, supplier, factor, quality, base):
    purchase = _money(base * factor * rnd.uniform(0.95, 1.05))
    return {
        "label": tags[0] if tags else "ещё вариант",
        "tags": tags,
        "brand": {"original": "OEM", "oe_replacement": "HELLA", "aftermarket": "SAT"}[quality],
        "number": f"D{rnd.randrange(10**6):06d}",
        "name": part,
        "quality": quality,
        "supplier_id": supplier.pk,
        "supplier_name": supplier.name,
        "list_price_rub": str(purchase),
        "purchase_rub": str(purchase),
        "customer_rub": str(_money(float(purchase) * rnd.uniform(1.22, 1.4))),
        "vat_rub": "0",
        "vat_on_top_rub": "0",
        "delivery_date": "",
        "order_ref": {},
        "number_key": "",
        "in_stock": rnd.random() < 0.7,
    }


def _offers(shop: Shop, suppliers, offers, rnd: random.Random, now: dt.datetime) -> None:
    versions, deliveries, answers = [], [], []
    made = CustomerOffer.objects.bulk_create(
        [CustomerOffer(shop=shop, lead=lead, created_at=sent) for lead, sent, _a in offers],
        batch_size=2000,
    )
    searches = Search.objects.bulk_create(
        [
            Search(
                shop=shop,
                lead=lead,
                numbers=["DEMO"],
                created_at=sent - dt.timedelta(minutes=20),
                deadline_at=sent - dt.timedelta(minutes=20),
                finished_at=sent - dt.timedelta(minutes=20),
            )
            for lead, sent, _a in offers
        ],
        batch_size=2000,
    )
    for offer, search, (lead, sent, accepted) in zip(made, searches, offers, strict=True):
        positions, choice = [], {}
        for index in range(rnd.choice([1, 1, 2, 2, 3])):
            part, low, high = rnd.choice(PARTS)
            base = rnd.uniform(low, high)
            s_cheap, s_good, s_orig = (rnd.choice(suppliers) for _ in range(3))
            recommended = rnd.random() < 0.7
            options = []
            if recommended:
                options.append(
                    _option(
                        rnd, ["рекомендуем"], part, low, high, s_good, 0.62, "oe_replacement", base
                    )
                )
            options.append(
                _option(rnd, ["оригинал"], part, low, high, s_orig, 1.0, "original", base)
            )
            options.append(
                _option(
                    rnd, ["самый выгодный"], part, low, high, s_cheap, 0.45, "aftermarket", base
                )
            )
            positions.append({"number": "DEMO", "name": part, "options": options, "reasons": []})
            weights = [45, 20, 35] if recommended else [35, 65]
            choice[str(index)] = rnd.choices(range(len(options)), weights=weights)[0]
            # What each supplier answered for this number in the search before the offer.
            for supplier_index, supplier in enumerate(suppliers):
                habit = SUPPLIER_HABITS[supplier_index]
                roll = rnd.random()
                state = (
                    "timeout"
                    if roll < habit[1]
                    else "error"
                    if roll < habit[1] + habit[2]
                    else "answered"
                )
                key = f"N{lead.pk}-{index}"
                price = _money(base * habit[3] * rnd.uniform(0.92, 1.08))
                answers.append(
                    SupplierAnswer(
                        search=search,
                        supplier=supplier,
                        number_key=key,
                        state=state,
                        elapsed_ms=4000
                        if state == "timeout"
                        else int(math.exp(rnd.gauss(math.log(habit[0]), 0.35))),
                        fetched_at=search.created_at,
                        offers=[{"number_key": key, "price_rub": str(price)}]
                        if state == "answered"
                        else [],
                    )
                )
        labour = [
            {
                "name": "Кузовные и малярные работы",
                "price_rub": str(_money(rnd.uniform(4000, 30000))),
            }
        ]
        total = sum(Decimal(line["price_rub"]) for line in labour) + sum(
            Decimal(p["options"][choice[str(i)]]["customer_rub"]) for i, p in enumerate(positions)
        )
        accepted_at = sent + dt.timedelta(hours=rnd.uniform(1, 30)) if accepted else None
        if accepted_at and accepted_at > now:
            accepted_at = None
        versions.append(
            OfferVersion(
                offer=offer,
                number=1,
                status=OfferStatus.ACCEPTED if accepted_at else OfferStatus.SENT,
                labour=labour,
                positions=positions,
                sent_at=sent,
                created_at=sent,
                valid_until=sent.date() + dt.timedelta(days=3),
                accepted_at=accepted_at,
                accepted_choice=choice if accepted_at else {},
                accepted_total_rub=total if accepted_at else None,
            )
        )
    OfferVersion.objects.bulk_create(versions, batch_size=500)
    SupplierAnswer.objects.bulk_create(answers, batch_size=1000)
    for version in versions:
        if version.accepted_at is None or version.accepted_at > now - dt.timedelta(days=5):
            continue
        for index, position in enumerate(version.positions):
            option = position["options"][version.accepted_choice[str(index)]]
            supplier_index = next(
                i for i, s in enumerate(suppliers) if s.pk == option["supplier_id"]
            )
            habit = SUPPLIER_HABITS[supplier_index]
            promised = version.accepted_at.date() + dt.timedelta(days=rnd.randint(1, 4))
            late = 0 if rnd.random() < habit[4] else rnd.randint(1, 5)
            deliveries.append(
                DeliveryRecord(
                    shop=shop,
                    supplier_id=option["supplier_id"],
                    version=version,
                    brand=option["brand"],
                    number=option["number"],
                    promised_on=promised,
                    claimed_in_stock=option["in_stock"],
                    arrived_on=promised + dt.timedelta(days=late),
                    was_in_stock=(rnd.random() < habit[5]) if option["in_stock"] else None,
                    created_at=version.accepted_at,
                    marked_at=version.accepted_at + dt.timedelta(days=late + 3),
                )
            )
    DeliveryRecord.objects.bulk_create(deliveries, batch_size=500)


def _estimates(shop: Shop, advisors, now: dt.datetime) -> None:
    """Estimates revised after inspection: the calculator's real engine, with what the
    inspection found (a bracket, a sensor, an extra panel) added."""
    rnd = random.Random(SEED + 1)
    generations = list(
        Generation.objects.filter(popular=True).select_related("model__make").order_by("pk")[:8]
    )
    damages_pool = [
        ("bumper_front", "crack", "1"),
        ("bumper_front", "scratch", "2"),
        ("door_front_left", "dent", "2"),
        ("fender_front_right", "dent", "1"),
        ("bumper_rear", "dent", "3"),
        ("hood", "chip", "1"),
    ]
    extras = [("Кронштейн бампера", "0.5", "1200"), ("Датчик парковки", "0.3", "2600")]
    extras += [("Усилитель бампера", "1.2", "5400"), ("Подкрылок", "0.4", "900")]
    for index in range(48):
        generation = rnd.choice(generations)
        body = generation.body_types[0] if generation.body_types else "sedan"
        damages = [engine.Damage(*d) for d in rnd.sample(damages_pool, rnd.randint(1, 3))]
        damages = list({d.part: d for d in damages}.values())
        try:
            result = calc_services.estimate_compute(
                shop=shop, generation=generation, body_type=body, damages=damages
            )
            estimate = calc_services.estimate_save(
                shop=shop, generation=generation, body_type=body, damages=damages, result=result
            )
            found = [
                engine.ExtraItem(name, labour_hours=Decimal(hours), part_rub=Decimal(price))
                for name, hours, price in rnd.sample(extras, rnd.choice([0, 0, 1, 1, 2]))
            ]
            calc_services.estimate_revise(
                estimate=estimate,
                by=rnd.choice(advisors),
                damages=damages,
                extras=found,
                note="После осмотра на подъёмнике",
            )
        except Exception:  # noqa: BLE001 - a car the demo data cannot price is skipped
            continue
        when = now - dt.timedelta(days=DAYS * (index + 1) / 50)
        estimate.versions.filter(number=1).update(created_at=when)
        estimate.versions.filter(number=2).update(created_at=when + dt.timedelta(days=1))
        type(estimate).objects.filter(pk=estimate.pk).update(created_at=when)
