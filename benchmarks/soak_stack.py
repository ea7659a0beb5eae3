"""`make soak`: the real stack (gunicorn, worker and beat from the Procfile, a redis-server
and an SMTP server of its own) runs for SOAK_MINUTES (10) with a driver's request every 5 s.
At the end: beat's log must hold no error, every lead must have its e-mail, and
/healthz/ready must answer 200. Exit status 1 otherwise."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import setup_django

setup_django()

from autoservice.models import Shop  # noqa: E402
from leads.models import Lead  # noqa: E402
from tests.realstack import (  # noqa: E402
    Burst,
    Processes,
    Stack,
    wait_for,
)


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES", "10"))
    shop = Shop.objects.create(
        name="Проверка стека", slug=f"soak-{int(time.time())}", notification_emails="p@example.ru"
    )
    processes = Processes(Path(tempfile.mkdtemp(prefix="soak-")))
    try:
        stack = Stack.launch(processes)
        smtp = stack.smtp
        burst = Burst(stack, shop.slug, seconds=minutes * 60, interval=5)
        burst.run()
        leads = set(Lead.objects.filter(shop=shop).values_list("pk", flat=True))

        wait_for(
            lambda: all(smtp.lead_copies(leads).values()), seconds=60, what="every lead notified"
        )
        with urllib.request.urlopen(stack.url + "/healthz/ready", timeout=5) as response:
            ready = (response.status, json.loads(response.read()))
        beat_log = processes.log("beat")
        errors = [line for line in beat_log.splitlines() if "ERROR" in line or "Traceback" in line]
        sent = len(re.findall(r"Sending due task", beat_log))
        statuses = sorted({status for _second, status in burst.statuses})
        print(
            f"{minutes:g} min: {len(leads)} leads, answers {statuses}, all notified; "
            f"beat sent {sent} scheduled tasks with {len(errors)} error line(s); "
            f"ready: {ready[0]} {ready[1]}"
        )
        for line in errors[:20]:
            print("   ", line)
        return 0 if not errors and ready[0] == 200 and statuses == [302] else 1
    finally:
        processes.kill_all()


if __name__ == "__main__":
    sys.exit(main())
