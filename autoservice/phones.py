"""Russian phone numbers: normalised to +7XXXXXXXXXX."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVALID_PHONE = _(
    "Проверьте номер: нужен российский номер из 10 цифр после +7, например +7 912 345-67-89."
)


def normalize_phone(raw: str) -> str:
    """'8 (912) 345-67-89', '+7 912 3456789', '9123456789' → '+79123456789'.

    Raises ValidationError with a Russian message for anything else.
    """
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10 or digits[0] not in "3489":
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    if re.search(r"[^\d\s()+\-.]", raw):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return "+7" + digits


def format_phone(phone: str) -> str:
    """'+74951234567' → '+7 495 123-45-67' for people (phonenumbers' international format,
    which groups each Russian code the way it is dialled); anything unparseable as it is."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, "RU")
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_possible_number(number):
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
