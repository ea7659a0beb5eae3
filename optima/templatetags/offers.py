import datetime as dt

from django import template
from django.utils.translation import gettext

from optima.offers import OPTION_LABELS

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
