"""Webhook dispatch: N deliveries to a receiver on loopback (a threaded HTTP server) through
the real delivery code (claim with a lease, Standard Webhooks signature, the outbound policy,
the record of the answer), by 2 processes as the Procfile's worker runs 2 at a time. Figure:
deliveries per second, budget at least 200. Baseline in the same run: bare `http.client`
POSTs of the same signed bodies to the same receiver by 2 processes, with no database; the
ratio says what the delivery's bookkeeping costs."""

from __future__ import annotations

import http.client
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from urllib.parse import urlsplit

from common import report, setup_django

setup_django()

from django.db import connections  # noqa: E402

from autoservice.models import Shop  # noqa: E402
from tests.webhooks.receiver import Receiver  # noqa: E402
from webhooks import signing  # noqa: E402
from webhooks.delivery import delivery_attempt  # noqa: E402
from webhooks.models import WebhookDelivery  # noqa: E402
from webhooks.services import endpoint_create  # noqa: E402

N = 1000
PROCESSES = 2
BUDGET_PER_S = 200


def _payload(number: int) -> dict:
    return {
        "type": "lead.created",
        "timestamp": "2026-11-30T08:15:02.123456Z",
        "data": {"lead_id": number, "number": number, "channel": "photo"},
    }


def _deliver(ids: list[int]) -> list[str]:
    try:
        return [delivery_attempt(pk) for pk in ids]
    finally:
        connections.close_all()


def _bare(job: tuple[str, str, list[int]]) -> int:
    url, secret, numbers = job
    parts = urlsplit(url)
    ok = 0
    for number in numbers:
        body = signing.body_bytes(_payload(number))
        headers = signing.headers(
            secrets=[secret], msg_id=f"evt_bare{number}", timestamp=int(time.time()), body=body
        )
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        conn.request("POST", parts.path, body=body, headers=headers)
        ok += conn.getresponse().status == 200
        conn.close()
    return ok


def main() -> None:
    shop = Shop.objects.create(name="Замер вебхуков", slug=f"webhooks-bench-{time.time_ns()}")
    with Receiver() as receiver:
        endpoint, secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                shop=shop,
                endpoint=endpoint,
                event_id=f"evt_bench{number}",
                event_type="lead.created",
                subject=f"lead:{number}",
                payload=_payload(number),
            )
            for number in range(N)
        )
        ids = [d.pk for d in deliveries]
        chunks = [ids[i::PROCESSES] for i in range(PROCESSES)]
        # Each worker process opens its own database connection, as Celery's do.
        connections.close_all()
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(PROCESSES, mp_context=fork) as pool:
            list(pool.map(abs, range(PROCESSES)))  # the processes are up before the clock
            started = time.perf_counter()
            outcomes = [o for chunk in pool.map(_deliver, chunks) for o in chunk]
            dispatch_s = time.perf_counter() - started

            jobs = [(receiver.url, secret, list(range(N))[i::PROCESSES]) for i in range(PROCESSES)]
            started = time.perf_counter()
            bare_ok = sum(pool.map(_bare, jobs))
            bare_s = time.perf_counter() - started

    delivered = outcomes.count("delivered")
    assert delivered == N, {o: outcomes.count(o) for o in set(outcomes)}
    assert bare_ok == N
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").count() == N
    rate = N / dispatch_s
    bare_rate = N / bare_s
    print(
        f"{N} deliveries by {PROCESSES} processes: {rate:.0f}/s through the delivery code, "
        f"{bare_rate:.0f}/s bare http.client posts (ratio {rate / bare_rate:.2f})"
    )
    report(
        "webhook dispatch to a loopback receiver",
        round(rate),
        "deliveries/s",
        f">= {BUDGET_PER_S}",
        rate >= BUDGET_PER_S,
    )
    report("webhook dispatch / bare posts", round(rate / bare_rate, 2), "ratio", "report", True)
    WebhookDelivery.objects.filter(shop=shop).delete()
    endpoint.delete()
    shop.delete()


if __name__ == "__main__":
    main()
