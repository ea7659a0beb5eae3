"""Money in RUB: Decimal end to end, parsed and rounded in one place."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")


def quantize_rub(value: Decimal | int | str) -> Decimal:
    """Round to kopecks, half up (the way a Russian invoice rounds)."""
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


_CURRENCY_MARKS = re.compile(r"(₽|руб\.?|р\.|rub|rur)", re.IGNORECASE)
# Thousands are grouped with spaces (plain, no-break, narrow, thin) or apostrophes.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’]")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def money_parse(value: str | int | float | Decimal) -> Decimal:
    """An amount in RUB as written by people and suppliers, rounded to kopecks.

    Accepts numbers and texts such as "2 040,74", "2040.74", "1 234 ₽", "12 345,6 руб.",
    "1,234.50" or "1.234,50" (the later separator is the decimal one); raises ValueError for
    anything that is not an amount ("", "abc", "1.2.3", NaN, None, True).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        amount = Decimal(_money_text(value))
    else:
        raise ValueError(f"not an amount: {type(value).__name__}")
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return quantize_rub(amount)


def _money_text(value: str) -> str:
    text = _SPACES.sub("", _CURRENCY_MARKS.sub("", value.strip()).replace("−", "-"))
    sign = ""
    if text and text[0] in "+-":
        sign, text = text[0], text[1:]
    separators = [ch for ch in ",." if ch in text]
    if len(separators) == 2:
        # The later separator is the decimal one: "1,234.50" and "1.234,50" both work.
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        whole, _, fraction = text.rpartition(decimal)
        text = _ungroup(whole, "." if decimal == "," else ",") + "." + fraction
    elif separators and text.count(separators[0]) > 1:  # "1.234.567": grouping only
        text = _ungroup(text, separators[0])
    text = text.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(sign + text):
        raise ValueError(f"not an amount: {value!r}")
    return sign + text


def _ungroup(text: str, separator: str) -> str:
    """Thousands groups "1,234,567" → "1234567"; anything else is not an amount."""
    if not re.fullmatch(rf"\d{{1,3}}(\{separator}\d{{3}})*", text):
        raise ValueError(f"not an amount: {text!r}")
    return text.replace(separator, "")


def format_rub(value: Decimal | int | str | None, *, kopecks: bool | None = None) -> str:
    """'12 345,50 ₽' with a narrow no-break space between thousands.

    Kopecks are shown only when there are any, unless `kopecks` says otherwise.
    """
    if value is None or value == "":
        return ""
    amount = quantize_rub(value)
    show_kopecks = kopecks if kopecks is not None else amount != amount.to_integral_value()
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    whole, _, fraction = f"{amount:.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = "\u202f".join(groups)
    if show_kopecks:
        text += "," + fraction
    return f"{sign}{text}\u00a0₽"


def round_rub_to(value: Decimal | int | str, step: int = 100) -> Decimal:
    """An approximate amount rounded half up to `step` roubles («около 12 300 ₽»)."""
    steps = (Decimal(value) / step).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return quantize_rub(steps * step)
