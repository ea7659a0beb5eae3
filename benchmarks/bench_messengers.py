"""Messenger notifications on a real worker: the Procfile's Celery worker (2 processes) with a
redis-server of its own sends each new lead to a fake Telegram and a fake MAX on loopback
(tests/messengers/fake_bots.py, the documented answers). Leads are created one after another
(every 0.25 s, as a busy shop's form would), each to one advisor with both chats linked.
Figure: p99 time from the lead's commit to the messenger receiving the message, budget 5 s
(the issue's promise). Baseline in the same run: a bare `http.client` sendMessage to the same
fake from this process; the ratio says what the outbox, the broker and the worker add."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import report, setup_django

setup_django()

from django.db import transaction  # noqa: E402

from autoservice.celery import app as celery_app  # noqa: E402
from autoservice.models import Membership, OutboxMessage, Shop  # noqa: E402
from leads.services import LeadInput, lead_create  # noqa: E402
from messengers.models import ChatLink, MessengerBot  # noqa: E402
from messengers.services import SEND  # noqa: E402
from tests.messengers.fake_bots import FakeBot  # noqa: E402
from tests.realstack import (  # noqa: E402
    Processes,
    RedisServer,
    free_port,
    processes_database_url,
    procfile_commands,
    reset_broker_pools,
    wait_for,
)

LEADS = 60
INTERVAL_S = 0.25
BUDGET_MS = 5000


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def _bare(fake: FakeBot, repeat: int) -> list[float]:
    host, port = fake.base.removeprefix("http://").split(":")
    samples = []
    for n in range(repeat):
        body = json.dumps({"chat_id": "1297094036", "text": f"замер {n}"}).encode()
        started = time.monotonic()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request(
            "POST", f"/bot{fake.token}/sendMessage", body, {"Content-Type": "application/json"}
        )
        assert conn.getresponse().status == 200
        conn.close()
        samples.append((time.monotonic() - started) * 1000)
    return samples


def main() -> None:
    from django.contrib.auth import get_user_model

    shop = Shop.objects.create(name="Замер мессенджеров", slug=f"msg-bench-{time.time_ns()}")
    user = get_user_model().objects.create_user(f"bench-{time.time_ns()}@example.ru")
    advisor = Membership.objects.create(user=user, shop=shop)
    processes = Processes(Path(tempfile.mkdtemp(prefix="messengers-bench-")))
    with FakeBot("telegram") as telegram, FakeBot("max") as mx:
        MessengerBot.objects.create(shop=shop, kind="telegram", token=telegram.token, enabled=True)
        MessengerBot.objects.create(shop=shop, kind="max", token=mx.token, enabled=True)
        ChatLink.objects.create(membership=advisor, kind="telegram", chat_id="1297094036")
        ChatLink.objects.create(membership=advisor, kind="max", chat_id="4005123")
        redis_server = RedisServer(processes, free_port())
        redis_server.start()
        try:
            env = {
                **os.environ,
                "DEBUG": "true",
                "DATABASE_URL": processes_database_url(),
                "REDIS_URL": redis_server.url,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "TELEGRAM_API_BASE": telegram.base,
                "MAX_API_BASE": mx.base,
                "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
                "VAR_DIR": str(processes.folder),
            }
            processes.start(
                "worker",
                ["bash", "-c", f"exec {procfile_commands()['worker_notify']}"],
                env=env,
                cwd=str(Path(__file__).resolve().parent.parent),
            )
            wait_for(
                lambda: "ready." in processes.log("worker"),
                seconds=60,
                what="the worker is ready",
                context=lambda: processes.log("worker")[-3000:],
            )
            celery_app.conf.broker_url = redis_server.url
            celery_app.conf.task_always_eager = False
            reset_broker_pools()

            committed: dict[int, float] = {}
            for n in range(LEADS):
                with transaction.atomic():
                    lead, _created = lead_create(
                        shop=shop,
                        data=LeadInput(
                            customer_name="Замер",
                            phone=f"+7912{n:07d}",
                            vehicle_make="Kia",
                            vehicle_model="Rio",
                            description="Помят бампер",
                        ),
                        channel="photo",
                    )
                committed[lead.number] = time.monotonic()
                time.sleep(INTERVAL_S)
            wait_for(
                lambda: (
                    len(telegram.calls("sendMessage")) >= LEADS
                    and len(mx.calls("messages")) >= LEADS
                ),
                seconds=120,
                what="every lead reached both messengers",
                context=lambda: processes.log("worker")[-3000:],
            )
            latencies = []
            for seen in telegram.calls("sendMessage") + mx.calls("messages"):
                number = int(seen.body["text"].split("№", 1)[1].split()[0])
                latencies.append((seen.at - committed[number]) * 1000)
            bare = _bare(telegram, LEADS)
        finally:
            processes.kill_all()

    copies = len(latencies) - 2 * LEADS
    p99, p50, bare_p99 = _p99(latencies), statistics.median(latencies), _p99(bare)
    print(
        f"{LEADS} leads x 2 messengers: p50 {p50:.0f} ms, p99 {p99:.0f} ms from commit to the "
        f"fake; bare sendMessage p99 {bare_p99:.1f} ms (ratio {p99 / bare_p99:.0f}); "
        f"copies {copies}"
    )
    report(
        "new lead to Telegram and MAX, p99", round(p99), "ms", f"<= {BUDGET_MS}", p99 <= BUDGET_MS
    )
    report(
        "messenger delivery / bare sendMessage p99",
        round(p99 / bare_p99, 1),
        "ratio",
        "report",
        True,
    )
    report("messenger copies", copies, "messages", "0", copies == 0)
    OutboxMessage.objects.filter(shop=shop, kind=SEND).delete()
    shop.delete()
    user.delete()


if __name__ == "__main__":
    main()
