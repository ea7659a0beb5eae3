import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext

from smartcalc.parts import (
    DIAGRAM_MARKS,
    DIAGRAM_TITLES,
    PARTS,
    BodyType,
    DamageKind,
    DamageSize,
    Operation,
)

register = template.Library()


@register.filter
def op_label(code: str) -> str:
    return Operation(code).label if code in Operation.values else code


@register.filter
def kind_label(code: str) -> str:
    return DamageKind(code).label if code in DamageKind.values else ""


@register.filter
def size_label(code: str) -> str:
    return DamageSize(code).label if code in DamageSize.values else ""


@register.filter
def part_label(code: str) -> str:
    part = PARTS.get(code)
    return part.name if part else code


@register.filter
def part_title(code: str) -> str:
    """The part's name as the drawing's region is titled: «Бампер передний»."""
    return capfirst(part_label(code))


@register.filter
def line_part(line: dict) -> str:
    """The part of an estimate line in the page's language; the name stored with the line
    (the language of the moment it was computed) only for a line without a part (an extra
    item an advisor added)."""
    part = PARTS.get(line.get("part", ""))
    return str(part.name) if part else line.get("part_name", "")


@register.filter
def diagram_title(diagram: str) -> str:
    return DIAGRAM_TITLES.get(diagram, "")


@register.filter
def diagram_mark(side: str) -> str:
    return DIAGRAM_MARKS.get(side, "")


@register.filter
def reference(text: str) -> str:
    """Words of the shipped reference data (smartcalc.reference_texts) in the page's
    language; a text changed in admin has no translation and shows as it was typed."""
    return gettext(text) if text else text


@register.filter
def body_label(code: str) -> str:
    return BodyType(code).label if code in BodyType.values else code


@register.filter
def nz(value) -> bool:
    """True for a non-zero amount stored as text in an estimate snapshot."""
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(str(value or "0")) != 0
    except InvalidOperation:
        return False


SEVERITY_COLOURS = {1: "#fff0a0", 2: "#ffb347", 3: "#f0524a", 4: "#8e1117"}


@register.filter
def severity_colour(damage: dict) -> str:
    """The picker's colour for a saved damage: by size in palms, broken always darkest."""
    level = {"1": 1, "2": 2, "4": 3, "5": 4}.get(damage.get("size", ""), 1)
    if damage.get("kind") == "broken":
        level = 4
    return SEVERITY_COLOURS[level]


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


@register.filter
def repair_category(line: dict) -> str:
    """«категория Р2» for staff: the repair category of the norms (Р for ремонт), in the
    page's language. A line saved before categories were stored has none."""
    number = str(line.get("repair_category") or "")
    if not number.isdigit():
        return ""
    return gettext("категория Р%(n)s") % {"n": number}


@register.filter
def dec(value) -> str:
    """A number stored as text («4.14») the way the page's language writes it («4,14»),
    without trailing zeros («1.50» → «1,5», «2.00» → «2»)."""
    number = _decimal(value)
    if number is None:
        return ""
    number = number.normalize() if number == number.to_integral() else number
    places = max(-number.normalize().as_tuple().exponent, 0)
    return formats.number_format(number, decimal_pos=places, use_l10n=True)


@register.filter
def norm_hours(value) -> str:
    """«4,14 нормо-часа», «1 нормо-час», «5 нормо-часов»: written out for drivers."""
    number = _decimal(value)
    if number is None:
        return ""
    text = dec(number)
    if number != number.to_integral():
        # A fraction takes the genitive singular in Russian: «1,5 нормо-часа».
        return gettext("%(hours)s нормо-часа") % {"hours": text}
    count = int(number)
    return ngettext("%(hours)s нормо-час", "%(hours)s нормо-часов", count) % {"hours": text}


@register.filter
def price_source(line: dict) -> str:
    """Where the part price of an estimate line comes from, for the driver: «цена поставщика
    на 30.11», «прайс сервиса», «справочная цена». Empty for a line without a part price
    and for estimates saved before sources were recorded (those say «ориентировочная»)."""
    source = line.get("price_source", "")
    if source == "supplier":
        as_of = line.get("price_as_of", "")
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            return gettext("цена поставщика")
        return gettext("цена поставщика на %(date)s") % {"date": day.strftime("%d.%m")}
    if source == "price_list":
        return gettext("прайс сервиса")
    if source == "reference":
        return gettext("справочная цена")
    return ""
