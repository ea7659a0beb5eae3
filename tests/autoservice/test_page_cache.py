"""Drivers' pages from the page cache (autoservice/pagecache.py): the second driver gets the
page without it being rendered again, yet with a form token and a CSRF token of their own that
work, and a change to what the page shows (rates, the consent text, the shop, the offer) shows
on the next request, not after the cache expires. A cache that is away costs nothing but speed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from autoservice import pagecache
from autoservice.consent import consent_text_publish
from autoservice.models import Shop
from leads.models import Lead
from optima.models import OfferStatus
from smartcalc.models import Generation, ShopRates
from tests.factories import OfferVersionFactory
from tests.s3 import refused_endpoint

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HX_CSRF = re.compile(r'"X-CSRFToken": "([^"]*)"')


@pytest.fixture
def solaris(db):
    return Generation.objects.select_related("model").get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )


def _photo_page(client: Client, shop: Shop):
    return client.get(reverse("photoportal:photo_form", args=[shop.slug]))


def _hits() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("autoservice_page_cache_total", {"outcome": "hit"}) or 0


def _without_tokens(html: str) -> str:
    return HX_CSRF.sub("", FORM_TOKEN.sub("", CSRF.sub("", html)))


def _jpeg() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_second_driver_gets_the_form_from_the_cache_with_a_token_of_their_own(
    shop, platform_consent_text
):
    first, second = Client(), Client()
    page_one = _photo_page(first, shop)
    hits = _hits()
    with CaptureQueriesContext(connection) as queries:
        page_two = _photo_page(second, shop)
    assert _hits() == hits + 1  # /metrics: autoservice_page_cache_total{outcome="hit"}
    assert page_one.status_code == page_two.status_code == 200
    one, two = page_one.content.decode(), page_two.content.decode()
    # Nothing but the shop was read for the second page: no consent text, no photos.
    assert [q["sql"] for q in queries.captured_queries if "consenttext" in q["sql"]] == []
    assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert _without_tokens(one) == _without_tokens(two)
    assert pagecache.FORM_TOKEN not in two and pagecache.CSRF_TOKEN not in two
    token_one, token_two = FORM_TOKEN.search(one).group(1), FORM_TOKEN.search(two).group(1)
    assert token_one != token_two
    assert HX_CSRF.search(two).group(1) not in ("", HX_CSRF.search(one).group(1))

    # The cached page's token sends the request: one lead, under that driver's token.
    sent = second.post(
        reverse("photoportal:photo_form", args=[shop.slug]),
        {
            "form_token": token_two,
            "description": "Царапина на переднем бампере",
            "vehicle_make": "Kia",
            "vehicle_model": "Rio",
            "vehicle_year": "2019",
            "customer_name": "Ольга Петрова",
            "phone": "+7 912 111-22-33",
            "preferred_contact": "call",
            "consent": "on",
            "photos": SimpleUploadedFile("bumper.jpg", _jpeg(), content_type="image/jpeg"),
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:1500]
    lead = Lead.objects.get(shop=shop)
    assert sent["Location"].endswith(f"/photo/sent/{lead.public_token}/")
    assert lead.photos.count() == 1


def test_a_new_consent_text_and_a_renamed_shop_show_on_the_next_request(
    client, shop, platform_consent_text
):
    assert "Автосервис «Береста»" not in _photo_page(client, shop).content.decode()
    consent_text_publish(shop=shop, title="Согласие Бересты", body="Текст согласия Бересты")
    assert "Согласие Бересты" in _photo_page(client, shop).content.decode()
    # Renamed around the ORM's signals (a bulk UPDATE): the shop's row is in the key.
    Shop.objects.filter(pk=shop.pk).update(name="Автосервис «Береста»")
    assert "Автосервис «Береста»" in _photo_page(client, shop).content.decode()


def test_a_page_in_english_is_kept_apart_from_the_russian_one(client, shop, platform_consent_text):
    russian = _photo_page(client, shop).content.decode()
    english = client.get(
        reverse("photoportal:photo_form", args=[shop.slug]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Пришлите фото" in russian
    assert "Пришлите фото" not in english and 'lang="en"' in english


def test_staff_and_a_driver_with_a_message_get_the_page_rendered(
    client, shop, advisor, platform_consent_text, settings
):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = advisor.user
    request._messages = type("Empty", (), {"_queued_messages": [], "_loaded_messages": []})()
    assert not pagecache.cacheable(request)
    settings.PAGE_CACHE_SECONDS = 0
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert not pagecache.cacheable(request)  # the cache turned off
    settings.PAGE_CACHE_SECONDS = 300
    assert pagecache.cacheable(request)


def _estimate(client, shop, generation) -> Decimal:
    url = reverse("smartcalc:calc_estimate", args=[shop.slug, generation.pk, "sedan"])
    html = client.post(url, {"kind_door_front_left": "dent", "size_door_front_left": "2"})
    return Decimal(re.search(r'data-total="([^"]+)"', html.content.decode()).group(1))


def test_the_estimate_follows_the_shops_rates_at_once(client, shop, solaris):
    rates, _created = ShopRates.objects.get_or_create(shop=shop)
    before = _estimate(client, shop, solaris)
    with CaptureQueriesContext(connection) as queries:
        assert _estimate(client, shop, solaris) == before
    assert len(queries.captured_queries) == 2  # the shop and the car; no norms, no prices
    rates.body_rate_rub = rates.body_rate_rub * 2
    rates.paint_rate_rub = rates.paint_rate_rub * 2
    rates.save()
    assert _estimate(client, shop, solaris) > before


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_not_served_stale(platform_consent_text):
    """On the real commit path (no test transaction around it): the change is told again
    after the commit, so a page rendered from the data before it is not served after it."""
    from tests.factories import ShopFactory

    shop = ShopFactory()
    client = Client()
    assert "Согласие после коммита" not in _photo_page(client, shop).content.decode()
    versions = pagecache.data_versions(shop.pk)
    consent_text_publish(shop=shop, title="Согласие после коммита", body="Текст")
    # Bumped at the change and again after its commit.
    assert pagecache.data_versions(shop.pk)[1] == versions[1] + 2
    assert "Согласие после коммита" in _photo_page(client, shop).content.decode()


def _sent_offer(shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    version.valid_until = dt.date(2099, 1, 1)
    version.save()
    return version


def test_the_offer_from_the_cache_takes_the_drivers_own_csrf_token(shop):
    version = _sent_offer(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    Client(enforce_csrf_checks=True).get(url)  # the first driver renders it
    driver = Client(enforce_csrf_checks=True)
    with CaptureQueriesContext(connection) as queries:
        page = driver.get(url).content.decode()
    assert len(queries.captured_queries) == 1  # the offer with its shop: nothing rendered
    token = CSRF.search(page).group(1)
    confirm = {"pos_0": "1", "action": "confirm", "version": "1", "total": "19500.00"}
    assert driver.post(url, {**confirm, "csrfmiddlewaretoken": token}).status_code == 303
    version.refresh_from_db()
    assert version.status == OfferStatus.ACCEPTED
    # The accepted offer is shown as accepted, not the cached page of the sent one.
    assert "Принять выбранное" not in Client().get(url).content.decode()


def test_a_cache_that_is_away_only_costs_the_rendering(client, shop, solaris, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": refused_endpoint().replace("http://", "redis://"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    assert _estimate(client, shop, solaris) > 0
    rates, _created = ShopRates.objects.get_or_create(shop=shop)
    rates.save()  # the version cannot be bumped: logged, the change still saved
    assert ShopRates.objects.filter(pk=rates.pk).exists()


def test_many_changes_in_one_transaction_leave_one_bump_for_the_commit(shop, solaris):
    from django.db import connection, transaction

    from smartcalc.models import ShopPartPrice

    def waiting() -> int:
        return sum(
            getattr(func, "pagecache_key", "").endswith(f":{shop.pk}")
            for _sids, func, _robust in connection.run_on_commit
        )

    start = pagecache.data_versions(shop.pk)[1]
    with transaction.atomic():
        for part in ("bonnet", "bumper_front", "headlamp_left"):
            ShopPartPrice.objects.create(
                shop=shop, vehicle_model=solaris.model, part=part, original_rub=Decimal("1000")
            )
    # Each change is seen at once by this transaction; one bump waits for the commit.
    assert pagecache.data_versions(shop.pk)[1] == start + 3
    assert waiting() == 1
    # A rolled-back savepoint takes its waiting bump with it, not the one before it.
    try:
        with transaction.atomic():
            ShopPartPrice.objects.filter(shop=shop).first().delete()
            assert waiting() == 1
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert waiting() == 1
