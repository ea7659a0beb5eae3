"""Discounts, markups, rounding and the 30 % rule."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from optima import pricing

MONEY = st.decimals(min_value=Decimal("1"), max_value=Decimal("500000"), places=2)
PCT = st.decimals(min_value=Decimal("0"), max_value=Decimal("60"), places=2)
STEPS = st.sampled_from([0, 1, 5, 10, 50, 100])
MARKUPS = [
    pricing.MarkupRule("", Decimal("0"), Decimal("45")),
    pricing.MarkupRule("", Decimal("1000"), Decimal("30")),
    pricing.MarkupRule("", Decimal("10000"), Decimal("18")),
    pricing.MarkupRule("original", Decimal("0"), Decimal("25")),
]


def _price(list_price, discount, step=10, allow_below=False, quality=""):
    markup = pricing.markup_for(rules=MARKUPS, quality=quality, list_price_rub=list_price)
    return pricing.customer_price(
        list_price_rub=list_price,
        discount_pct=discount,
        markup_pct=markup,
        round_to_rub=step,
        allow_below_purchase=allow_below,
    )


def test_hand_computed_price():
    # 12 345.67 list, 12 % off → 10 864.19 purchase; band ≥10 000 → +18 % = 12 819.74 → 12 820
    price = _price(Decimal("12345.67"), Decimal("12"))
    assert price.purchase_rub == Decimal("10864.19")
    assert price.markup_pct == Decimal("18")
    assert price.customer_rub == Decimal("12820.00")


def test_most_specific_discount_wins():
    rules = [
        pricing.DiscountRule("", "aftermarket", Decimal("15")),
        pricing.DiscountRule("SAT", "", Decimal("20")),
        pricing.DiscountRule("SAT", "aftermarket", Decimal("25")),
    ]
    pick = pricing.discount_for
    assert pick(default_pct=Decimal("5"), rules=rules, brand="SAT", quality="aftermarket") == 25
    assert pick(default_pct=Decimal("5"), rules=rules, brand="SAT", quality="original") == 20
    assert pick(default_pct=Decimal("5"), rules=rules, brand="TYG", quality="aftermarket") == 15
    assert pick(default_pct=Decimal("5"), rules=rules, brand="TYG", quality="original") == 5


def test_quality_specific_markup_before_the_general_one():
    assert (
        pricing.markup_for(rules=MARKUPS, quality="original", list_price_rub=Decimal("50000")) == 25
    )
    assert (
        pricing.markup_for(rules=MARKUPS, quality="aftermarket", list_price_rub=Decimal("500"))
        == 45
    )


@settings(max_examples=200)
@given(MONEY, PCT, PCT, STEPS)
def test_bigger_discount_never_raises_the_customer_price(list_price, d1, d2, step):
    low, high = sorted((d1, d2))
    assert _price(list_price, high, step).customer_rub <= _price(list_price, low, step).customer_rub


@settings(max_examples=200)
@given(MONEY, PCT, STEPS, st.decimals(min_value=Decimal("-40"), max_value=Decimal("80"), places=1))
def test_customer_price_never_below_purchase_unless_allowed(list_price, discount, step, markup):
    price = pricing.customer_price(
        list_price_rub=list_price,
        discount_pct=discount,
        markup_pct=markup,
        round_to_rub=step,
        allow_below_purchase=False,
    )
    assert price.customer_rub >= price.purchase_rub


def test_a_shop_may_allow_prices_below_purchase():
    allowed = pricing.customer_price(
        list_price_rub=Decimal("1000"),
        discount_pct=Decimal("0"),
        markup_pct=Decimal("-20"),
        round_to_rub=10,
        allow_below_purchase=True,
    )
    refused = pricing.customer_price(
        list_price_rub=Decimal("1000"),
        discount_pct=Decimal("0"),
        markup_pct=Decimal("-20"),
        round_to_rub=10,
        allow_below_purchase=False,
    )
    assert allowed.customer_rub == Decimal("800.00")
    assert refused.customer_rub == Decimal("1000.00")


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("10000000"), places=2), STEPS)
def test_rounding_is_stable(value, step):
    once = pricing.round_to_step(value, step)
    assert pricing.round_to_step(once, step) == once
    if step:
        assert once % step == 0
    assert once.as_tuple().exponent == -2


def _candidate(key, quality, price, *, rating=3, available=True, days=1, warranty=0):
    return pricing.Candidate(
        key=key,
        brand=key.upper(),
        name="Фара левая",
        quality=quality,
        customer_rub=Decimal(price),
        available=available,
        delivery_days=days,
        rating=rating,
        warranty_months=warranty,
    )


def test_original_within_thirty_percent_is_recommended_with_reasons():
    marks = pricing.recommend(
        [
            _candidate("sat", "aftermarket", "10000", days=1),
            _candidate("mobis", "original", "13000", days=3, warranty=12),
            _candidate("depo", "aftermarket", "11000", rating=4, days=0),
        ],
        threshold_pct=30,
        safety_relevant=True,
    )
    assert (marks.cheapest, marks.fastest, marks.recommended) == ("sat", "depo", "mobis")
    text = " ".join(marks.reasons)
    assert "30\u00a0%" in text and "оригинальная" in text and "12 мес." in text
    assert "безопасность" in text


def test_the_30_percent_rule_at_its_boundary():
    at_limit = [
        _candidate("cheap", "aftermarket", "10000"),
        _candidate("orig", "original", "13000"),
    ]
    one_kopeck_over = [
        _candidate("cheap", "aftermarket", "10000"),
        _candidate("orig", "original", "13000.01"),
    ]
    assert (
        pricing.recommend(at_limit, threshold_pct=30, safety_relevant=False).recommended == "orig"
    )
    assert (
        pricing.recommend(one_kopeck_over, threshold_pct=30, safety_relevant=False).recommended
        is None
    )


def test_unavailable_offers_are_not_the_cheapest():
    marks = pricing.recommend(
        [
            _candidate("gone", "aftermarket", "100", available=False),
            _candidate("here", "aftermarket", "200"),
        ],
        threshold_pct=30,
        safety_relevant=False,
    )
    assert marks.cheapest == "here"


def test_no_better_offer_means_no_recommendation():
    marks = pricing.recommend(
        [_candidate("a", "original", "100"), _candidate("b", "aftermarket", "120")],
        threshold_pct=30,
        safety_relevant=False,
    )
    assert marks.cheapest == "a" and marks.recommended is None


def test_reasons_and_labels_are_shown_in_the_readers_language():
    from django.utils import translation

    from optima.selectors import STATE_LABELS
    from optima.templatetags.offers import option_label

    candidates = [
        _candidate("sat", "aftermarket", "10000", days=1),
        _candidate("mobis", "original", "13000", days=3, warranty=12),
    ]
    with translation.override("en"):
        marks = pricing.recommend(candidates, threshold_pct=30, safety_relevant=True)
        assert marks.reasons == (
            "Only 30\u00a0% (3\u202f000\u00a0₽) more than the cheapest option.",
            "MOBIS: a genuine part from the car manufacturer.",
            "Manufacturer warranty of 12 months.",
            "This part matters for safety: it is not worth saving on.",
        )
        assert str(STATE_LABELS["timeout"]) == "did not answer in time"
        assert option_label("самый выгодный") == "best value"
        assert option_label("Тормозной диск") == "Тормозной диск"  # not a label: as it is
    with translation.override("ru"):
        assert option_label("самый выгодный") == "самый выгодный"
        assert str(STATE_LABELS["timeout"]) == "не успел ответить"
