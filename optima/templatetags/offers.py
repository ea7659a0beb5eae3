import datetime as dt

from django import template

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
