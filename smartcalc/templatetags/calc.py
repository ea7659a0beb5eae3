from django import template

from smartcalc.parts import PARTS, BodyType, DamageKind, DamageSize, Operation

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
