from __future__ import annotations

import pytest
from django.conf import settings

from tests.factories import MembershipFactory, ShopFactory


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "Тесты идут на настоящем PostgreSQL: запустите `make test` "
            f"или задайте DATABASE_URL=postgres://... (сейчас: {engine})"
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The shipped calculator data, loaded once into the test database."""
    from smartcalc.loader import load_calc_data

    with django_db_blocker.unblock():
        load_calc_data()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes its files into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


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
