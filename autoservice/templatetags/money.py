from django import template

from autoservice.money import format_rub

register = template.Library()


@register.filter
def rub(value):
    """{{ amount|rub }} → 12 345,50 ₽"""
    return format_rub(value)
