"""The demo catalogue's raw material: makes, OEM numbers, analogue brands, warehouses.

The part numbers below are DEMO DATA: plausible in format for each make, not verified against
any catalogue. Prices follow the 2025–2026 estimates of shared/reference/repair-data.md §4.
"""

from __future__ import annotations

from dataclasses import dataclass

# make → (ABCP spellings, one picked per instance; Armtek spelling; synonyms a request may use)
MAKES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "hyundai": (("Hyundai-KIA", "MOBIS", "Hyundai/Kia"), "HYUNDAI/KIA", ("HYUNDAI", "KIA")),
    "vag": (("VAG", "VW"), "VAG", ("VOLKSWAGEN", "SKODA", "AUDI")),
    "lada": (("LADA", "ВАЗ"), "LADA", ("VAZ", "АВТОВАЗ")),
    "toyota": (("Toyota", "TOYOTA"), "TOYOTA", ("LEXUS",)),
    "renault": (("Renault", "RENAULT"), "RENAULT", ()),
    "haval": (("Haval", "GWM"), "HAVAL", ("GREAT WALL",)),
    "chery": (("Chery", "CHERY"), "CHERY", ()),
    "geely": (("Geely", "GEELY"), "GEELY", ()),
}

# One OEM number a line: make, model code (used in aftermarket numbers), number, category,
# original price from/to (RUB), cross group (numbers sharing one are interchangeable and share
# their analogues; "-" = none), name. DEMO DATA, see the module docstring.
_PARTS_TABLE = """
hyundai HN 86511-H5000      panel  22000 35000 -            Бампер передний Hyundai Solaris II
hyundai HN 66400-H5000      panel  35000 55000 -            Капот Hyundai Solaris II
hyundai HN 66311-H5000      panel  12000 20000 -            Крыло переднее левое Hyundai Solaris II
hyundai HN 66321-H5000      panel  12000 20000 -            Крыло переднее правое Hyundai Solaris II
hyundai HN 92101-H5000      light  35000 60000 -            Фара левая Hyundai Solaris II
hyundai HN 92102-H5000      light  35000 60000 -            Фара правая Hyundai Solaris II
hyundai HN 87610-H5010      mirror 15000 30000 mirror-hcr   Зеркало левое Hyundai Solaris II
hyundai HN 76003-H5000      panel  45000 70000 -            Дверь передняя левая Hyundai Solaris II
hyundai KI 86511-H0000      panel  22000 35000 -            Бампер передний Kia Rio IV
hyundai KI 66400-H0000      panel  35000 55000 -            Капот Kia Rio IV
hyundai KI 92101-H0000      light  35000 60000 -            Фара левая Kia Rio IV
hyundai KI 87610-H0010      mirror 15000 30000 mirror-hcr   Зеркало левое Kia Rio IV
hyundai KI 86350-H0000      panel   6000 12000 -            Решётка радиатора Kia Rio IV
hyundai HN 86593-2S000      clip      60   120 -            Клипса крепления бампера Hyundai/Kia
hyundai HN 86511-M0000      panel  25000 38000 -            Бампер передний Hyundai Creta
vag     VW 6RU807221        panel  25000 40000 -            Бампер передний VW Polo седан
vag     VW 6RU823031        panel  40000 60000 -            Капот VW Polo седан
vag     VW 6RU821021        panel  15000 25000 fender-polo  Крыло переднее левое VW Polo седан
vag     VW 6RU821022        panel  15000 25000 -            Крыло переднее правое VW Polo седан
vag     VW 6RU941015        light  25000 45000 -            Фара левая VW Polo седан
vag     VW 6RU941016        light  25000 45000 -            Фара правая VW Polo седан
vag     VW 6RU857507        mirror 15000 30000 -            Зеркало левое VW Polo седан
vag     SK 60U821021        panel  15000 25000 fender-polo  Крыло переднее левое Skoda Rapid
vag     VW N90796001        clip      40    90 -            Клипса крепления VAG
lada    LD 8450006950       panel  10000 15000 -            Бампер передний LADA Vesta
lada    LD 8450006968       panel  15000 22000 -            Капот LADA Vesta
lada    LD 8450006977       panel   5000  8000 -            Крыло переднее левое LADA Vesta
lada    LD 8450100952       light  13000 25000 -            Фара левая LADA Vesta
lada    LD 8450100953       light  13000 25000 -            Фара правая LADA Vesta
lada    LD 21900-2803015-00 panel   6000  9000 -            Бампер передний LADA Granta
lada    LD 21900-8402010-00 panel   9000 13000 -            Капот LADA Granta
lada    LD 8450030034       panel   6000  9000 fender-logan Крыло переднее левое LADA Largus
toyota  TY 52119-06B90      panel  30000 50000 -            Бампер передний Toyota Camry XV70
toyota  TY 53301-06200      panel  45000 70000 -            Капот Toyota Camry XV70
toyota  TY 81150-06F20      light  45000 90000 lamp-camry   Фара левая Toyota Camry XV70
toyota  TY 81150-06F21      light  45000 90000 lamp-camry   Фара левая Toyota Camry XV70 рестайлинг
toyota  TY 87940-33D20      mirror 20000 40000 -            Зеркало левое Toyota Camry XV70
renault RN 620221997R       panel  10000 16000 -            Бампер передний Renault Logan II
renault RN 631012004R       panel   6000 10000 fender-logan Крыло переднее левое Renault Logan
renault RN 260609285R       light  15000 28000 -            Фара левая Renault Duster
haval   HV 2803101XGW01A    panel  25000 40000 -            Бампер передний Haval Jolion
haval   HV 8402100XGW01A    panel  35000 55000 -            Капот Haval Jolion
haval   HV 4121100XGW01A    light  50000 90000 -            Фара левая Haval Jolion LED
chery   CH 602000553AA      panel  25000 38000 -            Бампер передний Chery Tiggo 7 Pro
geely   GL 6044025300       panel  25000 38000 -            Бампер передний Geely Coolray
"""


def _parse_parts(table: str) -> tuple[tuple[str, str, str, str, int, int, str | None, str], ...]:
    parts = []
    for line in table.strip().splitlines():
        make, model, number, category, low, high, cross, name = line.split(maxsplit=7)
        group = None if cross == "-" else cross
        parts.append((make, model, number, category, int(low), int(high), group, name))
    return tuple(parts)


DEMO_PARTS = _parse_parts(_PARTS_TABLE)

# Numbers of the platform's catalogue (smartcalc/data/reference_prices.csv, each row with its
# source), stocked so that the demo offers search the parts of the lead's own car. Unlike the
# table above these are real manufacturer numbers (the Polo headlamps, 6RU941015/16, are
# already there); prices are demo data. A number is never in both tables.
_CAR_PARTS_TABLE = """
vag     VW 6RU807221A       panel  25000 40000 -            Бампер передний VW Polo седан
vag     VW 6RU807421FGRU    panel  22000 36000 -            Бампер задний VW Polo седан
vag     VW 6RU823031C       panel  40000 60000 -            Капот VW Polo седан
vag     VW 6RU821105C       panel  15000 25000 -            Крыло переднее левое VW Polo седан
vag     VW 6RU821106C       panel  15000 25000 -            Крыло переднее правое VW Polo седан
vag     VW 6RU831055J       panel  50000 75000 -            Дверь передняя левая VW Polo седан
vag     VW 6RU831056J       panel  50000 75000 -            Дверь передняя правая VW Polo седан
vag     VW 6RU833055D       panel  45000 68000 -            Дверь задняя левая VW Polo седан
vag     VW 6RU833056D       panel  45000 68000 -            Дверь задняя правая VW Polo седан
vag     VW 6RU827025F       panel  35000 50000 -            Крышка багажника VW Polo седан
vag     VW 6RU945095M       light  10000 18000 -            Фонарь задний левый VW Polo седан
vag     VW 6RU945096K       light  10000 18000 -            Фонарь задний правый VW Polo седан
"""

DEMO_CAR_PARTS = _parse_parts(_CAR_PARTS_TABLE)


# brand → (tier, ABCP spelling, Armtek spelling, number pattern). Tiers after repair-data §4:
# "oe" = OE supplier under its own name, "eu" = European body aftermarket, "tw" = Taiwanese
# optics, "budget" = budget Taiwan/China. Patterns: {dN} N random digits, {m} the model code,
# {c:a|b} one of the choices.
ANALOGUE_BRANDS: dict[str, tuple[str, str, str, str]] = {
    "HELLA": ("oe", "Hella", "HELLA", "1EG {d3} {d3}-0{d2}"),
    "VALEO": ("oe", "Valeo", "VALEO", "0{d5}"),
    "MAGNETI MARELLI": ("oe", "Magneti Marelli", "MAGNETI MARELLI", "71{d8}"),
    "KLOKKERHOLM": ("eu", "Klokkerholm", "KLOKKERHOLM", "{d7}"),
    "VAN WEZEL": ("eu", "Van Wezel", "VAN WEZEL", "{d4}5{d2}"),
    "PRASCO": ("eu", "Prasco", "PRASCO", "{m}{d3}1{d3}"),
    "POLCAR": ("eu", "Polcar", "POLCAR", "{d4}{c:07|01|10|52}"),
    "BLIC": ("eu", "BLIC", "BLIC", "5510-00-{d7}P"),
    "FEBI BILSTEIN": ("eu", "Febi", "FEBI BILSTEIN", "{d5}"),
    "DEPO": ("tw", "Depo", "DEPO", "{d3}-1{d3}L-LD-EM"),
    "TYG": ("tw", "TYG", "TYG", "20-1{d4}-{d2}-2B"),
    "SAT": ("budget", "SAT", "SAT", "ST-{m}{d2}-{d3}-0"),
    "SIGNEDA": ("budget", "Signeda", "SIGNEDA", "P{m}{d5}"),
    "FPS": ("budget", "FPS", "FPS", "FP {d4} {d3}"),
}


CATEGORY_BRANDS: dict[str, tuple[str, ...]] = {
    "panel": ("KLOKKERHOLM", "VAN WEZEL", "PRASCO", "POLCAR", "BLIC", "SAT", "SIGNEDA", "FPS"),
    "light": ("HELLA", "VALEO", "MAGNETI MARELLI", "DEPO", "TYG", "POLCAR", "VAN WEZEL", "SAT"),
    "mirror": ("VAN WEZEL", "BLIC", "TYG", "KLOKKERHOLM", "SAT", "SIGNEDA"),
    "clip": ("FEBI BILSTEIN", "SAT", "FPS"),
}
# Price of an analogue as a share of the original, warranty months, per tier.
TIER_PRICE = {"oe": (0.65, 0.85), "eu": (0.35, 0.55), "tw": (0.30, 0.45), "budget": (0.20, 0.32)}
TIER_WARRANTY = {"original": (12,), "oe": (12,), "eu": (6, 12), "tw": (6, 12), "budget": (0, 6)}


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    hours_from: int
    hours_to: int
    kind: str  # "own" | "partner" | "order"


WAREHOUSES = (
    Warehouse("MSK1", "Москва, собственный склад", 0, 0, "own"),
    Warehouse("MSK2", "Москва, склад партнёра", 20, 30, "partner"),
    Warehouse("SPB", "Санкт-Петербург", 40, 72, "partner"),
    Warehouse("KZN", "Казань", 60, 96, "partner"),
    Warehouse("EKB", "Екатеринбург", 96, 144, "partner"),
    Warehouse("EU", "Под заказ, Европа", 240, 504, "order"),
)

# ABCP availability codes: "+", "++", "+++" and "on order"; Armtek shows the levels as ">N".
LEVELS = {-1: ">1", -2: ">10", -3: ">99"}
ON_ORDER = -10
