"""Shared set-up for benchmarks that need Django and the benchmark database."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autoservice.settings")


def setup_django() -> None:
    """Create the benchmark database if needed, migrate it and start Django."""
    import dj_database_url
    import django

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg2

        params = dj_database_url.parse(url)
        conn = psycopg2.connect(
            host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"], dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]])
            if not cur.fetchone():
                cur.execute(f'CREATE DATABASE "{params["NAME"]}"')
        conn.close()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def median_ms(func: Callable[[], object], *, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def report(name: str, figure: float, unit: str, budget: str, ok: bool) -> None:
    row = {"name": name, "figure": figure, "unit": unit, "budget": budget}
    row["verdict"] = "ok" if ok else "over"
    print("BENCH " + json.dumps(row, ensure_ascii=False), flush=True)
