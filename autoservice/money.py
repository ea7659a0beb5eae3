"""Money in RUB: Decimal end to end, rounded in one place."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")


def quantize_rub(value: Decimal | int | str) -> Decimal:
    """Round to kopecks, half up (the way a Russian invoice rounds)."""
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


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
