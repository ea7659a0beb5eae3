"""Server time and SQL queries of the public landing page and the staff home page."""

from __future__ import annotations

from common import median_ms, report, setup_django

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from autoservice.models import Membership  # noqa: E402

call_command("demo", verbosity=0, stdout=open("/dev/null", "w"))


def measure(name: str, client: Client, url: str, budget_ms: float, budget_queries: int) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    ms = median_ms(lambda: client.get(url), repeat=200)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    report(f"{name}: server time", round(ms, 2), "ms", f"≤ {budget_ms}", ms <= budget_ms)
    count = len(queries)
    report(f"{name}: SQL queries", count, "queries", f"≤ {budget_queries}", count <= budget_queries)


anonymous = Client()
measure("landing page /", anonymous, "/", 50, 3)
measure("shop page /s/demo/", anonymous, "/s/demo/", 50, 3)

staff = Client()
staff.force_login(Membership.objects.get(user__username="advisor1@demo.local").user)
measure("demo inbox /staff/leads/", staff, "/staff/leads/", 50, 12)
