"""Staff settings take a decimal as a Russian user types it («1,5», «1.5», «2 600»), show
values back with a comma, and explain a bad number in Russian while keeping what was typed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from autoservice.decimals import CommaDecimalField
from optima.models import MarkupRule, PricingSettings, Supplier
from smartcalc.models import ShopRates

RATES = {
    "body_rate_rub": "2700",
    "paint_rate_rub": "2900",
    "material_unit_rub": "2100",
    "tax_regime": "usn_5",
    "vat_rounding": "line",
    "price_valid_days": "10",
    "replace_threshold_pct": "70",
    "blend_policy": "never",
}


def _value_of(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def test_calculator_rates_take_a_comma_and_show_one(manager_client, shop):
    url = reverse("smartcalc:calc_settings")
    data = {**RATES, "body_rate_rub": "2 650,50", "material_unit_rub": "2100.5"}
    assert manager_client.post(url, data).status_code == 302
    rates = ShopRates.objects.get(shop=shop)
    assert rates.body_rate_rub == Decimal("2650.50")
    assert rates.material_unit_rub == Decimal("2100.50")
    page = manager_client.get(url).content.decode()
    assert _value_of(page, "body_rate_rub") == "2650,50"
    assert 'inputmode="decimal"' in page


def test_a_bad_number_is_explained_in_russian_and_kept(manager_client, shop):
    url = reverse("smartcalc:calc_settings")
    response = manager_client.post(url, {**RATES, "paint_rate_rub": "2,5,0"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Введите число, например 1,5 (запятая или точка)." in html
    assert _value_of(html, "paint_rate_rub") == "2,5,0"
    assert _value_of(html, "body_rate_rub") == "2700"


def test_supplier_discount_and_markup_bands_take_a_comma(manager_client, shop):
    data = {
        "rules-round_to_rub": "50",
        "rules-search_deadline_s": "4,5",
        "rules-recommend_threshold_pct": "25",
        "rules-offer_valid_days": "4",
        "markup-TOTAL_FORMS": "1",
        "markup-INITIAL_FORMS": "0",
        "markup-0-quality": "",
        "markup-0-price_from_rub": "1 000,00",
        "markup-0-markup_pct": "17,5",
    }
    response = manager_client.post(reverse("optima:suppliers"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = MarkupRule.objects.get(shop=shop)
    assert (rule.price_from_rub, rule.markup_pct) == (Decimal("1000"), Decimal("17.5"))
    rules = PricingSettings.objects.get(shop=shop)
    assert rules.search_deadline_s == Decimal("4.5")
    page = manager_client.get(reverse("optima:suppliers")).content.decode()
    assert _value_of(page, "markup-0-markup_pct") == "17,50"


def test_supplier_form_discount_takes_a_comma(manager_client, shop):
    data = {
        "name": "Автодок",
        "kind": "abcp",
        "base_url": "http://127.0.0.1:8871",
        "login": "api@id1",
        "secret": "s3cret-password",
        "options": "{}",
        "discount_pct": "7,5",
        "timeout_s": "2,5",
        "transit_days": "0",
        "cutoff_time": "15:00",
        "is_active": "on",
        "discount-TOTAL_FORMS": "0",
        "discount-INITIAL_FORMS": "0",
    }
    response = manager_client.post(reverse("optima:supplier_create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    supplier = Supplier.objects.get(shop=shop, name="Автодок")
    assert supplier.discount_pct == Decimal("7.5") and supplier.timeout_s == Decimal("2.5")


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_comma_and_dot_spellings_are_the_same_number(value):
    field = CommaDecimalField(max_digits=12, decimal_places=2, required=False)
    dotted = f"{value:.2f}"
    assert field.clean(dotted) == field.clean(dotted.replace(".", ",")) == value


@pytest.mark.parametrize("text", ["abc", "1,2,3", "1.2,3", "--1"])
def test_nonsense_is_refused(text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Введите число"):
        CommaDecimalField(max_digits=12, decimal_places=2).clean(text)
