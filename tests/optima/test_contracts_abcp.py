"""The ABCP adapter against the documented answer shapes (tests/optima/contracts/abcp/, each
file's source cited in its README), replayed over real HTTP."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from optima.suppliers import adapter_for

from .contract_replay import Replay

BRANDS = ("GET", "/search/brands")
ARTICLES = ("GET", "/search/articles")
BATCH = ("POST", "/search/batch")
PASSWORD = "Пароль-магазина-1"


def adapter(replay: Replay, **options):
    return adapter_for(
        "abcp",
        supplier_id="abcp:contract",
        base_url=replay.url,
        credentials={"login": "api@id12345", "password": PASSWORD, **options},
        timeout_s=5,
    )


def documented() -> dict:
    return {BRANDS: (200, "abcp/brands.json"), ARTICLES: (200, "abcp/articles.json")}


def test_documented_articles_become_offers_with_every_odd_value_read():
    with Replay(documented()) as replay:
        result = adapter(replay).search("01089")
    assert result.state == "answered", result.message
    by_warehouse = {offer.warehouse_id: offer for offer in result.offers}
    # Both brands are asked; the same lines come back under each and are kept once.
    assert len(result.offers) == 8
    own = next(o for o in result.offers if o.order_ref["itemKey"].startswith("a1"))
    assert (own.price_rub, own.qty, own.qty_min, own.delivery_days_min) == (
        Decimal("771.75"),
        12,
        12,
        0,
    )
    assert own.own_stock is True and own.condition == "new" and own.returnable is True
    assert own.warehouse_id == "4321"  # supplierCode sent as a number
    assert own.delivery_probability == 98
    string_price = by_warehouse["4322"]
    assert string_price.price_rub == Decimal("1234.50")
    assert (string_price.qty, string_price.qty_min) == (None, 1)  # availability −1: "+"
    assert (string_price.delivery_days_min, string_price.delivery_days_max) == (1, 2)  # hours
    assert string_price.delivery_probability is None  # 0 = unknown
    spaced_price = by_warehouse["4323"]
    assert spaced_price.price_rub == Decimal("2040.74")  # "2 040,74"
    assert spaced_price.qty_min == 10 and spaced_price.multiple == 4
    assert (spaced_price.delivery_days_min, spaced_price.delivery_days_max) == (3, 3)  # max ""
    assert by_warehouse["4324"].qty_min == 99
    on_order = by_warehouse["4325"]
    assert on_order.qty_on_order and on_order.qty is None
    # deadlineReplace replaces the hours: "до 7 раб.дн." is up to ten calendar days.
    assert on_order.delivery_term_text == "до 7 раб.дн."
    assert (on_order.delivery_days_min, on_order.delivery_days_max) == (0, 10)
    assert on_order.returnable is False
    used = by_warehouse["4326"]
    assert (used.condition, used.wear_pct, used.returnable) == ("used", 35, False)
    clearance = by_warehouse["4327"]
    assert (clearance.condition, clearance.wear_pct) == ("clearance", None)
    cross = next(o for o in result.offers if o.brand == "MANN-FILTER")
    assert cross.is_cross and not own.is_cross


def test_online_warehouses_are_asked_unless_the_shop_turns_them_off():
    with Replay(documented()) as replay:
        adapter(replay).search("01089")
        adapter(replay, use_online_stocks=False).search("01089")
    first, second = replay.calls("/search/brands")
    assert first.query["useOnlineStocks"] == "1" and second.query["useOnlineStocks"] == "0"
    articles = replay.calls("/search/articles")
    assert {a.query["useOnlineStocks"] for a in articles} == {"0", "1"}
    md5 = hashlib.md5(PASSWORD.encode(), usedforsecurity=False).hexdigest()
    assert first.query["userpsw"] == md5 and first.query["userlogin"] == "api@id12345"


def test_a_list_sent_as_an_object_keyed_by_index_is_read():
    routes = {BRANDS: (200, "abcp/brands_keyed_by_index.json"), ARTICLES: documented()[ARTICLES]}
    with Replay(routes) as replay:
        result = adapter(replay).search("01089")
    assert result.state == "answered" and len(result.offers) == 8


def test_an_empty_answer_is_no_stock():
    routes = {BRANDS: (200, "abcp/brands.json"), ARTICLES: (200, "abcp/articles_empty.json")}
    with Replay(routes) as replay:
        result = adapter(replay).search("01089")
    assert (result.state, result.offers) == ("no_stock", [])


@pytest.mark.parametrize(
    ("name", "status", "state", "words"),
    [
        ("error_102.json", 403, "auth_error", "логин или пароль не подходят"),
        ("error_103.json", 403, "config_error", "адрес сервера не разрешён у поставщика"),
        ("error_104.json", 403, "config_error", "код 104"),
        ("error_303.json", 403, "error", "код 303"),
        ("error_2.json", 400, "error", "ошибкой 2"),
        ("error_301.json", 404, "no_stock", "Нет предложений"),
    ],
)
def test_each_documented_error_code_tells_the_manager_what_it_means(name, status, state, words):
    with Replay({BRANDS: (status, f"abcp/{name}")}) as replay:
        result = adapter(replay).search("01089")
    assert result.state == state
    assert words in result.message
    assert PASSWORD not in result.message


def test_batch_answers_one_offer_list_per_pair():
    with Replay({BATCH: (200, "abcp/batch.json")}) as replay:
        results = adapter(replay, batch=True).search_batch([("Febi", "01089"), ("Kyb", "333305")])
    assert [r.state for r in results] == ["answered", "no_stock"]
    assert results[0].offers[0].price_rub == Decimal("771.75")
    (call,) = replay.calls("/search/batch")
    assert call.method == "POST"
    assert call.form["search[0][number]"] == "01089" and call.form["search[0][brand]"] == "Febi"
    assert call.form["search[1][number]"] == "333305" and call.form["search[1][brand]"] == "Kyb"
    assert "userpsw" in call.form and "userpsw" not in call.query


def test_a_failed_batch_is_each_pairs_state():
    with Replay({BATCH: (403, "abcp/error_103.json")}) as replay:
        results = adapter(replay).search_batch([("Febi", "01089"), ("Kyb", "333305")])
    assert [r.state for r in results] == ["config_error", "config_error"]


# --- search/batch through the services: one call, counted once against the quota ----------


@pytest.mark.django_db
def test_many_numbers_of_a_batch_supplier_cost_one_counted_search_batch_call(shop):
    from optima import services
    from optima.models import SupplierRequestCount
    from tests.factories import SupplierFactory

    with Replay({BATCH: (200, "abcp/batch.json")}) as replay:
        supplier = SupplierFactory(
            shop=shop,
            base_url=replay.url,
            secret=PASSWORD,
            options={"batch": True, "daily_request_limit": 10},
        )
        assert services.supplier_batch_allowed(supplier)
        results = services.supplier_ask_batch_counted(
            supplier=supplier, pairs=[("Febi", "01089"), ("Kyb", "333305")]
        )
        assert [r.state for r in results] == ["answered", "no_stock"]
        assert len(replay.calls("/search/batch")) == 1
        assert SupplierRequestCount.objects.get(supplier=supplier).requests == 1

        # Today's quota spent: nothing is asked, every pair says so.
        services.supplier_quota_spend(supplier=supplier, used=10)
        spent = services.supplier_ask_batch_counted(
            supplier=supplier, pairs=[("Febi", "01089"), ("Kyb", "333305")]
        )
        assert [r.state for r in spent] == ["quota_spent", "quota_spent"]
        assert len(replay.calls("/search/batch")) == 1


@pytest.mark.django_db
def test_the_recheck_of_an_accepted_offer_asks_a_batch_supplier_once(shop):
    from django.utils import timezone

    from optima import offers
    from optima.models import OfferStatus
    from optima.suppliers.offer import canonical_brand
    from tests.factories import OfferVersionFactory, SupplierFactory

    with Replay({BATCH: (200, "abcp/batch.json")}) as replay:
        supplier = SupplierFactory(
            shop=shop, base_url=replay.url, secret=PASSWORD, options={"batch": True}
        )

        def option(brand, number, price):
            return {
                "brand": canonical_brand(brand),  # as the offer builder stores it
                "brand_raw": brand,
                "number": number,
                "number_key": number,
                "supplier_id": supplier.pk,
                "list_price_rub": price,
            }

        version = OfferVersionFactory(
            offer__shop=shop,
            positions=[
                {"name": "Тормозная жидкость", "options": [option("Febi", "01089", "700.00")]},
                {"name": "Амортизатор", "options": [option("Kyb", "333305", "5000.00")]},
            ],
            status=OfferStatus.ACCEPTED,
            accepted_at=timezone.now(),
            accepted_choice={"0": 0, "1": 0},
        )
        results = offers.offer_recheck(version.pk)
        (call,) = replay.calls("/search/batch")
        assert (
            call.form["search[0][brand]"] == "Febi" and call.form["search[1][number]"] == "333305"
        )
        assert not replay.calls("/search/brands")  # no search per number
    assert [r["status"] for r in results] == ["price_up", "out_of_stock"]
    assert results[0]["list_price_rub"] == "771.75"
