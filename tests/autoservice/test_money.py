from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from autoservice.money import format_rub, quantize_rub


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
