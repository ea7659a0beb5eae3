from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoservice.money import format_rub, money_parse, quantize_rub


def test_format_rub_for_people():
    assert format_rub(Decimal("12345.5")) == "12\u202f345,50\u00a0₽"
    assert format_rub(Decimal("1500")) == "1\u202f500\u00a0₽"
    assert format_rub(Decimal("-10.005")) == "−10,01\u00a0₽"
    assert format_rub(None) == ""


def test_quantize_rounds_half_up():
    assert quantize_rub("0.005") == Decimal("0.01")
    assert quantize_rub("2.675") == Decimal("2.68")


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=4))
def test_quantize_is_idempotent_and_close(value):
    once = quantize_rub(value)
    assert quantize_rub(once) == once
    assert abs(once - value) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("2 040,74", "2040.74"),
        ("2040.74", "2040.74"),
        ("1234.5", "1234.50"),
        ("1 234 ₽", "1234.00"),
        ("1\u00a0234,50\u00a0₽", "1234.50"),
        ("1 234,50 ₽", "1234.50"),
        ("12\u202f345,6 руб.", "12345.60"),
        ("  7 900 р. ", "7900.00"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234,567.1", "1234567.10"),
        ("-5", "-5.00"),
        ("−5,5", "-5.50"),
        ("0,005", "0.01"),
        (1234, "1234.00"),
        (Decimal("10.005"), "10.01"),
        (99.9, "99.90"),
    ],
)
def test_money_parse_reads_what_people_and_suppliers_write(value, amount):
    assert money_parse(value) == Decimal(amount)
    assert money_parse(value).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value",
    ["", "  ", "₽", "abc", "12abc", "1,2,3.4.5", "1.2.3", "12,34.5,6", "1 2,3.4", "--5"]
    + [None, True, "NaN", "Infinity", float("nan"), Decimal("Infinity"), [1]],
)
def test_money_parse_refuses_garbage(value):
    with pytest.raises(ValueError):
        money_parse(value)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2))
def test_money_parse_reads_russian_formatting_back(amount):
    russian = f"{amount:,.2f}".replace(",", "\u00a0").replace(".", ",") + " ₽"  # 12 345,67 ₽
    assert money_parse(russian) == amount
    assert money_parse(str(amount)) == amount


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=2))
def test_money_parse_reads_format_rub_back(amount):
    assert money_parse(format_rub(amount, kopecks=True)) == amount


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6))
def test_money_parse_rounds_like_quantize_rub(value):
    assert money_parse(str(value)) == quantize_rub(value)
    assert money_parse(str(value).replace(".", ",")) == quantize_rub(value)


@given(st.text(alphabet="abcxyz%$#@!?;:/", min_size=1))
def test_money_parse_never_mistakes_letters_for_an_amount(text):
    with pytest.raises(ValueError):
        money_parse(text)
