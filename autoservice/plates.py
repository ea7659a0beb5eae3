"""Russian registration plates (ГРЗ): normalised to Cyrillic capitals without spaces."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Only these twelve letters are used on Russian plates; drivers often type their Latin
# look-alikes, which mean the same plate.
_LATIN_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
_PRIVATE = re.compile(r"^[АВЕКМНОРСТУХ]\d{3}[АВЕКМНОРСТУХ]{2}\d{2,3}$")
_TAXI = re.compile(r"^[АВЕКМНОРСТУХ]{2}\d{3}\d{2,3}$")

INVALID_PLATE = _(
    "Номер не похож на российский: пример — А123ВС77 или А123ВС777 "
    "(буквы А, В, Е, К, М, Н, О, Р, С, Т, У, Х)."
)


def _squeeze(raw: str) -> str:
    return re.sub(r"[\s\-]", "", (raw or "").upper()).translate(_LATIN_TO_CYRILLIC)


def plate_key(raw: str) -> str:
    """A plate to match records by: the Russian plate as `normalize_plate` writes it; a
    foreign or odd plate as typed (capitals, no spaces), so that it still matches itself."""
    try:
        return normalize_plate(raw)
    except ValidationError:
        return _squeeze(raw)[:12]


def normalize_plate(raw: str) -> str:
    plate = _squeeze(raw).replace("RUS", "").replace("РУС", "")
    if not (_PRIVATE.match(plate) or _TAXI.match(plate)):
        raise ValidationError(INVALID_PLATE, code="invalid_plate")
    return plate
