"""The estimate engine as a pure function: hand-computed estimates to the kopeck, the
refusals a driver sees, and properties that must hold for any damages and any rates.

No database here: the technology data, prices and rates are written out below, so every
expected amount can be recomputed by hand from this file alone."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoservice.money import quantize_rub
from smartcalc.engine import (
    Damage,
    Dependency,
    Estimate,
    EstimateError,
    Norm,
    PartPrice,
    Rates,
    Tax,
    TechData,
    compute_estimate,
    severity,
)
from smartcalc.parts import SIZE_ORDER, DamageKind, parts_for_body

D = Decimal
ZERO = D("0")
HUNDREDTH = D("0.01")

# --- Technology data of a small C-class car, base class factors 1.00 -----------------

DOOR_FRONT = Norm(
    remove_refit_h=D("0.9"),
    replace_h=D("2.4"),
    repair_h=(D("1.35"), D("2.1"), D("3.2")),
    paint_new_h=D("2.8"),
    paint_repair_small_h=D("2.1"),
    paint_repair_large_h=D("2.5"),
    material_new=D("2.8"),
    material_repair_small=D("2.1"),
    material_repair_large=D("2.5"),
)
DOOR_REAR = Norm(
    remove_refit_h=D("0.8"),
    replace_h=D("2.2"),
    repair_h=(D("1.2"), D("2.0"), D("3.0")),
    paint_new_h=D("2.6"),
    paint_repair_small_h=D("1.9"),
    paint_repair_large_h=D("2.3"),
    material_new=D("2.6"),
    material_repair_small=D("1.9"),
    material_repair_large=D("2.3"),
)
WING = Norm(
    remove_refit_h=D("1.0"),
    replace_h=D("1.5"),
    repair_h=(D("1.2"), D("2.2"), D("4.2")),
    paint_new_h=D("2.2"),
    paint_repair_small_h=D("1.6"),
    paint_repair_large_h=D("2.0"),
    material_new=D("2.2"),
    material_repair_small=D("1.6"),
    material_repair_large=D("2.0"),
)
BUMPER = Norm(
    remove_refit_h=D("1.0"),
    replace_h=D("1.6"),
    repair_h=(D("1.0"), D("1.8"), D("2.6")),
    paint_new_h=D("2.6"),
    paint_repair_small_h=D("1.8"),
    paint_repair_large_h=D("2.3"),
    material_new=D("2.6"),
    material_repair_small=D("1.8"),
    material_repair_large=D("2.3"),
)
# Welded to the body: no remove/refit, and replacing it means cutting and welding.
QUARTER = Norm(
    remove_refit_h=None,
    replace_h=D("12.5"),
    repair_h=(D("1.5"), D("2.5"), D("4.0")),
    paint_new_h=D("3.2"),
    paint_repair_small_h=D("2.2"),
    paint_repair_large_h=D("2.8"),
    material_new=D("3.2"),
    material_repair_small=D("2.2"),
    material_repair_large=D("2.8"),
)
HEADLAMP = Norm(remove_refit_h=D("0.6"), replace_h=D("0.8"), polish_h=D("0.6"))
WINDSCREEN = Norm(replace_h=D("2.5"), repair_h=(D("0.7"), None, None))
WHEEL = Norm(replace_h=D("0.6"), repair_h=(D("0.8"), D("1.5"), None))
MIRROR = Norm(replace_h=D("0.5"), paint_new_h=D("0.9"), material_new=D("0.9"))

NORMS = {
    "door_front_left": DOOR_FRONT,
    "door_rear_left": DOOR_REAR,
    "wing_front_left": WING,
    "bumper_front": BUMPER,
    "quarter_left": QUARTER,
    "headlamp_left": HEADLAMP,
    "windscreen": WINDSCREEN,
    "wheel_front_left": WHEEL,
    "mirror_left": MIRROR,
}
DEPENDENCIES = {
    "door_front_left": (
        Dependency("обивка двери: снять/установить", D("0.6"), "repair"),
        Dependency("молдинг и ручка: снять/установить", D("0.35"), "paint"),
        Dependency("перенос стеклоподъёмника и замка", D("1.1"), "replace"),
    ),
    "bumper_front": (
        Dependency("бампер: снять/установить", D("1.0"), "repair"),
        Dependency("решётка и накладки: снять/установить", D("0.4"), "paint"),
    ),
    "quarter_left": (Dependency("фонарь задний: снять/установить", D("0.5"), "paint"),),
    "headlamp_left": (Dependency("регулировка света фар", D("0.3"), "replace"),),
}
HIDDEN = {
    ("door_front_left", "light"): (D("3.3"), D("12.5")),
    ("door_front_left", "medium"): (D("4.7"), D("18.5")),
    ("bumper_front", "heavy"): (D("12.5"), D("33.3")),
}
TECH = TechData(
    version="test-2025.1",
    body_factor=D("1.00"),
    paint_factor=D("1.00"),
    norms=NORMS,
    dependencies=DEPENDENCIES,
    hidden=HIDDEN,
)
# 1.15 rather than 1.20: hours × 1.20 never ends in a half hundredth, × 1.15 does.
TECH_CLASS_E = dataclasses.replace(TECH, body_factor=D("1.10"), paint_factor=D("1.15"))

PRICES = {
    "door_front_left": PartPrice(D("38500"), alternative_rub=D("21900")),
    "door_rear_left": PartPrice(D("36000")),
    "wing_front_left": PartPrice(D("9800")),
    "bumper_front": PartPrice(D("24300"), alternative_rub=D("11800"), oem_number="620224BA0H"),
    "quarter_left": PartPrice(D("19800")),
    "headlamp_left": PartPrice(D("31200"), alternative_rub=D("9400")),
    "windscreen": PartPrice(D("18600")),
    "wheel_front_left": PartPrice(D("12400")),
    "mirror_left": PartPrice(D("14700"), approximate=True),
}

# ОСН with every price excluding VAT: 22 % on top, once on the total (tests/smartcalc/
# test_taxes.py has the other regimes and sources).
VAT_22_ON_TOP = Tax(
    regime="osn_22",
    vat_percent=D("22"),
    rates_include_vat=False,
    price_list_includes_vat=False,
    rounding="total",
)
# Blending is off unless a test is about it, so that a test sees only its own line.
RATES = Rates(
    body_rate_rub=D("2000"),
    paint_rate_rub=D("2200"),
    material_unit_rub=D("2000"),
    tax=VAT_22_ON_TOP,
    replace_threshold=D("0.75"),
    blend_policy="never",
)


def estimate(*damages: Damage, tech=TECH, prices=PRICES, body_parts=None, **rates) -> Estimate:
    return compute_estimate(
        damages=list(damages),
        tech=tech,
        prices=prices,
        rates=dataclasses.replace(RATES, **rates),
        body_parts=body_parts,
    )


def only_line(result: Estimate):
    assert len(result.lines) == 1
    return result.lines[0]


def line_of(result: Estimate, part: str):
    (line,) = [line for line in result.lines if line.part == part]
    return line


# --- Hand-computed lines (rates 2 000 / 2 200 / 2 000, factors 1.00) -----------------


def test_door_dent_of_one_palm_is_repaired_r1_with_small_paint():
    line = only_line(estimate(Damage("door_front_left", "dent", "1")))

    assert line.operation == "repair_paint"
    assert line.repair_category == "1"
    # Р1 1.35 + обивка (repair) 0.60 + молдинг (paint) 0.35 = 2.30 h; the replace dep is not
    # taken.
    assert line.extras == (
        ("обивка двери: снять/установить", D("0.60")),
        ("молдинг и ручка: снять/установить", D("0.35")),
    )
    assert line.labour_hours == D("2.30")
    assert line.labour_rub == D("4600.00")  # 2.30 × 2 000
    assert line.paint_hours == D("2.10")  # repaired part, ≤50 %
    assert line.paint_rub == D("4620.00")  # 2.10 × 2 200
    assert line.material_units == D("2.10")
    assert line.material_rub == D("4200.00")  # 2.10 × 2 000
    assert line.part_rub == D("0.00")
    assert line.subtotal_rub == D("13420.00")  # 4 600 + 4 620 + 4 200
    assert line.alternative_subtotal_rub == D("13420.00")  # no part bought


def test_door_dent_of_two_to_four_palms_is_repaired_r3_with_large_paint():
    line = only_line(estimate(Damage("door_front_left", "dent", "4")))

    assert line.operation == "repair_paint"
    assert line.repair_category == "3"
    assert line.labour_hours == D("4.15")  # Р3 3.20 + 0.60 + 0.35
    assert line.labour_rub == D("8300.00")  # 4.15 × 2 000
    assert line.paint_hours == D("2.50")  # repaired part, >50 %
    assert line.paint_rub == D("5500.00")  # 2.50 × 2 200
    assert line.material_rub == D("5000.00")  # 2.50 × 2 000
    # 8 300 + 5 500 + 5 000 = 18 800; replacing would be 57 960 (see the threshold tests).
    assert line.subtotal_rub == D("18800.00")


def test_class_factors_multiply_hours_rounded_half_up_to_hundredths():
    line = only_line(estimate(Damage("door_front_left", "dent", "1"), tech=TECH_CLASS_E))

    # Body × 1.10: Р1 1.35 → 1.485 → 1.49 (half-even would give 1.48); обивка 0.60 → 0.66;
    # молдинг 0.35 → 0.385 → 0.39 (half-even 0.38). Each rounded on its own: 2.54 h.
    assert line.extras == (
        ("обивка двери: снять/установить", D("0.66")),
        ("молдинг и ручка: снять/установить", D("0.39")),
    )
    assert line.labour_hours == D("2.54")
    assert line.labour_rub == D("5080.00")  # 2.54 × 2 000
    # Paint × 1.15: 2.10 → 2.415 → 2.42, materials the same.
    assert line.paint_hours == D("2.42")
    assert line.paint_rub == D("5324.00")  # 2.42 × 2 200
    assert line.material_units == D("2.42")
    assert line.material_rub == D("4840.00")  # 2.42 × 2 000
    assert line.subtotal_rub == D("15244.00")  # 5 080 + 5 324 + 4 840


def test_bumper_crack_of_one_palm_is_welded_one_category_up():
    line = only_line(estimate(Damage("bumper_front", "crack", "1")))

    assert line.operation == "repair_paint"
    assert line.repair_category == "2"  # plastic crack: Р1 → Р2
    # Р2 1.80 + бампер снять/установить 1.00 + решётка 0.40 = 3.20 h.
    assert line.labour_hours == D("3.20")
    assert line.labour_rub == D("6400.00")  # 3.20 × 2 000
    assert line.paint_rub == D("3960.00")  # 1.80 × 2 200
    assert line.material_rub == D("3600.00")  # 1.80 × 2 000
    assert line.subtotal_rub == D("13960.00")  # 6 400 + 3 960 + 3 600


def test_broken_bumper_is_replaced_painted_and_priced():
    line = only_line(estimate(Damage("bumper_front", "broken", "4")))

    assert line.operation == "replace_paint"
    # replace 1.60 + решётка (paint) 0.40 = 2.00 h; the repair-only dep is not taken.
    assert line.extras == (("решётка и накладки: снять/установить", D("0.40")),)
    assert line.labour_rub == D("4000.00")  # 2.00 × 2 000
    assert line.paint_hours == D("2.60")  # new part
    assert line.paint_rub == D("5720.00")  # 2.60 × 2 200
    assert line.material_rub == D("5200.00")  # 2.60 × 2 000
    assert line.part_rub == D("24300.00")
    assert line.alternative_part_rub == D("11800.00")
    assert line.oem_number == "620224BA0H"
    assert line.subtotal_rub == D("39220.00")  # 4 000 + 5 720 + 5 200 + 24 300
    assert line.alternative_subtotal_rub == D("26720.00")  # 4 000 + 5 720 + 5 200 + 11 800
    assert not line.price_approximate


def test_cracked_headlamp_is_replaced_without_paint():
    line = only_line(estimate(Damage("headlamp_left", "crack", "1")))

    assert line.operation == "replace"
    assert line.labour_hours == D("1.10")  # replace 0.80 + регулировка 0.30
    assert line.labour_rub == D("2200.00")  # 1.10 × 2 000
    assert line.paint_hours == ZERO
    assert line.paint_rub == ZERO
    assert line.material_rub == ZERO
    assert line.part_rub == D("31200.00")
    assert line.subtotal_rub == D("33400.00")  # 2 200 + 31 200
    assert line.alternative_subtotal_rub == D("11600.00")  # 2 200 + 9 400


def test_scratched_headlamp_is_polished():
    line = only_line(estimate(Damage("headlamp_left", "scratch", "2")))

    assert line.operation == "polish"
    assert line.subtotal_rub == D("1200.00")  # 0.60 × 2 000


def test_windscreen_chip_is_repaired_not_replaced():
    line = only_line(estimate(Damage("windscreen", "scratch", "1")))

    assert line.operation == "repair"
    assert line.labour_rub == D("1400.00")  # chip repair 0.70 × 2 000
    assert line.part_rub == ZERO
    assert line.subtotal_rub == D("1400.00")


def test_windscreen_long_crack_is_replaced():
    line = only_line(estimate(Damage("windscreen", "crack", "2")))

    assert line.operation == "replace"
    assert line.subtotal_rub == D("23600.00")  # 2.50 × 2 000 + 18 600


def test_mirror_scratch_paints_the_housing():
    line = only_line(estimate(Damage("mirror_left", "scratch", "2")))

    assert line.operation == "paint"
    assert any("корпуса зеркала" in note for note in line.notes)
    assert line.labour_rub == ZERO
    assert line.paint_rub == D("1980.00")  # paint new 0.90 × 2 200
    assert line.material_rub == D("1800.00")  # 0.90 × 2 000
    assert line.part_rub == ZERO
    assert line.subtotal_rub == D("3780.00")


def test_wheel_dent_of_one_palm_is_repaired():
    line = only_line(estimate(Damage("wheel_front_left", "dent", "1")))

    assert line.operation == "repair"
    assert line.labour_hours == D("1.50")  # straightening uses the second repair norm
    assert line.subtotal_rub == D("3000.00")  # 1.50 × 2 000


def test_quarter_panel_dent_over_four_palms_is_replaced_with_its_big_hours():
    line = only_line(estimate(Damage("quarter_left", "dent", "5")))

    assert line.operation == "replace_paint"
    assert any("больше половины" in note for note in line.notes)
    assert line.labour_hours == D("13.00")  # cut and weld 12.50 + фонарь (paint) 0.50
    assert line.labour_rub == D("26000.00")  # 13.00 × 2 000
    assert line.paint_rub == D("7040.00")  # 3.20 × 2 200
    assert line.material_rub == D("6400.00")  # 3.20 × 2 000
    assert line.part_rub == D("19800.00")
    assert line.subtotal_rub == D("59240.00")  # 26 000 + 7 040 + 6 400 + 19 800


def test_repair_dearer_than_threshold_of_replacement_switches_to_replace():
    line = only_line(estimate(Damage("wing_front_left", "dent", "4")))

    # Repair: Р3 4.20 × 2 000 + 2.00 × 2 200 + 2.00 × 2 000 = 8 400 + 4 400 + 4 000 = 16 800.
    # Replace: 1.50 × 2 000 + 2.20 × 2 200 + 2.20 × 2 000 + 9 800 = 22 040; × 0.75 = 16 530.
    # 16 800 > 16 530 → replace; 16 800 / 22 040 = 76.2 %.
    assert line.operation == "replace_paint"
    assert any("76 %" in note and "75 %" in note for note in line.notes)
    assert line.labour_rub == D("3000.00")
    assert line.paint_rub == D("4840.00")
    assert line.material_rub == D("4400.00")
    assert line.part_rub == D("9800.00")
    assert line.subtotal_rub == D("22040.00")


def test_repair_below_threshold_of_replacement_stays_repair():
    line = only_line(estimate(Damage("wing_front_left", "dent", "2")))

    # Repair: Р2 2.20 × 2 000 + 1.60 × 2 200 + 1.60 × 2 000 = 4 400 + 3 520 + 3 200 = 11 120
    # ≤ 16 530 (0.75 × 22 040).
    assert line.operation == "repair_paint"
    assert line.subtotal_rub == D("11120.00")
    assert not any("выгоднее заменить" in note for note in line.notes)


def test_repair_exactly_at_threshold_stays_repair():
    prices = {**PRICES, "wing_front_left": PartPrice(D("10000"))}
    line = only_line(
        estimate(Damage("wing_front_left", "dent", "2"), prices=prices, replace_threshold=D("0.50"))
    )

    # Replace: 3 000 + 4 840 + 4 400 + 10 000 = 22 240; × 0.50 = 11 120 = the repair.
    assert line.operation == "repair_paint"
    assert line.subtotal_rub == D("11120.00")


# --- Totals ---------------------------------------------------------------------------

THREE_DAMAGES = (
    Damage("door_front_left", "dent", "1"),  # 13 420.00, no part
    Damage("bumper_front", "broken", "4"),  # 39 220.00, alternative 26 720.00
    Damage("headlamp_left", "crack", "1"),  # 33 400.00, alternative 11 600.00
)


def test_totals_add_the_lines_and_vat_once():
    result = estimate(*THREE_DAMAGES)

    assert result.labour_rub == D("10800.00")  # 4 600 + 4 000 + 2 200
    assert result.paint_rub == D("10340.00")  # 4 620 + 5 720 + 0
    assert result.materials_rub == D("9400.00")  # 4 200 + 5 200 + 0
    assert result.parts_rub == D("55500.00")  # 24 300 + 31 200
    assert result.subtotal_rub == D("86040.00")  # 13 420 + 39 220 + 33 400
    assert result.vat_percent == D("22")
    assert result.vat_on_top_rub == D("18928.80")  # 86 040 × 0.22
    assert result.vat_in_total_rub == D("18928.80")
    assert result.total_rub == D("104968.80")  # 86 040 + 18 928.80
    assert result.data_version == "test-2025.1"


def test_alternative_totals_use_the_alternative_price_where_present():
    result = estimate(*THREE_DAMAGES)

    # Door: no part → 13 420; bumper 26 720; headlamp 11 600.
    assert result.alternative_subtotal_rub == D("51740.00")
    assert result.alternative_vat_on_top_rub == D("11382.80")  # 51 740 × 0.22
    assert result.alternative_total_rub == D("63122.80")


def test_alternative_falls_back_to_original_price():
    line = only_line(estimate(Damage("quarter_left", "dent", "5")))

    assert line.alternative_part_rub is None
    assert line.alternative_subtotal_rub == line.subtotal_rub == D("59240.00")


def test_vat_is_rounded_half_up_once_on_the_subtotal():
    result = estimate(
        Damage("wheel_front_left", "dent", "1"),  # 1.50 × 1 850.50 = 2 775.75
        Damage("windscreen", "scratch", "1"),  # 0.70 × 1 850.50 = 1 295.35
        body_rate_rub=D("1850.50"),
    )

    assert result.subtotal_rub == D("4071.10")
    # 4 071.10 × 0.22 = 895.642 → 895.64; per line it would be 610.67 + 284.98 = 895.65.
    assert result.vat_on_top_rub == D("895.64")
    assert result.total_rub == D("4966.74")


def test_vat_is_rounded_in_each_line_when_the_shop_rounds_per_line():
    result = estimate(
        Damage("wheel_front_left", "dent", "1"),  # 2 775.75 × 0.22 = 610.665 → 610.67
        Damage("windscreen", "scratch", "1"),  # 1 295.35 × 0.22 = 284.977 → 284.98
        body_rate_rub=D("1850.50"),
        tax=dataclasses.replace(VAT_22_ON_TOP, rounding="line"),
    )

    assert [line.vat_on_top_rub for line in result.lines] == [D("610.67"), D("284.98")]
    assert result.vat_on_top_rub == D("895.65")
    assert result.total_rub == D("4966.75") == sum(line.total_rub for line in result.lines)


def test_vat_rounds_a_half_kopeck_up():
    result = estimate(Damage("wheel_front_left", "dent", "1"), body_rate_rub=D("1850.50"))

    # 2 775.75 × 0.22 = 610.665 → 610.67 (half-even would give 610.66).
    assert result.vat_on_top_rub == D("610.67")
    assert result.total_rub == D("3386.42")


def test_labour_rounds_a_half_kopeck_up():
    line = only_line(
        estimate(
            Damage("wheel_front_left", "dent", "1"),
            tech=TECH_CLASS_E,
            body_rate_rub=D("1850.50"),
        )
    )

    # 1.50 × 1.10 = 1.65 h; 1.65 × 1 850.50 = 3 053.325 → 3 053.33 (half-even: 3 053.32).
    assert line.labour_rub == D("3053.33")


def test_no_vat_when_the_shop_charges_none():
    result = estimate(*THREE_DAMAGES, tax=Tax(regime="usn_none"))

    assert result.vat_percent is None
    assert result.vat_display == "none"
    assert result.vat_on_top_rub == result.vat_in_total_rub == ZERO
    assert result.total_rub == result.subtotal_rub == D("86040.00")
    assert result.alternative_total_rub == result.alternative_subtotal_rub == D("51740.00")


# --- Blending into the neighbours ------------------------------------------------------


def test_painting_front_door_blends_rear_door_and_front_wing():
    result = estimate(Damage("door_front_left", "dent", "1"), blend_policy="always")

    assert [line.part for line in result.lines] == [
        "door_front_left",
        "door_rear_left",
        "wing_front_left",
    ]
    rear, wing = result.lines[1:]
    for blend in (rear, wing):
        assert blend.operation == "paint"
        assert blend.kind == ""
        assert blend.labour_rub == ZERO
        assert blend.part_rub == ZERO
        assert any("в переход" in note for note in blend.notes)
    assert rear.paint_hours == D("1.30")  # 50 % of paint new 2.60
    assert rear.paint_rub == D("2860.00")  # 1.30 × 2 200
    assert rear.material_rub == D("2600.00")  # 50 % of 2.60 units = 1.30 × 2 000
    assert rear.subtotal_rub == D("5460.00")
    assert wing.paint_hours == D("1.10")  # 50 % of 2.20
    assert wing.paint_rub == D("2420.00")  # 1.10 × 2 200
    assert wing.material_rub == D("2200.00")  # 1.10 × 2 000
    assert wing.subtotal_rub == D("4620.00")
    assert result.subtotal_rub == D("23500.00")  # 13 420 + 5 460 + 4 620


def test_blend_hours_take_the_paint_factor():
    result = estimate(
        Damage("door_front_left", "dent", "1"), tech=TECH_CLASS_E, blend_policy="always"
    )

    rear = line_of(result, "door_rear_left")
    assert rear.paint_hours == D("1.50")  # 2.60 × 0.5 = 1.30; × 1.15 = 1.495 → 1.50
    assert rear.paint_rub == D("3300.00")  # 1.50 × 2 200


def test_neighbour_painted_anyway_is_not_blended():
    result = estimate(
        Damage("door_front_left", "dent", "1"),
        Damage("wing_front_left", "scratch", "1"),
        blend_policy="always",
    )

    assert [line.part for line in result.lines] == [
        "door_front_left",
        "wing_front_left",
        "door_rear_left",
    ]
    assert line_of(result, "wing_front_left").kind == "scratch"
    # 13 420 + wing paint 1.60 × 2 200 + 1.60 × 2 000 = 6 720 + rear blend 5 460.
    assert result.subtotal_rub == D("25600.00")


def test_shared_neighbour_is_blended_once():
    result = estimate(
        Damage("door_front_left", "dent", "1"),
        Damage("quarter_left", "dent", "1"),
        blend_policy="always",
    )

    parts = [line.part for line in result.lines]
    assert parts.count("door_rear_left") == 1
    assert parts.count("wing_front_left") == 1
    assert len(parts) == 4


def test_no_blend_lines_when_blending_is_off():
    result = estimate(
        Damage("door_front_left", "dent", "1"),
        Damage("quarter_left", "dent", "1"),
        blend_policy="never",
    )

    assert [line.part for line in result.lines] == ["door_front_left", "quarter_left"]


def test_unpainted_part_blends_nothing():
    result = estimate(Damage("headlamp_left", "crack", "1"), blend_policy="always")

    assert [line.part for line in result.lines] == ["headlamp_left"]


# --- Hidden damage ---------------------------------------------------------------------


def test_hidden_damage_range_is_a_share_of_the_line_subtotals():
    result = estimate(
        Damage("door_front_left", "dent", "1"),  # light: 3.3–12.5 % of 13 420
        Damage("bumper_front", "broken", "4"),  # heavy: 12.5–33.3 % of 39 220
        Damage("windscreen", "scratch", "1"),  # no range in the data: 0 %
    )

    # 13 420 × 3.3 % = 442.86; 39 220 × 12.5 % = 4 902.50 → 5 345.36.
    assert result.hidden_low_rub == D("5345.36")
    # 13 420 × 12.5 % = 1 677.50; 39 220 × 33.3 % = 13 060.26 → 14 737.76.
    assert result.hidden_high_rub == D("14737.76")
    # Of the subtotal 13 420 + 39 220 + 1 400 = 54 040: 9.9 % → 10, 27.3 % → 27.
    assert result.hidden_low_pct == D("10")
    assert result.hidden_high_pct == D("27")


def test_hidden_damage_range_is_rounded_to_the_kopeck():
    result = estimate(Damage("door_front_left", "dent", "2"), tech=TECH_CLASS_E)

    line = only_line(result)
    # Р2 2.10 × 1.10 = 2.31 + 0.66 + 0.39 = 3.36 h → 6 720; paint 2.42 → 5 324; ЛКМ → 4 840.
    assert line.subtotal_rub == D("16884.00")
    assert (line.hidden_low_pct, line.hidden_high_pct) == (D("4.7"), D("18.5"))  # medium
    assert result.hidden_low_rub == D("793.55")  # 16 884 × 4.7 % = 793.548
    assert result.hidden_high_rub == D("3123.54")  # 16 884 × 18.5 % = 3 123.54


@pytest.mark.parametrize(
    ("kind", "size", "expected"),
    [
        ("scratch", "1", "light"),
        ("scratch", "4", "light"),
        ("scratch", "5", "heavy"),
        ("dent", "1", "light"),
        ("dent", "2", "medium"),
        ("dent", "4", "medium"),
        ("dent", "5", "heavy"),
        ("crack", "1", "light"),
        ("crack", "4", "medium"),
        ("broken", "1", "heavy"),
        ("broken", "4", "heavy"),
    ],
)
def test_severity_of_a_damage(kind, size, expected):
    assert severity(kind, size) == expected


def test_line_takes_the_hidden_range_of_its_severity():
    light = only_line(estimate(Damage("door_front_left", "dent", "1")))
    medium = only_line(estimate(Damage("door_front_left", "dent", "4")))
    heavy_without_data = only_line(estimate(Damage("door_front_left", "dent", "5")))

    assert (light.hidden_low_pct, light.hidden_high_pct) == (D("3.3"), D("12.5"))
    assert (medium.hidden_low_pct, medium.hidden_high_pct) == (D("4.7"), D("18.5"))
    assert (heavy_without_data.hidden_low_pct, heavy_without_data.hidden_high_pct) == (0, 0)


# --- Input the engine refuses ----------------------------------------------------------


def test_unknown_part_is_refused():
    with pytest.raises(EstimateError, match="детали"):
        estimate(Damage("door_front_middle", "dent", "1"))


def test_part_missing_from_the_body_is_refused():
    hatchback = frozenset(part.code for part in parts_for_body("hatchback"))
    with pytest.raises(EstimateError, match="кузова"):
        estimate(Damage("boot_lid", "dent", "1"), body_parts=hatchback)


def test_part_of_the_body_is_accepted():
    hatchback = frozenset(part.code for part in parts_for_body("hatchback"))
    result = estimate(Damage("door_front_left", "dent", "1"), body_parts=hatchback)

    assert result.subtotal_rub == D("13420.00")


def test_unknown_damage_kind_is_refused():
    with pytest.raises(EstimateError, match="вид повреждения"):
        estimate(Damage("door_front_left", "rust", "1"))


def test_unknown_damage_size_is_refused():
    with pytest.raises(EstimateError, match="размер"):
        estimate(Damage("door_front_left", "dent", "3"))


def test_same_part_twice_is_refused():
    with pytest.raises(EstimateError, match="дважды"):
        estimate(Damage("door_front_left", "dent", "1"), Damage("door_front_left", "scratch", "2"))


def test_part_without_norms_is_refused():
    with pytest.raises(EstimateError, match="нет норм") as error:
        estimate(Damage("bonnet", "dent", "1"))
    assert "капот" in error.value.message


def test_replacement_without_a_replace_norm_is_refused():
    tech = dataclasses.replace(TECH, norms={**NORMS, "windscreen": Norm(repair_h=(D("0.7"),) * 3)})
    with pytest.raises(EstimateError, match="нет норм замены"):
        estimate(Damage("windscreen", "crack", "4"), tech=tech)


def test_replaced_part_without_a_price_is_refused():
    prices = {code: price for code, price in PRICES.items() if code != "bumper_front"}
    with pytest.raises(EstimateError, match="Нет цены") as error:
        estimate(Damage("bumper_front", "broken", "4"), prices=prices)
    assert "бампер передний" in error.value.message


@pytest.mark.parametrize("price", [PartPrice(D("0")), PartPrice(D("0.00")), PartPrice(None)])
def test_zero_or_missing_price_is_refused_never_used_as_free(price):
    prices = {**PRICES, "bumper_front": price}
    with pytest.raises(EstimateError, match="Нет цены"):
        estimate(Damage("bumper_front", "broken", "4"), prices=prices)


def test_zero_price_does_not_make_replacement_look_free():
    prices = {**PRICES, "door_front_left": PartPrice(D("0"))}
    line = only_line(estimate(Damage("door_front_left", "dent", "4"), prices=prices))

    assert line.operation == "repair_paint"
    assert any("нет цены новой детали" in note for note in line.notes)
    assert line.subtotal_rub == D("18800.00")


def test_reference_price_is_flagged_approximate():
    line = only_line(estimate(Damage("mirror_left", "dent", "1")))

    assert line.operation == "replace_paint"
    assert line.price_approximate
    assert any("ориентировочная" in note for note in line.notes)
    # replace 0.50 × 2 000 + paint 0.90 × 2 200 + 0.90 × 2 000 + 14 700.
    assert line.subtotal_rub == D("19480.00")


def test_shop_price_is_not_flagged_approximate():
    line = only_line(estimate(Damage("bumper_front", "broken", "4")))

    assert not line.price_approximate
    assert not any("ориентировочная" in note for note in line.notes)


# --- Properties ------------------------------------------------------------------------

KINDS = list(DamageKind.values)
SIZES = [str(size) for size in SIZE_ORDER]
PARTS_WITH_NORMS = sorted(NORMS)


def money(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=D(low), max_value=D(high), places=2, allow_nan=False, allow_infinity=False
    )


factors = money("1.00", "1.60")
thresholds = money("0.30", "1.00")


@st.composite
def any_tech(draw) -> TechData:
    return dataclasses.replace(TECH, body_factor=draw(factors), paint_factor=draw(factors))


@st.composite
def any_tax(draw) -> Tax:
    regime, percent = draw(
        st.sampled_from(
            [("", None), ("usn_none", None), ("usn_5", 5), ("usn_7", 7), ("osn_22", 22)]
        )
    )
    return Tax(
        regime=regime,
        vat_percent=D(percent) if percent else None,
        rates_include_vat=draw(st.booleans()),
        price_list_includes_vat=draw(st.booleans()),
        rounding=draw(st.sampled_from(["line", "total"])),
    )


@st.composite
def any_rates(draw, with_vat_on_top: bool = False) -> Rates:
    tax = (
        Tax(
            regime="osn_22",
            vat_percent=draw(money("1", "30")),
            rates_include_vat=False,
            price_list_includes_vat=False,
            rounding="total",
        )
        if with_vat_on_top
        else draw(any_tax())
    )
    return Rates(
        body_rate_rub=draw(money("500", "6000")),
        paint_rate_rub=draw(money("500", "6000")),
        material_unit_rub=draw(money("300", "5000")),
        tax=tax,
        replace_threshold=draw(thresholds),
        blend_policy=draw(st.sampled_from(["always", "metallic", "never"])),
    )


any_prices = st.fixed_dictionaries(
    {
        code: st.builds(
            PartPrice,
            original_rub=money("1000", "90000"),
            alternative_rub=st.none() | money("500", "90000"),
            approximate=st.booleans(),
        )
        for code in PARTS_WITH_NORMS
    }
)
damage_sets = st.lists(
    st.builds(
        Damage,
        part=st.sampled_from(PARTS_WITH_NORMS),
        kind=st.sampled_from(KINDS),
        size=st.sampled_from(SIZES),
    ),
    unique_by=lambda damage: damage.part,
    max_size=6,
)


def money_amounts(result: Estimate):
    for name in (
        "labour_rub",
        "paint_rub",
        "materials_rub",
        "parts_rub",
        "subtotal_rub",
        "vat_on_top_rub",
        "vat_in_total_rub",
        "total_rub",
        "alternative_subtotal_rub",
        "alternative_vat_on_top_rub",
        "alternative_vat_in_total_rub",
        "alternative_total_rub",
        "hidden_low_rub",
        "hidden_high_rub",
    ):
        yield name, getattr(result, name)
    for line in result.lines:
        for name in (
            "labour_rub",
            "paint_rub",
            "material_rub",
            "part_rub",
            "alternative_part_rub",
            "subtotal_rub",
            "alternative_subtotal_rub",
        ):
            value = getattr(line, name)
            if value is not None:
                yield f"{line.part}.{name}", value


def _taxed_alike(rates: Rates, prices) -> bool:
    """No VAT, or every price source either includes it or gets it on top."""
    tax = rates.tax
    if not tax.vat_percent:
        return True
    parts = {True if p.approximate else tax.price_list_includes_vat for p in prices.values()}
    return parts <= {tax.rates_include_vat}


@settings(max_examples=40, deadline=None)
@given(tech=any_tech(), rates=any_rates(), prices=any_prices)
def test_bigger_damage_never_costs_less(tech, rates, prices):
    for blend in ("always", "never"):
        rates = dataclasses.replace(rates, blend_policy=blend)
        for part in PARTS_WITH_NORMS:
            for kind in KINDS:
                results = [
                    compute_estimate(
                        damages=[Damage(part, kind, size)], tech=tech, prices=prices, rates=rates
                    )
                    for size in SIZES
                ]
                for smaller, larger, size in zip(results, results[1:], SIZES[1:], strict=False):
                    where = f"{part} {kind} up to size {size}, blend={blend}"
                    # Repair or replacement is chosen by what the customer pays. When VAT is
                    # added on top of some sources only (labour, but not a part's price, or the
                    # other way round), the amounts before VAT need not follow that order.
                    if _taxed_alike(rates, prices):
                        assert larger.lines[0].subtotal_rub >= smaller.lines[0].subtotal_rub, where
                        assert larger.subtotal_rub >= smaller.subtotal_rub, where
                    assert larger.total_rub >= smaller.total_rub, where


@settings(max_examples=80, deadline=None)
@given(damages=damage_sets, tech=any_tech(), rates=any_rates(), prices=any_prices)
def test_subtotal_is_the_sum_of_lines_and_each_line_the_sum_of_its_parts(
    damages, tech, rates, prices
):
    result = compute_estimate(damages=damages, tech=tech, prices=prices, rates=rates)

    for line in result.lines:
        work = line.labour_rub + line.paint_rub + line.material_rub
        assert line.subtotal_rub == work + line.part_rub
        alternative = line.alternative_part_rub
        assert line.alternative_subtotal_rub == work + (
            alternative if alternative is not None else line.part_rub
        )
    assert result.subtotal_rub == sum((line.subtotal_rub for line in result.lines), ZERO)
    assert result.alternative_subtotal_rub == sum(
        (line.alternative_subtotal_rub for line in result.lines), ZERO
    )
    assert result.subtotal_rub == (
        result.labour_rub + result.paint_rub + result.materials_rub + result.parts_rub
    )


@settings(max_examples=80, deadline=None)
@given(
    damages=damage_sets,
    tech=any_tech(),
    rates=any_rates(with_vat_on_top=True),
    prices=st.fixed_dictionaries(
        {code: st.builds(PartPrice, original_rub=money("1000", "90000")) for code in NORMS}
    ),
)
def test_vat_on_top_is_applied_once_on_the_subtotal(damages, tech, rates, prices):
    """Only the shop's own prices (none approximate): all of them exclude VAT here."""
    result = compute_estimate(damages=damages, tech=tech, prices=prices, rates=rates)

    rate = rates.tax.vat_percent
    assert result.vat_on_top_rub == quantize_rub(result.subtotal_rub * rate / 100)
    assert result.total_rub - result.subtotal_rub == quantize_rub(result.subtotal_rub * rate / 100)
    assert result.alternative_total_rub - result.alternative_subtotal_rub == quantize_rub(
        result.alternative_subtotal_rub * rate / 100
    )


def _h(hours: Decimal | None, factor: Decimal) -> Decimal:
    return ((hours or ZERO) * factor).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def _deps_hours(part: str, operations: tuple[str, ...], factor: Decimal) -> Decimal:
    return sum(
        (
            _h(dep.hours, factor)
            for dep in DEPENDENCIES.get(part, ())
            if dep.operation in operations
        ),
        ZERO,
    )


def repair_and_replace_cost(
    part: str, kind: str, size: str, tech: TechData, rates: Rates, price: Decimal
) -> tuple[Decimal, Decimal]:
    """Both ways of fixing a painted body part, worked out from the norms of this module, as
    the customer would pay them: each amount rounded to the kopeck as its line is, and VAT
    added on top of the sources whose prices exclude it (the shop's rates, its price list)."""
    norm = NORMS[part]
    small = size in ("1", "2")
    if kind == "scratch":
        repair_h, repair_ops = ZERO, ("paint",)
    else:
        category = {"1": 0, "2": 1, "4": 2}[size] + (1 if kind == "crack" else 0)
        repair_h, repair_ops = norm.repair_h[min(category, 2)], ("repair", "paint")
    if small:
        paint_h, units = norm.paint_repair_small_h, norm.material_repair_small
    else:
        paint_h = max(norm.paint_repair_small_h, norm.paint_repair_large_h)
        units = max(norm.material_repair_small, norm.material_repair_large)
    bf, pf = tech.body_factor, tech.paint_factor
    repair = (
        quantize_rub((_h(repair_h, bf) + _deps_hours(part, repair_ops, bf)) * rates.body_rate_rub)
        + quantize_rub(_h(paint_h, pf) * rates.paint_rate_rub)
        + quantize_rub(_h(units, pf) * rates.material_unit_rub)
    )
    replace_work = (
        quantize_rub(
            (_h(norm.replace_h, bf) + _deps_hours(part, ("replace", "paint"), bf))
            * rates.body_rate_rub
        )
        + quantize_rub(_h(norm.paint_new_h, pf) * rates.paint_rate_rub)
        + quantize_rub(_h(norm.material_new, pf) * rates.material_unit_rub)
    )
    part_rub = quantize_rub(price)
    tax = rates.tax
    if not tax.vat_percent:
        return repair, replace_work + part_rub
    on_top = tax.vat_percent / 100

    def work_vat(work: Decimal) -> Decimal:
        return ZERO if tax.rates_include_vat else work

    part_vat = ZERO if tax.price_list_includes_vat else part_rub
    return (
        repair + quantize_rub(work_vat(repair) * on_top),
        replace_work + part_rub + quantize_rub((work_vat(replace_work) + part_vat) * on_top),
    )


REPAIRABLE = [
    (part, kind)
    for part in ("door_front_left", "door_rear_left", "wing_front_left", "quarter_left")
    for kind in ("scratch", "dent")
] + [("bumper_front", "scratch"), ("bumper_front", "dent"), ("bumper_front", "crack")]


@settings(max_examples=100, deadline=None)
@given(
    part_kind=st.sampled_from(REPAIRABLE),
    size=st.sampled_from(["1", "2", "4"]),
    tech=any_tech(),
    rates=any_rates(),
    price=money("1000", "60000"),
)
def test_replacement_is_chosen_exactly_when_repair_exceeds_the_threshold(
    part_kind, size, tech, rates, price
):
    part, kind = part_kind
    prices = {**PRICES, part: PartPrice(price)}
    result = compute_estimate(
        damages=[Damage(part, kind, size)], tech=tech, prices=prices, rates=rates
    )

    repair, replace = repair_and_replace_cost(part, kind, size, tech, rates, price)
    line = result.lines[0]
    if repair > replace * rates.replace_threshold:
        assert line.operation == "replace_paint"
        assert line.part_rub == price
        assert any("выгоднее заменить" in note for note in line.notes)
    else:
        assert line.operation == ("paint" if kind == "scratch" else "repair_paint")
        assert line.part_rub == ZERO


@settings(max_examples=80, deadline=None)
@given(damages=damage_sets, tech=any_tech(), rates=any_rates(), prices=any_prices)
def test_money_amounts_are_never_negative(damages, tech, rates, prices):
    result = compute_estimate(damages=damages, tech=tech, prices=prices, rates=rates)

    for name, amount in money_amounts(result):
        assert amount >= 0, name


@settings(max_examples=80, deadline=None)
@given(damages=damage_sets, tech=any_tech(), rates=any_rates(), prices=any_prices)
def test_every_money_amount_is_in_kopecks(damages, tech, rates, prices):
    result = compute_estimate(damages=damages, tech=tech, prices=prices, rates=rates)

    for name, amount in money_amounts(result):
        assert amount.as_tuple().exponent == -2, f"{name} = {amount!r}"


@settings(max_examples=50, deadline=None)
@given(damages=damage_sets, tech=any_tech(), rates=any_rates(), prices=any_prices)
def test_same_input_gives_the_same_estimate(damages, tech, rates, prices):
    first = compute_estimate(damages=damages, tech=tech, prices=prices, rates=rates)
    second = compute_estimate(damages=list(damages), tech=tech, prices=prices, rates=rates)

    assert first == second
    assert repr(first) == repr(second)  # the same digits too, not only equal values
