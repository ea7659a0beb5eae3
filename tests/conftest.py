from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.factories import MembershipFactory, ShopFactory
from tests.s3 import files_under, s3, use_bucket  # noqa: F401 (the `s3` fixture)

# `make test-s3`: the whole suite with every file in the loopback S3 server.
S3_RUN = settings.STORAGE == "s3"


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "Тесты идут на настоящем PostgreSQL: запустите `make test` "
            f"или задайте DATABASE_URL=postgres://... (сейчас: {engine})"
        )
    _own_redis_database_per_xdist_worker()
    _outbound_to_the_tests_own_servers()


def _outbound_to_the_tests_own_servers() -> None:
    """The tests' suppliers and price lists are real servers on 127.0.0.1 (any port): the
    outbound policy lets them through, as `make test` says with OUTBOUND_ALLOWED_HOSTS.
    tests/autoservice/test_outbound.py empties the list to see the policy refuse them."""
    if not os.environ.get("OUTBOUND_ALLOWED_HOSTS"):
        settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def _own_redis_database_per_xdist_worker() -> None:
    """Under pytest-xdist each worker gets its own test database (pytest-django does that)
    and, here, its own Redis database: every test clears the cache, and one worker must not
    wipe another's rate-limit counters or heartbeat in the middle of a test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not settings.REDIS_URL:
        return
    base, _slash, number = settings.REDIS_URL.rpartition("/")
    url = f"{base}/{(int(number or 0) + 8 + int(worker[2:])) % 16}"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    for conf in settings.CACHES.values():
        if "redis" in conf["BACKEND"]:
            conf["LOCATION"] = url


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The shipped calculator data, loaded once into the test database."""
    from smartcalc.loader import load_calc_data

    with django_db_blocker.unblock():
        load_calc_data()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path, monkeypatch):
    """Every test writes its files into its own folder (and publishes its seals there).

    With STORAGE=s3 (`make test-s3`) every test gets a bucket of its own on the loopback S3
    server instead, and fails if a single file still lands under MEDIA_ROOT: every stored
    file must go through the storage API."""
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = media_root
    settings.INTAKE_SEAL_LOG = tmp_path / "intake-seal-log.txt"
    if not S3_RUN:
        yield
        return
    bucket = use_bucket(settings, monkeypatch)
    yield
    written = files_under(media_root)
    try:
        from autoservice import storage

        storage.bucket_drop(bucket)
    except Exception:  # a test that took the server's endpoint away; the bucket stays
        pass
    if written:
        pytest.fail(f"STORAGE=s3, но файлы записаны в MEDIA_ROOT: {written[:5]}", pytrace=False)


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language and leaves it so: a request in another
    language activates it for the whole thread, and code run outside a request afterwards
    (an outbox handler, a service) would speak it in the next test."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def shop(db):
    return ShopFactory()


@pytest.fixture
def other_shop(db):
    return ShopFactory()


@pytest.fixture
def advisor(shop):
    return MembershipFactory(shop=shop)


@pytest.fixture
def manager(shop):
    return MembershipFactory(shop=shop, role="manager")


@pytest.fixture
def advisor_client(client, advisor):
    client.force_login(advisor.user)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager.user)
    return client


# The real processes of the full stack (redis-server, Celery worker, gunicorn), for the tests
# that prove promises about the running system.
from tests.realstack import (  # noqa: E402, F401
    broker,
    mail_dir,
    platform_consent_text,
    processes,
    push_events,
    push_redis,
    redis_server,
    second_connection,
    start_worker,
)


@pytest.hookimpl(trylast=True)  # after pytest-django has put transactional tests last
def pytest_collection_modifyitems(config, items):
    """Browser tests run one after another on one xdist worker (one Chromium at a time on
    two cores); everything else is spread over the workers (`make test` runs `-n 2`).

    Among the tests that commit, those restoring the serialized database (the browser
    tests) go first: a plain transactional test's flush recreates the content types under
    new ids, and restoring the serialized rows on top of them breaks a unique key."""

    def restores_serialized(item) -> bool:
        marker = item.get_closest_marker("django_db")
        return bool(marker and marker.kwargs.get("serialized_rollback"))

    first_committing = next((n for n, item in enumerate(items) if _commits(item)), len(items))
    committing = items[first_committing:]
    committing.sort(key=lambda item: not restores_serialized(item))  # stable
    items[first_committing:] = committing
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


def _commits(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )
