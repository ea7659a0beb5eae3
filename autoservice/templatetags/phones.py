from django import template

from autoservice.phones import format_phone

register = template.Library()


@register.filter
def phone(value):
    """{{ shop.phone|phone }} → +7 495 123-45-67 (links keep the raw +74951234567)."""
    return format_phone(value or "")
