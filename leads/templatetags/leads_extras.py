import datetime as dt

from django import template
from django.utils.translation import gettext as _

from autoservice.phones import format_phone

register = template.Library()


@register.filter
def duration_short(value: dt.timedelta | None) -> str:
    """A wait or a response time for people: «40 с», «12 мин», «3 ч 5 мин», «2 дн 4 ч»."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return _("%(n)s с") % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)s мин") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s ч %(m)s мин") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)s дн %(h)s ч") % {"d": days, "h": hours}


@register.filter
def phone_display(value: str) -> str:
    return format_phone(value)


@register.filter
def digits(value: str) -> str:
    """For wa.me links, which take the number without '+'."""
    return "".join(ch for ch in value if ch.isdigit())
