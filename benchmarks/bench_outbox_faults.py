"""The outbox on the real stack (gunicorn, worker and beat from the Procfile, a redis-server
and an SMTP server of its own): drivers send the photo form, first with nothing failing (the
baseline: form answer to the shop's e-mail), then while the worker is killed with SIGKILL at
random moments. Figures: leads left without an e-mail (must be 0), copies per lead (at least
once: only a message in flight at a kill can be doubled), and how long after the last kill
the backlog is cleared, as a ratio to the outbox's own bound (lease + dispatch interval)."""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from common import report, setup_django

setup_django()

from django.conf import settings  # noqa: E402

from autoservice.models import Shop  # noqa: E402
from leads.models import Lead  # noqa: E402
from tests.realstack import (  # noqa: E402
    Burst,
    Processes,
    Stack,
    wait_for,
)

KILLS = 8


def leads_of(shop: Shop, tag: str) -> dict[int, int]:
    """Lead pk -> the driver's number, for the leads whose description carries the tag."""
    found = {}
    for pk, description in Lead.objects.filter(shop=shop).values_list("pk", "description"):
        match = re.search(rf"{tag} (\d+)$", description)
        if match:
            found[pk] = int(match.group(1))
    return found


def main() -> None:
    rnd = random.Random(20261130)
    shop = Shop.objects.create(
        name="Замер доставки",
        slug=f"outbox-bench-{time.time_ns()}",  # a shop of its own on every run
        notification_emails="priemka@example.ru",
    )
    processes = Processes(Path(tempfile.mkdtemp(prefix="outbox-bench-")))
    try:
        stack = Stack.launch(processes)
        smtp = stack.smtp

        # Baseline: nothing fails.
        calm = Burst(stack, shop.slug, seconds=12, interval=0.25, tag="спокойно")
        calm.run()
        calm_leads = leads_of(shop, "спокойно")
        wait_for(
            lambda: all(smtp.lead_copies(calm_leads).values()),
            seconds=60,
            what="the baseline leads notified",
        )
        copies = smtp.lead_copies(calm_leads)
        latencies = [
            (min(copies[pk]) - calm.answered_at[number]) * 1000 for pk, number in calm_leads.items()
        ]
        p50 = statistics.median(latencies)
        p99 = sorted(latencies)[max(0, int(len(latencies) * 0.99) - 1)]

        # Random kills of the worker during a burst.
        burst = Burst(stack, shop.slug, seconds=40, interval=0.2, tag="с отказами")
        burst.start()
        kill_times = sorted(rnd.uniform(2, 36) for _ in range(KILLS))
        started = time.monotonic()
        for moment in kill_times:
            time.sleep(max(0.0, started + moment - time.monotonic()))
            stack.kill("worker_notify")
            time.sleep(0.5)
            stack.start("worker_notify")
        last_kill = time.monotonic()
        burst.join()
        statuses = [status for _second, status in burst.statuses]
        faulty_leads = leads_of(shop, "с отказами")
        bound = (
            settings.OUTBOX_LEASE_SECONDS
            + settings.CELERY_BEAT_SCHEDULE["outbox-dispatch"]["schedule"]
            + 30
        )
        deadline = last_kill + bound * 2
        while time.monotonic() < deadline:
            if all(smtp.lead_copies(faulty_leads).values()):
                break
            time.sleep(0.5)
        cleared = time.monotonic() - last_kill
        copies = smtp.lead_copies(faulty_leads)
        lost = sum(1 for found in copies.values() if not found)
        duplicates = sum(max(len(found) - 1, 0) for found in copies.values())
        print(
            f"baseline: {len(calm_leads)} leads, POST -> e-mail p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        )
        print(
            f"{KILLS} kills: {len(faulty_leads)} leads, {len(statuses)} posts, "
            f"{sum(s >= 500 for s in statuses)} answers >= 500, {lost} without e-mail, "
            f"{duplicates} duplicate(s), cleared {cleared:.1f} s after the last kill "
            f"(bound {bound:.0f} s)"
        )
        report("outbox: POST -> e-mail p50, nothing failing", round(p50), "ms", "report", True)
        report(
            f"outbox: leads without e-mail, {KILLS} worker kills",
            lost,
            "leads",
            "= 0",
            lost == 0 and len(faulty_leads) == len(statuses),
        )
        report(
            f"outbox: 5xx answers to drivers, {KILLS} kills",
            sum(s >= 500 for s in statuses),
            "answers",
            "= 0",
            all(s < 500 for s in statuses),
        )
        rate = 100 * duplicates / max(len(faulty_leads), 1)
        report(
            f"outbox: duplicate e-mails, {KILLS} kills",
            round(rate, 2),
            "% leads",
            "<= 2 %",
            rate <= 2,
        )
        report(
            "outbox: backlog cleared after the last kill / bound",
            round(cleared / bound, 2),
            "x",
            "<= 1.0",
            cleared <= bound,
        )
    finally:
        processes.kill_all()


if __name__ == "__main__":
    main()
