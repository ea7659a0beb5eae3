"""Demo data for parts search: the demo shop connected to five demo suppliers (real HTTP
on loopback, started by `make run`), pricing rules, and offers in every state."""

from __future__ import annotations

import datetime as dt
import re
import socket
from decimal import Decimal

from django.utils import timezone, translation

from autoservice.models import Role, Shop
from leads.models import Lead, Status
from smartcalc.models import PART_CHOICES
from smartcalc.selectors import reference_numbers_for_car

from . import offers, services
from .demo_supplier import start_in_thread
from .models import MarkupRule, OfferStatus, OfferVersion, PricingSettings, Supplier

DEMO_SUPPLIERS = [
    # name, kind, port, seed, discount, latency (for `make run`), cut-off, transit days
    ("АвтоРесурс (ABCP)", "abcp", 8701, 1, "12", "80:250", "15:00", 0),
    ("Армтек", "armtek", 8702, 2, "8", "150:400", "14:00", 1),
    ("ПартКом (ABCP)", "abcp", 8703, 3, "15", "300:900", "12:00", 1),
    # A second Armtek contract (the same demo service) whose daily request quota is spent:
    # its searches stop with a message, and the suppliers page says so.
    ("Армтек, договор Урал", "armtek", 8702, 2, "6", "150:400", "13:00", 2),
    # The Autoeuro (REST v2) and Parts-Soft shapes, each from its own demo service.
    ("Автоевро", "autoeuro", 8704, 4, "10", "100:300", "16:00", 1),
    ("ЗапчастиПро (Parts-Soft)", "partssoft", 8705, 5, "9", "120:350", "13:00", 1),
    # Rossko speaks SOAP (its own demo instance; KEY1/KEY2 are the demo's login and password).
    ("Росско", "rossko", 8706, 6, "10", "100:300", "16:00", 0),
]
# Autoeuro: the demo account's delivery point and payer (get_deliveries, get_payers).
AUTOEURO_OPTIONS = {"delivery_key": "demo-pickup-msk", "payer_key": "demo-payer"}
# Where each kind's API lives on its host (Autoeuro under /api/v2/json, Rossko under
# /service/v2.1, the others at the root).
API_PATHS = {"autoeuro": "/api/v2/json", "rossko": "/service/v2.1"}
ARMTEK_OPTIONS = {"VKORG": "4000", "KUNNR_RG": "43000001", "KUNNR_ZA": "43000101", "INCOTERMS": "0"}
ROSSKO_OPTIONS = {
    "delivery_id": "000000001",  # pick-up at the supplier's warehouse
    "payment_id": "1",
    "contact_name": "Мастер-приёмщик",
    "contact_phone": "+74951234567",
}
SPENT_QUOTA_SUPPLIER = "Армтек, договор Урал"
SPENT_QUOTA_LIMIT = 300
MARKUPS = [("", "0", "45"), ("", "3000", "30"), ("", "15000", "20"), ("original", "0", "25")]


def _options(name: str, kind: str) -> dict:
    if kind == "armtek":
        options = dict(ARMTEK_OPTIONS)
        if name == SPENT_QUOTA_SUPPLIER:
            options["daily_request_limit"] = SPENT_QUOTA_LIMIT
        return options
    if kind == "autoeuro":
        return dict(AUTOEURO_OPTIONS)
    if kind == "partssoft":
        return {}
    if kind == "rossko":
        return dict(ROSSKO_OPTIONS)
    return {"use_online_stocks": True}


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def load(*, shop: Shop, stdout) -> None:
    for name, kind, port, _seed, discount, _latency, cutoff, transit in DEMO_SUPPLIERS:
        Supplier.objects.update_or_create(
            shop=shop,
            name=name,
            defaults={
                "kind": kind,
                "base_url": f"http://127.0.0.1:{port}{API_PATHS.get(kind, '')}",
                "login": "demo",
                "secret": "demo",
                "options": _options(name, kind),
                "discount_pct": Decimal(discount),
                "cutoff_time": cutoff,
                "transit_days": transit,
            },
        )
    # Every `make run` spends the Ural contract's quota for today again.
    services.supplier_quota_spend(
        supplier=Supplier.objects.get(shop=shop, name=SPENT_QUOTA_SUPPLIER), used=SPENT_QUOTA_LIMIT
    )
    PricingSettings.objects.get_or_create(shop=shop)
    if not MarkupRule.objects.filter(shop=shop).exists():
        for quality, price_from, pct in MARKUPS:
            MarkupRule.objects.create(
                shop=shop, quality=quality, price_from_rub=Decimal(price_from), markup_pct=pct
            )
    if OfferVersion.objects.filter(offer__shop=shop).exists():
        return
    # The demo offers need real answers: start the demo suppliers here when `make run`
    # has not started them yet, and stop them afterwards.
    ports = {port: seed for _n, _k, port, seed, *_rest in DEMO_SUPPLIERS}
    started = [
        start_in_thread(port=port, seed=seed) for port, seed in ports.items() if _port_free(port)
    ]
    try:
        _demo_offers(shop)
    finally:
        for handle in started:
            handle.stop()
    stdout.write("Демо-поставщики и предложения клиентам созданы.")


def _mentioned(part: str, description: str) -> bool:
    """Whether the driver's words name the part: every word of its name, by its first three
    letters, so that «фару» finds «фара правая» and «переднее правое крыло» the right wing."""
    said = {word[:3] for word in re.findall(r"\w+", description.lower())}
    with translation.override(None):  # the part's own (Russian) name, as the driver writes
        name = str(dict(PART_CHOICES)[part])
    return all(word[:3] in said for word in name.lower().split())


def lead_car_numbers(lead: Lead) -> list[str]:
    """OEM numbers that belong to the lead's own car: its estimate's replaced parts, then the
    platform's catalogue for the make, model and year the driver gave, the parts the driver
    describes first. Empty when the catalogue numbers nothing of that car: a demo offer
    never borrows another model's part."""
    numbers = offers.estimate_numbers(lead)
    catalogue = reference_numbers_for_car(lead.vehicle_make, lead.vehicle_model, lead.vehicle_year)
    ordered = sorted(catalogue, key=lambda part: not _mentioned(part, lead.description))
    numbers += [catalogue[part] for part in ordered if catalogue[part] not in numbers]
    return numbers


def _demo_offers(shop: Shop) -> None:
    from .demo_supplier import DemoCatalogue

    stocked = set(DemoCatalogue(1).stocked_numbers)
    advisor = shop.memberships.filter(role=Role.ADVISOR).first()
    plan = [
        (Status.IN_PROGRESS, OfferStatus.DRAFT),
        (Status.OFFER_SENT, OfferStatus.SENT),
        (Status.BOOKED, OfferStatus.ACCEPTED),
        (Status.LOST, OfferStatus.EXPIRED),
    ]
    for lead_status, offer_status in plan:
        # The first lead in that state whose car the catalogue numbers (and the demo
        # suppliers stock); a state with none such gets no demo offer.
        lead, numbers = None, []
        for candidate in Lead.objects.filter(shop=shop, status=lead_status).order_by("number"):
            numbers = [n for n in lead_car_numbers(candidate) if n in stocked][:2]
            if numbers:
                lead = candidate
                break
        if lead is None:
            continue
        search = services.search_start(shop=shop, by=advisor, numbers=numbers, lead=lead)
        services.search_run(search.pk)
        version = offers.offer_build(lead=lead, search=search, by=advisor)
        now = timezone.now()
        if offer_status == OfferStatus.DRAFT:
            continue
        version.status = OfferStatus.SENT
        version.sent_at = now - dt.timedelta(hours=5)
        version.valid_until = timezone.localdate() + dt.timedelta(days=3)
        if offer_status == OfferStatus.EXPIRED:
            version.sent_at = now - dt.timedelta(days=9)
            version.valid_until = timezone.localdate() - dt.timedelta(days=6)
        if offer_status == OfferStatus.ACCEPTED:
            choice = {str(i): 0 for i in range(len(version.positions))}
            version.status = OfferStatus.ACCEPTED
            version.accepted_at = now - dt.timedelta(hours=2)
            version.accepted_choice = choice
            version.accepted_total_rub = offers.option_total(version, choice)
            version.accepted_ip = "95.24.18.7"
            version.accepted_user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Safari/604.1"
        version.save()
