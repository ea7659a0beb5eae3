"""Suppliers with a daily request quota (Armtek: 1000 a day by default): our own count stops
searches before the quota is spent, the supplier's "quota spent" fills the day, and the
manager sees the count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from optima import offers, services
from optima.demo_supplier import start_in_thread
from optima.models import Search, SupplierAnswer, SupplierRequestCount
from tests.concurrency import run_together
from tests.factories import OfferVersionFactory, SupplierFactory

ARMTEK_OPTIONS = {"VKORG": "4000", "KUNNR_RG": "43000001"}


@pytest.fixture
def armtek_demo():
    handle = start_in_thread(seed=2, name="Армтек")
    yield handle
    handle.stop()


def _armtek(shop, url, **options):
    return SupplierFactory(
        shop=shop,
        name="Армтек",
        kind="armtek",
        base_url=url,
        login="demo",
        secret="demo",
        options={**ARMTEK_OPTIONS, **options},
    )


def _run(shop, numbers, capture) -> Search:
    with capture(execute=True):
        search = services.search_start(shop=shop, by=None, numbers=numbers)
    return Search.objects.get(pk=search.pk)


def _today(supplier) -> int:
    row = SupplierRequestCount.objects.filter(supplier=supplier, day=services.quota_day()).first()
    return row.requests if row else 0


@pytest.mark.timeout(60)
def test_searches_stop_before_the_daily_quota_is_spent(
    shop, armtek_demo, django_capture_on_commit_callbacks
):
    supplier = _armtek(shop, armtek_demo.url, daily_request_limit=9)
    numbers = [services.numbers_parse(n)[0] for n in armtek_demo.catalogue.oem_numbers[:3]]
    search = _run(shop, numbers, django_capture_on_commit_callbacks)
    answers = {a.number_key: a for a in SupplierAnswer.objects.filter(search=search)}
    states = sorted(a.state for a in answers.values())
    # Room for two numbers (four requests each at most); the third is not asked at all.
    assert states == ["answered", "answered", "quota_spent"]
    stopped = next(a for a in answers.values() if a.state == "quota_spent")
    assert "из 9" in stopped.message and "до полуночи по Москве" in stopped.message
    # Each asked number really cost the brand step and one brand: the reservation is settled.
    assert _today(supplier) == 4
    assert armtek_demo._server.armtek_requests == 2


@pytest.mark.timeout(60)
def test_a_supplier_that_says_the_quota_is_spent_closes_the_day(
    shop, django_capture_on_commit_callbacks
):
    with start_in_thread(seed=2, armtek_daily_quota=1) as armtek:
        supplier = _armtek(shop, armtek.url)
        numbers = [services.numbers_parse(n)[0] for n in armtek.catalogue.oem_numbers[:2]]
        search = _run(shop, numbers, django_capture_on_commit_callbacks)
        states = sorted(
            SupplierAnswer.objects.filter(search=search).values_list("state", flat=True)
        )
        assert states == ["answered", "quota_spent"]
        spent = SupplierAnswer.objects.get(search=search, state="quota_spent")
        assert "лимит" in spent.message and "1 в сутки" in spent.message  # Armtek's own words
        assert _today(supplier) == 1000  # the default Armtek quota, now all used
        asked = armtek._server.armtek_requests
        later = _run(
            shop,
            [services.numbers_parse(armtek.catalogue.oem_numbers[2])[0]],
            django_capture_on_commit_callbacks,
        )
        assert SupplierAnswer.objects.get(search=later).state == "quota_spent"
        assert armtek._server.armtek_requests == asked  # not asked again today


@pytest.mark.django_db(transaction=True)
def test_parallel_searches_never_take_more_than_the_quota(shop):
    supplier = _armtek(shop, "http://127.0.0.1:9", daily_request_limit=20)
    taken = run_together(8, lambda _i: services.supplier_requests_reserve(supplier=supplier))
    assert taken.count(True) == 5 and _today(supplier) == 20


def test_the_quota_day_is_the_moscow_day():
    late_evening_utc = dt.datetime(2026, 11, 30, 21, 30, tzinfo=dt.UTC)  # 00:30 in Moscow
    assert services.quota_day(late_evening_utc) == dt.date(2026, 12, 1)


def test_suppliers_without_a_quota_are_not_counted(shop):
    abcp = SupplierFactory(shop=shop, kind="abcp", base_url="http://127.0.0.1:9")
    unlimited = _armtek(shop, "http://127.0.0.1:9", daily_request_limit=0)
    for supplier in (abcp, unlimited):
        assert services.supplier_requests_reserve(supplier=supplier, requests=10_000)
        assert not SupplierRequestCount.objects.filter(supplier=supplier).exists()


def test_the_suppliers_page_shows_todays_requests_and_a_spent_quota(shop, manager_client):
    spent = _armtek(shop, "http://127.0.0.1:9", daily_request_limit=300)
    services.supplier_quota_spend(supplier=spent, used=300)
    fresh = SupplierFactory(
        shop=shop,
        name="Армтек-2",
        kind="armtek",
        base_url="http://127.0.0.1:9",
        options=ARMTEK_OPTIONS,
    )
    services.supplier_quota_spend(supplier=fresh, used=12)
    page = manager_client.get(reverse("optima:suppliers")).content.decode()
    assert "300 из 300" in page and "лимит исчерпан" in page
    assert "12 из 1000" in page


def test_a_day_the_supplier_closed_stays_closed_whatever_finishes_after(shop):
    supplier = _armtek(shop, "http://127.0.0.1:9", daily_request_limit=100)
    assert services.supplier_requests_reserve(supplier=supplier)
    assert services.supplier_requests_reserve(supplier=supplier)
    services.supplier_requests_settle(supplier=supplier, reserved=4, used=2, quota_spent=True)
    services.supplier_requests_settle(supplier=supplier, reserved=4, used=1)
    assert _today(supplier) == 100
    assert services.supplier_quota(supplier).spent
    assert not services.supplier_requests_reserve(supplier=supplier, requests=1)


def test_the_recheck_of_an_accepted_offer_respects_the_quota(shop):
    supplier = _armtek(shop, "http://127.0.0.1:9", daily_request_limit=300)
    services.supplier_quota_spend(supplier=supplier, used=300)
    version = OfferVersionFactory(offer__shop=shop, offer__lead__shop=shop)
    for position in version.positions:
        for option in position["options"]:
            option["supplier_id"] = supplier.pk
    version.accepted_choice = {"0": 0}
    version.save()
    (result,) = offers.offer_recheck(version.pk)
    assert result["status"] == "supplier_error"
    assert "300 из 300" in result["message"]
    assert _today(supplier) == 300
