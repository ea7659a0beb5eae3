"""Demo data for the calculator: the shipped catalogue, the demo shop's rates and prices,
and calculator leads with estimates (one revised after inspection)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from autoservice.consent import consent_text_current
from autoservice.models import ConsentRecord, Role, Shop
from leads import services as lead_services
from leads.models import Channel, Lead

from . import engine, services
from .loader import load_calc_data
from .models import (
    BlendPolicy,
    Estimate,
    Generation,
    ShopPartPrice,
    ShopRates,
    TaxRegime,
    VehicleModel,
)

DEMO_PRICES = [
    # model, part, OEM number (blank: the shop keeps none), original, alternative
    ("Solaris", "bumper_front", "", "28900", "7900"),
    ("Solaris", "wing_front_left", "", "15400", "4900"),
    ("Solaris", "headlamp_left", "", "42000", "11800"),
    ("Rio", "bumper_front", "", "29500", "8200"),
    ("Vesta", "bumper_front", "", "12400", "7300"),
    ("Vesta", "door_front_left", "", "23900", "14200"),
]

DEMO_ESTIMATES = [
    (
        "Татьяна Егорова",
        "+79161230011",
        "Hyundai",
        "Solaris",
        "sedan",
        [
            ("bumper_front", "crack", "1"),
            ("wing_front_left", "dent", "2"),
            ("headlamp_left", "broken", "2"),
        ],
        3,
    ),
    (
        "Павел Гусев",
        "+79031230012",
        "Lada",
        "Vesta",
        "sedan",
        [("door_front_left", "dent", "1"), ("door_rear_left", "scratch", "2")],
        20,
    ),
    (
        "Роман Ильин",
        "+79851230013",
        "Kia",
        "Rio",
        "sedan",
        [("bumper_rear", "dent", "2"), ("taillamp_right", "crack", "1")],
        46,
    ),
]


def load(*, shop: Shop, stdout) -> None:
    version, created = load_calc_data()
    stdout.write(f"Данные калькулятора {version.label}: {'загружены' if created else 'на месте'}.")
    ShopRates.objects.update_or_create(
        shop=shop,
        defaults={
            "body_rate_rub": Decimal("2600"),
            "paint_rate_rub": Decimal("2800"),
            "material_unit_rub": Decimal("2200"),
            # The demo shop is a small body shop exempt from VAT (УСН, revenue < 20 mln ₽).
            "tax_regime": TaxRegime.USN_NO_VAT,
            "blend_policy": BlendPolicy.METALLIC,
            "price_valid_days": 7,
        },
    )
    for model_name, part, oem, original, alternative in DEMO_PRICES:
        model = VehicleModel.objects.filter(name=model_name).first()
        if model:
            ShopPartPrice.objects.update_or_create(
                shop=shop,
                vehicle_model=model,
                part=part,
                defaults={
                    "oem_number": oem,
                    "original_rub": Decimal(original),
                    "alternative_rub": Decimal(alternative),
                },
            )
    if Estimate.objects.filter(shop=shop).exists():
        return
    manager = shop.memberships.filter(role=Role.MANAGER).first()
    now = timezone.now()
    for index, (name, phone, make, model, body, damages, hours_ago) in enumerate(DEMO_ESTIMATES):
        generation = Generation.objects.filter(
            model__make__name=make, model__name=model, popular=True
        ).first()
        if generation is None:
            continue
        created = now - dt.timedelta(hours=hours_ago)
        damage_list = [engine.Damage(*d) for d in damages]
        result = services.estimate_compute(
            shop=shop, generation=generation, body_type=body, damages=damage_list
        )
        with transaction.atomic():
            consent = ConsentRecord.objects.create(
                shop=shop,
                text=consent_text_current(shop),
                subject_name=name,
                subject_phone=phone,
                accepted_at=created,
                ip_address="178.176.72.14",
                user_agent="Mozilla/5.0 (Linux; Android 14; SM-A546E) Chrome/131.0 Mobile",
            )
            lead, _created = lead_services.lead_create(
                shop=shop,
                channel=Channel.CALCULATOR,
                data=lead_services.LeadInput(
                    customer_name=name,
                    phone=phone,
                    vehicle_make=make,
                    vehicle_model=f"{model} {generation.name}",
                ),
                consent=consent,
                now=created,
            )
            estimate = services.estimate_save(
                shop=shop, generation=generation, body_type=body, damages=damage_list, result=result
            )
            Estimate.objects.filter(pk=estimate.pk).update(created_at=created)
            estimate.versions.update(created_at=created)
            services.estimate_attach_lead(estimate=estimate, lead=lead)
            if index == 2 and manager is not None:
                Lead.objects.filter(pk=lead.pk).update(
                    first_response_at=created + dt.timedelta(minutes=9)
                )
                services.estimate_revise(
                    estimate=estimate,
                    by=manager,
                    damages=damage_list,
                    extras=[
                        engine.ExtraItem(
                            name="Кронштейн заднего бампера",
                            labour_hours=Decimal("0.4"),
                            part_rub=Decimal("1850"),
                        )
                    ],
                    note="На осмотре: сломан кронштейн бампера",
                )
    stdout.write(f"Демо-расчёты: {len(DEMO_ESTIMATES)}.")
