"""The normalised offer record every supplier adapter produces, and the rules that build it.

One shape for ABCP, Armtek, price lists and whatever comes next, so that the search page, the
customer offer and the benchmarks never learn a supplier's field names. The rules follow
`shared/reference/supplier-apis.md` ("Part-number and brand conventions", "normalised offer
record").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from autoservice.money import quantize_rub

Quality = Literal["original", "oe_replacement", "aftermarket", "unknown"]
QUALITIES: frozenset[str] = frozenset({"original", "oe_replacement", "aftermarket", "unknown"})
# A part's condition: new, used (ABCP isUsed, with its wear) or clearance stock (ABCP
# nonliquid: leftovers, usually not returnable). Only "new" is offered as new.
Condition = Literal["new", "used", "clearance"]
CONDITIONS: frozenset[str] = frozenset({"new", "used", "clearance"})


@dataclass(frozen=True, slots=True)
class Offer:
    """One price line of one supplier: a part at a warehouse, at a price, with a delivery time.

    Two offers are equal when everything but `fetched_at` is equal: the same line fetched twice
    is the same offer.
    """

    supplier: str
    brand_raw: str
    number_raw: str
    brand: str
    number_key: str
    name: str
    is_cross: bool
    quality: Quality
    price_rub: Decimal
    currency_raw: str
    qty: int | None
    qty_min: int
    qty_on_order: bool
    multiple: int
    delivery_days_min: int
    delivery_days_max: int
    delivery_probability: int | None
    warehouse_id: str
    warehouse_name: str
    own_stock: bool | None
    returnable: bool | None
    warranty_months: int | None
    # Everything the supplier needs to order this very line (ABCP itemKey, Armtek KEYZAK...).
    order_ref: dict[str, Any] = field(hash=False)
    fetched_at: datetime = field(compare=False)
    condition: Condition = "new"
    wear_pct: int | None = None
    # The supplier's order quantity rules: at least `min_qty` (Armtek MINBM) and a multiple
    # of `multiple` (ABCP packing, Armtek RDPRF).
    min_qty: int = 1
    # The supplier's own words for the term when it gives them (ABCP deadlineReplace,
    # "до 7 раб.дн."): shown as sent, next to the days computed from them.
    delivery_term_text: str = ""

    def __post_init__(self) -> None:
        # A row that breaks these is a supplier's garbage: the adapter skips it and counts it.
        if self.quality not in QUALITIES:
            raise ValueError(f"quality {self.quality!r}")
        if not self.number_key or not re.fullmatch(r"[A-Z0-9]+", self.number_key):
            raise ValueError(f"number_key {self.number_key!r}")
        if not isinstance(self.price_rub, Decimal) or not self.price_rub.is_finite():
            raise ValueError("price_rub must be a finite Decimal")
        if self.price_rub <= 0:
            raise ValueError(f"price_rub {self.price_rub}")
        object.__setattr__(self, "price_rub", quantize_rub(self.price_rub))
        if self.qty is not None and self.qty < 0:
            raise ValueError(f"qty {self.qty}")
        if self.qty_min < 0 or self.multiple < 1:
            raise ValueError("qty_min must be >= 0 and multiple >= 1")
        if not 0 <= self.delivery_days_min <= self.delivery_days_max:
            raise ValueError("delivery days")
        if self.delivery_probability is not None and not 0 <= self.delivery_probability <= 100:
            raise ValueError(f"delivery_probability {self.delivery_probability}")
        if not isinstance(self.fetched_at, datetime) or self.fetched_at.utcoffset() is None:
            raise ValueError("fetched_at must be an aware datetime")
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition {self.condition!r}")
        if self.wear_pct is not None and not 0 <= self.wear_pct <= 100:
            raise ValueError(f"wear_pct {self.wear_pct}")
        if self.min_qty < 1:
            raise ValueError(f"min_qty {self.min_qty}")

    def order_quantity(self, wanted: int) -> int:
        """The quantity the supplier accepts for `wanted` pieces: at least the minimum lot,
        rounded up to the order multiple (MINBM 4, RDPRF 2, wanted 1 → 4; wanted 5 → 6)."""
        quantity = max(int(wanted), self.min_qty, 1)
        return -(-quantity // self.multiple) * self.multiple

    @property
    def in_stock(self) -> bool:
        """Something is on a shelf now (an exact count above zero or an imprecise level)."""
        return not self.qty_on_order and (self.qty or self.qty_min) > 0


# --- part numbers -------------------------------------------------------------------------

# Cyrillic letters that look like Latin ones: people type OEM numbers on a Russian keyboard.
_CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")
_NOT_KEY = re.compile(r"[^A-Z0-9]")


def normalize_number(raw: object) -> str:
    """The matching key of a part number: A–Z and 0–9 only, uppercase, leading zeros kept.

    "86511-4l000" → "865114L000"; "6RU 807 221" → "6RU807221"; "А21.02" (Cyrillic А) → "A2102".
    """
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw)).upper().translate(_CYRILLIC_LOOKALIKES)
    return _NOT_KEY.sub("", text)


# --- brands ----------------------------------------------------------------------------------

# Canonical brand → the spellings suppliers use. Suppliers disagree (reference: MANN vs
# MANN-FILTER, ЛУКОЙЛ vs LUKOIL, MOBIS vs HYUNDAI/KIA, VW vs VAG); we compare canonical names.
_BRAND_ALIASES: dict[str, tuple[str, ...]] = {
    "HYUNDAI/KIA": ("HYUNDAI", "KIA", "HYUNDAI-KIA", "HYUNDAI/KIA", "MOBIS", "HYUNDAI MOBIS"),
    "VAG": ("VAG", "VW", "VOLKSWAGEN", "AUDI", "SKODA", "ŠKODA", "SEAT", "VW/AUDI"),
    "LADA": ("LADA", "ВАЗ", "VAZ", "АВТОВАЗ", "AVTOVAZ", "LADA (ВАЗ)"),
    "TOYOTA": ("TOYOTA", "LEXUS", "TOYOTA/LEXUS"),
    "RENAULT": ("RENAULT", "DACIA"),
    "NISSAN": ("NISSAN", "INFINITI"),
    "HAVAL/GWM": ("HAVAL", "GWM", "GREAT WALL", "GREATWALL", "HAVAL/GWM"),
    "CHERY": ("CHERY", "OMODA", "JAECOO", "EXEED"),
    "GEELY": ("GEELY",),
    "GM": ("GM", "GENERAL MOTORS", "CHEVROLET", "GM/CHEVROLET"),
    "MERCEDES-BENZ": ("MERCEDES-BENZ", "MERCEDES", "MB", "DAIMLER"),
    "MANN-FILTER": ("MANN-FILTER", "MANN", "MANN FILTER"),
    "MAHLE": ("MAHLE", "KNECHT", "MAHLE/KNECHT", "MAHLE ORIGINAL"),
    "LUKOIL": ("LUKOIL", "ЛУКОЙЛ"),
    "LEMFORDER": ("LEMFORDER", "LEMFÖRDER", "LEMFOERDER"),
    "SACHS": ("SACHS", "ZF SACHS"),
    "FEBI BILSTEIN": ("FEBI", "FEBI BILSTEIN"),
    "MAGNETI MARELLI": ("MAGNETI MARELLI", "MARELLI"),
    "VAN WEZEL": ("VAN WEZEL", "VANWEZEL"),
}


def _brand_key(raw: str) -> str:
    # Diacritics off, then letters (Latin or Cyrillic) and digits only: "Lemförder" = "LEMFORDER".
    text = unicodedata.normalize("NFKD", raw.upper())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9A-ZА-ЯЁ]", "", text)


_BRAND_BY_KEY = {
    _brand_key(alias): canonical
    for canonical, aliases in _BRAND_ALIASES.items()
    for alias in (canonical, *aliases)
}


def canonical_brand(raw: object) -> str:
    """The one spelling of a brand we compare on: "Mann" → "MANN-FILTER", "Kia" → "HYUNDAI/KIA".

    Brands outside the alias table come back uppercase with spaces collapsed.
    """
    text = " ".join(str(raw or "").split())
    return _BRAND_BY_KEY.get(_brand_key(text), text.upper())


# --- quality tiers ---------------------------------------------------------------------------

# Carmaker brands: their part is the original ("оригинал"); MOBIS is folded into HYUNDAI/KIA.
ORIGINAL_BRANDS: frozenset[str] = frozenset(
    {
        "HYUNDAI/KIA",
        "TOYOTA",
        "VAG",
        "LADA",
        "RENAULT",
        "NISSAN",
        "HAVAL/GWM",
        "CHERY",
        "GEELY",
        "GM",
        "MERCEDES-BENZ",
        "BMW",
        "FORD",
        "MAZDA",
        "MITSUBISHI",
        "HONDA",
        "SUZUKI",
        "SUBARU",
    }
)

# Suppliers that make parts for the carmakers' assembly lines and sell the same part under their
# own name ("оригинальная замена"). Kept short on purpose: a brand goes here only when it is
# widely known as an OE supplier in that part's category. Repackagers (FEBI) and body-panel
# aftermarket makers (Klokkerholm, Polcar...) are aftermarket.
OE_SUPPLIER_BRANDS: frozenset[str] = frozenset(
    {
        "BOSCH",
        "DENSO",
        "VALEO",
        "HELLA",
        "MAGNETI MARELLI",
        "MAHLE",
        "MANN-FILTER",
        "SACHS",
        "LEMFORDER",
        "NGK",
        "TRW",
        "AISIN",
        "CONTINENTAL",
        "LUK",
    }
)


def quality_for_brand(brand: str) -> Quality:
    """The quality tier of a part from its canonical brand."""
    if not brand:
        return "unknown"
    if brand in ORIGINAL_BRANDS:
        return "original"
    if brand in OE_SUPPLIER_BRANDS:
        return "oe_replacement"
    return "aftermarket"
