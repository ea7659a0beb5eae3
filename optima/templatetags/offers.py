import datetime as dt

from django import template
from django.utils.translation import gettext

from optima.offers import OPTION_LABELS, option_tags

register = template.Library()


@register.filter
def pick(choice: dict, position) -> int | None:
    """The option chosen for a position in {"0": 1, ...} (None when none)."""
    value = (choice or {}).get(str(position))
    return None if value is None else int(value)


@register.filter
def isodate(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


@register.filter
def option_label(label: str) -> str:
    """An option's label as the reader reads it (stored in Russian, the source language)."""
    return gettext(label) if label in OPTION_LABELS.values() else label


@register.filter
def tags(option: dict) -> list[str]:
    """The kinds an option is (stored in Russian): оригинал, рекомендуем, самый выгодный."""
    return option_tags(option)


@register.filter
def margin_pct(totals) -> str:
    """The parts margin as a share of what the customer pays for the parts, e.g. "23 %"."""
    if not totals.parts_rub:
        return "—"
    return f"{round(totals.margin_rub * 100 / totals.parts_rub)}\u00a0%"


@register.filter
def price_margin(price):
    """What the shop earns on one part: the customer's price less the purchase price."""
    return price.customer_rub - price.purchase_rub
