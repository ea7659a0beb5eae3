"""Parts search: one fan-out to 20 demo suppliers (separate processes on loopback, latencies
80–600 ms, one that hangs) against the slowest answering supplier and against asking them
one by one; then the results page for 10 numbers × 20 suppliers."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
import uuid

from common import ROOT, median_ms, report, setup_django

setup_django()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from autoservice.models import Membership, Role, Shop  # noqa: E402
from optima import services  # noqa: E402
from optima.demo_supplier import DemoCatalogue  # noqa: E402
from optima.models import PricingSettings, Search, Supplier, SupplierAnswer  # noqa: E402
from tests.factories import UserFactory  # noqa: E402


def new_search(shop, numbers) -> Search:
    """A search row without queueing it: the benchmark runs and times it itself."""
    now = timezone.now()
    return Search.objects.create(
        shop=shop, numbers=numbers, deadline_at=now + dt.timedelta(seconds=DEADLINE_S)
    )


LATENCIES = [80 + (600 - 80) * i // 18 for i in range(19)]  # 19 answering suppliers
DEADLINE_S = 4

processes = []


def start(seed: int, *flags: str) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-m", "optima.demo_supplier", "--port", "0", "--seed", str(seed), *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(proc)
    return re.search(r"http://[0-9.:]+", proc.stdout.readline()).group(0)


try:
    urls = [start(i + 1, "--latency-ms", f"{ms}:{ms}") for i, ms in enumerate(LATENCIES)]
    urls.append(start(99, "--hang"))
    shop, _ = Shop.objects.get_or_create(
        slug="bench-parts", defaults={"name": "Бенчмарк: запчасти"}
    )
    PricingSettings.objects.update_or_create(shop=shop, defaults={"search_deadline_s": DEADLINE_S})
    Supplier.objects.filter(shop=shop).delete()
    suppliers = [
        Supplier.objects.create(
            shop=shop,
            name=f"Демо {i + 1}",
            kind="abcp",
            base_url=url,
            login="demo",
            secret="demo",
            timeout_s=DEADLINE_S,
        )
        for i, url in enumerate(urls)
    ]
    numbers = DemoCatalogue(1).oem_numbers
    from django.core.cache import cache

    cache.clear()
    search = new_search(shop, numbers[:1])
    started_at = timezone.now()
    started = time.perf_counter()
    services.search_run(search.pk)
    closed_ms = (time.perf_counter() - started) * 1000
    answers = list(SupplierAnswer.objects.filter(search=search))
    answered = [a for a in answers if a.state in ("answered", "no_stock")]
    slowest = max(a.elapsed_ms for a in answered)
    # Offers reach the page as each supplier answers: the advisor has every answer at the
    # moment the last answering supplier's offers were saved; the hanging one is cut off
    # at the deadline.
    wall_ms = max((a.fetched_at - started_at).total_seconds() * 1000 for a in answered)
    states = sorted({a.state for a in answers})
    print(
        f"fan-out: {len(answered)} of {len(answers)} answered, states {states}; "
        f"all answers in {wall_ms:.0f} ms, slowest answering supplier {slowest} ms, "
        f"hanging supplier cut off and search closed at {closed_ms:.0f} ms"
    )

    # The same questions one by one, without the cache, for the speed-up.
    started = time.perf_counter()
    for supplier in suppliers:
        services.supplier_ask(
            supplier=supplier, number=numbers[0], deadline=time.monotonic() + DEADLINE_S
        )
    sequential_ms = (time.perf_counter() - started) * 1000

    ratio = wall_ms / slowest
    report("parts fan-out: all answers / slowest", round(ratio, 2), "×", "≤ 1.15", ratio <= 1.15)
    report(
        "parts fan-out: search closed at",
        round(closed_ms),
        "ms",
        f"≤ {DEADLINE_S * 1000} (deadline)",
        closed_ms <= DEADLINE_S * 1000,
    )
    report(
        "parts fan-out: speed-up vs one by one",
        round(sequential_ms / wall_ms, 1),
        "×",
        "report",
        True,
    )

    # The results page: 10 numbers × 20 suppliers, finished.
    cache.clear()
    big = new_search(shop, numbers[:10])
    services.search_run(big.pk)
    small = new_search(shop, numbers[:1])
    services.search_run(small.pk)
    offers = sum(len(a.offers) for a in SupplierAnswer.objects.filter(search=big))
    member = Membership.objects.filter(shop=shop).first() or Membership.objects.create(
        user=UserFactory(username=f"bench-{uuid.uuid4().hex[:8]}@example.ru"),
        shop=shop,
        role=Role.ADVISOR,
    )
    client = Client()
    client.force_login(member.user)
    url = f"/staff/parts/{big.pk}/"
    assert client.get(url).status_code == 200
    ms = median_ms(lambda: client.get(url), repeat=20)
    with CaptureQueriesContext(connection) as q_big:
        client.get(url)
    with CaptureQueriesContext(connection) as q_small:
        client.get(f"/staff/parts/{small.pk}/")
    print(f"results page: {offers} offers from {len(suppliers)} suppliers for 10 numbers")
    report("parts results page, 10 numbers × 20 suppliers", round(ms, 1), "ms", "report", True)
    report(
        "parts results page queries (1 number)",
        f"{len(q_big)} ({len(q_small)})",
        "queries",
        "same",
        len(q_big) == len(q_small),
    )
finally:
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.wait(timeout=10)
