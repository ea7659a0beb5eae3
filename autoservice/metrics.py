"""The product's own Prometheus figures, observed where the work happens.

Histograms and counters live in `prometheus_client`. Each process (a gunicorn worker, a
Celery worker) keeps its own: with `PROMETHEUS_MULTIPROC_DIR` set (an empty folder, wiped
before the processes start, shared by all of them) every process writes its figures to files
there and `/metrics` in any web worker adds them all up; without it, `/metrics` shows the
answering process's own figures, which is right for `make run` and the tests.

Figures that are a state rather than a stream of events (outbox backlog, queue depths) are
read at scrape time in `autoservice.health`, not kept here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

# A supplier answers within its deadline (a few seconds) or times out.
SUPPLIER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0)
# A phone photo's renditions take a fraction of a second; a large HEIC a few.
PHOTO_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
# The shop's answer to a driver: minutes in the working day, hours or days over a weekend.
FIRST_RESPONSE_BUCKETS = (
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    24 * 3600,
    3 * 24 * 3600,
    7 * 24 * 3600,
)

supplier_answer_seconds = Histogram(
    "autoservice_supplier_answer_seconds",
    "Time a supplier took to answer one part search, by supplier kind and outcome.",
    ["kind", "outcome"],
    buckets=SUPPLIER_BUCKETS,
)
photo_processing_seconds = Histogram(
    "autoservice_photo_processing_seconds",
    "Time to make one photo's web rendition and thumbnail, by outcome.",
    ["outcome"],
    buckets=PHOTO_BUCKETS,
)
lead_first_response_seconds = Histogram(
    "autoservice_lead_first_response_seconds",
    "Time from a driver's request to the shop's first response.",
    buckets=FIRST_RESPONSE_BUCKETS,
)
http_requests = Counter(
    "autoservice_http_requests",
    "HTTP requests answered, by view name, method and status class.",
    ["view", "method", "status"],
)
http_request_seconds = Histogram(
    "autoservice_http_request_seconds",
    "Time to answer an HTTP request, by view name.",
    ["view"],
)


db_queries = Counter(
    "autoservice_db_queries",
    "Database statements run while answering HTTP requests, by view name and outcome.",
    ["view", "outcome"],
)
db_request_seconds = Histogram(
    "autoservice_db_request_seconds",
    "Time one HTTP request spent in the database, by view name.",
    ["view"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
page_cache = Counter(
    "autoservice_page_cache",
    "Drivers' pages answered by the page cache: hit, miss (rendered and kept), bypass "
    "(rendered: staff, a message, not the first look) or unavailable (the cache is away).",
    ["outcome"],
)


def supplier_outcome(state: str) -> str:
    """ok when the supplier answered (with offers or without), timeout, or error."""
    if state in ("answered", "no_stock"):
        return "ok"
    return "timeout" if state == "timeout" else "error"


def exposition() -> bytes:
    """All processes' figures when multiprocess mode is on, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Unrouted addresses (404 before any view) share one label: the path would let
        # anyone on the internet create series without end.
        return "<unresolved>"
    return match.view_name or "<unnamed>"


class _QueryTally:
    """The database work of one request: statements by outcome and their total time."""

    def __init__(self) -> None:
        self.ok = 0
        self.failed = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001 - Django's hook
        started = time.perf_counter()
        try:
            result = execute(sql, params, many, context)
        except Exception:
            self.failed += 1
            raise
        finally:
            self.seconds += time.perf_counter() - started
        self.ok += 1
        return result


class RequestMetricsMiddleware:
    """Counts requests and their time by view name (never by path: paths carry ids), and
    the database statements each view ran and the time they took."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        started = time.perf_counter()
        tally = _QueryTally()
        with connection.execute_wrapper(tally):
            response = self.get_response(request)
        view = _view_name(request)
        http_request_seconds.labels(view=view).observe(time.perf_counter() - started)
        if tally.ok:
            db_queries.labels(view=view, outcome="ok").inc(tally.ok)
        if tally.failed:
            db_queries.labels(view=view, outcome="error").inc(tally.failed)
        db_request_seconds.labels(view=view).observe(tally.seconds)
        status = f"{response.status_code // 100}xx"
        http_requests.labels(view=view, method=_method(request.method), status=status).inc()
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str | None) -> str:
    return method if method in _METHODS else "other"
