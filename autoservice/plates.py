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


def normalize_plate(raw: str) -> str:
    plate = re.sub(r"[\s\-]", "", (raw or "").upper()).translate(_LATIN_TO_CYRILLIC)
    plate = plate.replace("RUS", "").replace("РУС", "")
    if not (_PRIVATE.match(plate) or _TAXI.match(plate)):
        raise ValidationError(INVALID_PLATE, code="invalid_plate")
    return plate
