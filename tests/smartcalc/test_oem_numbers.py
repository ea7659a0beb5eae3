"""OEM numbers of the platform's catalogue (smartcalc/data/reference_prices.csv, issue #12):
every shipped number names where it was found and reads like a number of its make's scheme
for that very part, and it belongs to the one generation it was found for.

The checker below knows the numbering schemes only as far as they are public and certain:
VAG (group 807 bumpers, 821 wings, 823 bonnet, 831/833 doors, odd = left, even = right …),
Renault (ten digits or nine and «R»), LADA (ten digits 8450…, or 2190-2803015 style),
Hyundai/Kia and Toyota (five-digit part code, five-character model code). A number of a make
with no rule here fails the test: whoever adds one adds its rule too."""

from __future__ import annotations

import re

import pytest

from smartcalc import selectors, techdata
from smartcalc.models import Generation, ReferencePrice

pytestmark = pytest.mark.django_db

# VAG: model code (3), main group (3), sub-group/part (3), index letters (and colour code).
VAG = re.compile(r"(?P<model>[0-9][0-9A-Z]{2})(?P<group>\d{3})(?P<sub>\d{3})[A-Z]{0,4}")
VAG_GROUPS = {
    "807": {"bumper_front", "bumper_rear"},
    "809": {"quarter_left", "quarter_right"},
    "817": {"roof"},
    "821": {"wing_front_left", "wing_front_right"},
    "823": {"bonnet"},
    "827": {"boot_lid", "tailgate"},
    "831": {"door_front_left", "door_front_right"},
    "833": {"door_rear_left", "door_rear_right"},
    "845": {"windscreen", "rear_window"},
    "857": {"mirror_left", "mirror_right"},
    "941": {"headlamp_left", "headlamp_right", "foglamp_left", "foglamp_right"},
    "945": {"taillamp_left", "taillamp_right"},
}
# Hyundai/Kia: the first five digits name the part (the model code follows).
HYUNDAI_KIA = re.compile(r"(?P<part>\d{5})-?[0-9A-Z]{5}")
HYUNDAI_KIA_PARTS = {
    "86511": {"bumper_front"},
    "86611": {"bumper_rear"},
    "66400": {"bonnet"},
    "66311": {"wing_front_left"},
    "66321": {"wing_front_right"},
    "76003": {"door_front_left"},
    "76004": {"door_front_right"},
    "92101": {"headlamp_left"},
    "92102": {"headlamp_right"},
    "87610": {"mirror_left"},
    "87620": {"mirror_right"},
}
TOYOTA = re.compile(r"\d{5}-?[0-9A-Z]{5}")
RENAULT = re.compile(r"\d{10}|\d{9}R")
LADA = re.compile(r"8450\d{6}|\d{4,5}-\d{7}(-\d{2})?|\d{14}")


def plausible(make: str, part: str, number: str) -> str:
    """Why the number does not read like `make`'s number of `part` ("" when it does)."""
    if make in ("Volkswagen", "Skoda"):
        match = VAG.fullmatch(number)
        if not match:
            return "not a VAG number (3 + 3 + 3 characters and an index)"
        if part not in VAG_GROUPS.get(match["group"], set()):
            return f"VAG main group {match['group']} is not the group of {part}"
        side = int(match["sub"]) % 2
        if part.endswith("_left") and side != 1 or part.endswith("_right") and side != 0:
            return "VAG left parts end in an odd digit, right parts in an even one"
        return ""
    if make in ("Hyundai", "Kia"):
        match = HYUNDAI_KIA.fullmatch(number)
        if not match:
            return "not a Hyundai/Kia number (5 digits, 5 characters)"
        if part not in HYUNDAI_KIA_PARTS.get(match["part"], {part}):
            return f"Hyundai/Kia part code {match['part']} is not the code of {part}"
        return ""
    if make == "Toyota":
        return "" if TOYOTA.fullmatch(number) else "not a Toyota number (5 digits, 5 characters)"
    if make == "Renault":
        return "" if RENAULT.fullmatch(number) else "not a Renault number (10 digits or 9 + R)"
    if make == "Lada":
        if LADA.fullmatch(number) or RENAULT.fullmatch(number):  # Largus, XRAY: Renault parts
            return ""
        return "not an AvtoVAZ or Renault number"
    return f"no numbering rule for {make}: add one to this test with the numbers you ship"


def _numbered():
    version = techdata.current_version()
    return list(
        ReferencePrice.objects.filter(version=version)
        .exclude(oem_number="")
        .select_related("vehicle_model__make", "generation")
    )


def test_every_shipped_number_names_its_source_and_reads_like_its_makes_number_of_that_part():
    rows = _numbered()
    makes = {row.vehicle_model.make.name for row in rows}
    assert {"Volkswagen", "Renault"} <= makes
    for row in rows:
        where = f"{row.vehicle_model} {row.generation} {row.part} {row.oem_number}"
        assert row.source.startswith("номер OEM:"), where
        assert re.search(r"(github\.com|gist\.github\.com)/\S+", row.source), where
        assert plausible(row.vehicle_model.make.name, row.part, row.oem_number) == "", where


def test_a_number_belongs_to_one_generation_and_one_part():
    rows = _numbered()
    for row in rows:
        assert row.generation_id is not None, f"{row.oem_number}: a number is per generation"
    seen: dict[tuple[int, str], str] = {}
    for row in rows:
        key = (row.generation_id, row.oem_number)
        assert key not in seen, f"{row.oem_number} is both {seen[key]} and {row.part}"
        seen[key] = row.part


@pytest.mark.parametrize(
    "make,part,number",
    [
        ("Volkswagen", "bonnet", "6RU807221A"),  # a bumper's number on the bonnet
        ("Volkswagen", "wing_front_right", "6RU821105C"),  # the left wing on the right
        ("Skoda", "bumper_front", "6RU8072"),  # cut short
        ("Hyundai", "bumper_front", "6RU807221A"),  # another make's number
        ("Kia", "headlamp_left", "92102-H0000"),  # the right headlamp's code
        ("Renault", "bumper_rear", "60015467"),
        ("Lada", "bonnet", "AT-2190-FB"),  # a shop's own code, not AvtoVAZ's
        ("Chery", "bumper_front", "602000158AA"),  # no rule for the make yet
    ],
)
def test_the_checker_rejects_numbers_of_another_part_side_make_or_scheme(make, part, number):
    assert plausible(make, part, number)


def test_the_logan_number_is_its_first_generations_only():
    logan_1, logan_2 = (
        Generation.objects.get(model__make__name="Renault", model__name="Logan", name=name)
        for name in ("I", "II")
    )
    assert selectors.oem_number_for(logan_1, "bumper_rear") == "6001546776"
    assert selectors.oem_number_for(logan_2, "bumper_rear") == ""
    assert selectors.oem_number_for(logan_1, "bumper_front") == ""
    # A lead that names the car in words: the year picks the generation; in 2014, the year
    # both generations were sold, no number is safe.
    assert selectors.reference_numbers_for_car("Renault", "Logan", 2008) == {
        "bumper_rear": "6001546776"
    }
    assert selectors.reference_numbers_for_car("Renault", "Logan", 2014) == {}
    assert selectors.reference_numbers_for_car("Renault", "Logan II", None) == {}
