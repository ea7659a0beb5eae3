"""Ordering from an accepted offer: 10 lines across 3 demo suppliers (separate processes on
loopback with set latencies 150, 350 and 600 ms). The baseline, measured in the same run,
is each supplier's own answer to an order of its lines, asked alone; the figure is the
advisor's confirmation through to every order placed, divided by the slowest of them."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from decimal import Decimal

from common import ROOT, report, setup_django

setup_django()

from django.utils import timezone  # noqa: E402

from autoservice.models import Shop  # noqa: E402
from leads.models import Lead  # noqa: E402
from optima import ordering, services  # noqa: E402
from optima.demo_supplier import DemoCatalogue  # noqa: E402
from optima.models import CustomerOffer, OfferStatus, OfferVersion, Supplier  # noqa: E402
from optima.ordering_models import OrderStatus, SupplierOrder  # noqa: E402
from optima.suppliers import normalize_number  # noqa: E402
from optima.suppliers.orders import OrderLineRequest, order_client_for  # noqa: E402
from tests.factories import LeadFactory  # noqa: E402

LATENCIES_MS = [150, 350, 600]
LINES_PER_SUPPLIER = [4, 3, 3]
RUNS = 5
processes = []


def start(seed: int, latency_ms: int) -> str:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "optima.demo_supplier",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--latency-ms",
            f"{latency_ms}:{latency_ms}",
            "--order-stage-s",
            "600",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(proc)
    return re.search(r"http://[0-9.:]+", proc.stdout.readline()).group(0)


def accepted_version(shop, lead, suppliers, picks) -> OfferVersion:
    positions = []
    for supplier, numbers in zip(suppliers, picks, strict=True):
        for number in numbers:
            answer = services.supplier_ask(
                supplier=supplier, number=normalize_number(number), deadline=time.monotonic() + 10
            )
            offer = ([o for o in answer.offers if not o.is_cross] or answer.offers)[0]
            option = {
                "label": "самый выгодный",
                "brand": offer.brand,
                "number": offer.number_raw,
                "name": offer.name,
                "quality": offer.quality,
                "supplier_id": supplier.pk,
                "supplier_name": supplier.name,
                "list_price_rub": str(offer.price_rub),
                "purchase_rub": str(offer.price_rub),
                "customer_rub": str(offer.price_rub * Decimal("1.3")),
                "delivery_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
                "warranty_months": None,
                "order_ref": offer.order_ref,
                "number_key": offer.number_key,
                "in_stock": True,
            }
            positions.append({"number": number, "name": offer.name, "options": [option]})
    offer = CustomerOffer.objects.create(shop=shop, lead=lead)
    return OfferVersion.objects.create(
        offer=offer,
        number=1,
        positions=positions,
        status=OfferStatus.ACCEPTED,
        accepted_at=timezone.now(),
        accepted_choice={str(i): 0 for i in range(len(positions))},
    )


try:
    urls = [start(40 + i, ms) for i, ms in enumerate(LATENCIES_MS)]
    shop, _ = Shop.objects.get_or_create(
        slug="bench-ordering", defaults={"name": "Бенчмарк: заказ запчастей"}
    )
    SupplierOrder.objects.filter(shop=shop).delete()
    Supplier.objects.filter(shop=shop).delete()
    kinds = ["abcp", "armtek", "abcp"]
    suppliers = [
        Supplier.objects.create(
            shop=shop,
            name=f"Демо {ms} мс",
            kind=kind,
            base_url=url,
            login="demo",
            secret="demo",
            options={"VKORG": "4000", "KUNNR_RG": "43000001"} if kind == "armtek" else {},
            timeout_s=5,
        )
        for kind, url, ms in zip(kinds, urls, LATENCIES_MS, strict=True)
    ]
    picks = [
        DemoCatalogue(40 + i).oem_numbers[:count] for i, count in enumerate(LINES_PER_SUPPLIER)
    ]
    lead = Lead.objects.filter(shop=shop).first() or LeadFactory(shop=shop)

    ratios, totals, slowests, sums = [], [], [], []
    for run in range(RUNS):
        # Baseline: each supplier answers an order of its own lines, asked alone.
        answers_ms = []
        for supplier, numbers in zip(suppliers, picks, strict=True):
            version = accepted_version(shop, lead, [supplier], [numbers])
            client = order_client_for(
                supplier.kind,
                base_url=supplier.base_url,
                credentials=services.supplier_credentials(supplier),
                timeout_s=5,
            )
            lines = [
                OrderLineRequest(
                    i,
                    p["options"][0]["brand"],
                    p["options"][0]["number"],
                    p["options"][0]["number_key"],
                    1,
                    Decimal(p["options"][0]["list_price_rub"]),
                    p["options"][0]["order_ref"],
                )
                for i, p in enumerate(version.positions)
            ]
            started = time.perf_counter()
            client.place(f"BENCH-{run}-{supplier.pk}-{time.time_ns()}", lines)
            answers_ms.append((time.perf_counter() - started) * 1000)
        slowest = max(answers_ms)

        # The advisor confirms 10 lines across the 3 suppliers: every order placed.
        version = accepted_version(shop, lead, suppliers, picks)
        started = time.perf_counter()
        # Confirmation commits, and its on_commit hands the orders to place_supplier_orders
        # (run inline here: CELERY_TASK_ALWAYS_EAGER), exactly the advisor's path; a second
        # placing afterwards finds them all placed and changes nothing.
        orders, _created = ordering.orders_confirm(version=version, by=None)
        total = (time.perf_counter() - started) * 1000
        ordering.orders_place([o.pk for o in orders])
        placed = SupplierOrder.objects.filter(version=version, status=OrderStatus.PLACED).count()
        assert placed == 3, f"placed {placed} of 3"
        lines = sum(o.lines.count() for o in orders)
        assert lines == 10, lines
        ratios.append(total / slowest)
        totals.append(total)
        slowests.append(slowest)
        sums.append(sum(answers_ms))
        print(
            f"run {run + 1}: suppliers alone {', '.join(f'{ms:.0f}' for ms in answers_ms)} ms; "
            f"10 lines to 3 suppliers placed in {total:.0f} ms"
        )

    median = sorted(ratios)[RUNS // 2]
    report(
        "ordering 10 lines / 3 suppliers: total / slowest",
        round(median, 2),
        "×",
        "≤ 1.2",
        median <= 1.2,
    )
    report(
        "ordering: total (median run)",
        round(sorted(totals)[RUNS // 2]),
        "ms",
        f"slowest alone {round(sorted(slowests)[RUNS // 2])} ms",
        True,
    )
    report(
        "ordering: the suppliers one by one (median run)",
        round(sorted(sums)[RUNS // 2]),
        "ms",
        "report",
        True,
    )
finally:
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.wait(timeout=10)
