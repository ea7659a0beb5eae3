"""The per-token budget holds under concurrency: many requests at once, from several server
threads, and exactly API_RATE_PER_MINUTE of them pass; the rest get 429 with Retry-After."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache

from api.auth import THROTTLE_WINDOW, window_count
from autoservice.apitokens import token_create
from tests.concurrency import run_together
from tests.factories import ShopFactory


def _away_from_the_minutes_edge() -> None:
    """The budget is per calendar minute: a burst that straddles two minutes would get two
    budgets. Start the burst with at least 15 s of the minute left."""
    left = THROTTLE_WINDOW - time.time() % THROTTLE_WINDOW
    if left < 15:
        time.sleep(left + 0.5)


def test_the_counter_is_atomic_across_threads():
    cache.delete("h3-atomic-test")
    counts = run_together(40, lambda _i: window_count("h3-atomic-test"))
    # Every increment is seen once: no two threads read the same count.
    assert sorted(counts) == list(range(1, 41))


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_at_the_limit_pass_exactly_the_budget(live_server, settings):
    settings.API_RATE_PER_MINUTE = 5
    shop = ShopFactory()
    _token, raw = token_create(shop=shop, name="amoCRM", scopes=["leads:read"])
    url = f"{live_server.url}/api/v1/leads/?limit=1"
    _away_from_the_minutes_edge()

    def call(_index: int) -> tuple[int, dict, dict]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {raw}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.load(error)

    answers = run_together(16, call)
    statuses = sorted(status for status, _h, _b in answers)
    assert statuses == [200] * 5 + [429] * 11
    for status, headers, body in answers:
        if status == 429:
            assert 1 <= int(headers["Retry-After"]) <= THROTTLE_WINDOW
            assert headers["Content-Type"] == "application/problem+json"
            assert body["type"].endswith("/api/problems/rate-limited")
            assert headers["Retry-After"] in body["detail"]


def test_an_unreachable_cache_lets_requests_through(settings):
    """The budget protects the service and guards no data: without Redis the API serves."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    assert window_count("h3-unreachable") is None
