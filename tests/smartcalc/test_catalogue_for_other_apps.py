"""What vehicle intake reads of the calculator: the make of a VIN, the damage picker and the
coloured diagram of the act."""

from __future__ import annotations

import re

import pytest

from smartcalc import selectors
from smartcalc.models import VehicleMake, Wmi
from smartcalc.templatetags.calc import SEVERITY_COLOURS

pytestmark = pytest.mark.django_db


def test_vin_names_the_make_of_its_manufacturer_code():
    wmi = selectors.make_for_vin("XTAGFK330LY123456")

    assert wmi is not None and wmi.make.name == "Lada"
    assert selectors.make_for_vin("  xtagfk330ly123456 ").make.name == "Lada"


@pytest.mark.parametrize("vin", ["", "XT", "QQQ4567890123456"])
def test_short_or_unknown_vin_names_no_make(vin):
    assert selectors.make_for_vin(vin) is None


def test_an_entry_with_a_make_wins_over_one_without_and_confirmed_first():
    first = VehicleMake.objects.create(name="Первая")
    second = VehicleMake.objects.create(name="Вторая")
    Wmi.objects.create(code="QQ1", make=None, source="test")
    assert selectors.make_for_vin("QQ1") is None
    Wmi.objects.create(code="QQ1", make=first, confirmed=False, source="test")
    assert selectors.make_for_vin("QQ1").make == first
    Wmi.objects.create(code="QQ1", make=second, confirmed=True, models_text="X", source="test")
    assert selectors.make_for_vin("QQ1").make == second


def test_body_type_choices_name_every_body():
    assert dict(selectors.body_type_choices())["liftback"] == "лифтбек"


def test_picker_shows_the_parts_of_the_body_with_the_saved_damages():
    context = selectors.damage_picker(
        "liftback",
        [
            {"part": "door_front_left", "kind": "dent", "size": "2"},
            {"part": "no_such_part", "kind": "dent", "size": "2"},
        ],
    )

    assert context["diagram"] == "hatchback"  # a liftback looks like a hatchback from above
    rows = {row["code"]: row for row in context["rows"]}
    assert "tailgate" in rows and "boot_lid" not in rows
    assert (rows["door_front_left"]["kind"], rows["door_front_left"]["size"]) == ("dent", "2")
    assert "no_such_part" not in rows
    assert ("dent", "вмятина") in [(value, str(label)) for value, label in context["kinds"]]
    assert context["sizes"]


def test_unknown_body_is_drawn_as_a_sedan():
    assert selectors.diagram_for_body("limousine") == "sedan"
    assert selectors.damage_picker("limousine", [])["diagram"] == "sedan"


def test_picker_post_becomes_damages_and_half_filled_parts_are_explained():
    damages, errors = selectors.damages_from_picker(
        {
            "kind_door_front_left": "scratch",
            "size_door_front_left": "1",
            "kind_bonnet": "dent",
            "size_bonnet": "",
            "kind_tailgate": "dent",  # not a part of a sedan: ignored
            "size_tailgate": "2",
        },
        "sedan",
    )

    assert damages == [{"part": "door_front_left", "kind": "scratch", "size": "1"}]
    assert set(errors) == {"bonnet"} and "ладонях" in errors["bonnet"]


def test_act_diagram_fills_damaged_parts_by_severity_and_nothing_else():
    svg = selectors.damage_diagram_svg(
        "sedan",
        [
            {"part": "door_front_left", "kind": "broken", "size": "1"},
            {"part": "bonnet", "kind": "scratch", "size": "1"},
            {"part": 'x" onload="alert(1)', "kind": "dent", "size": "5"},
        ],
    )

    assert f'<g id="part-door_front_left" fill="{SEVERITY_COLOURS[4]}" ' in svg
    assert f'<g id="part-bonnet" fill="{SEVERITY_COLOURS[1]}" ' in svg
    assert "onload" not in svg
    assert len(re.findall(r'<g id="part-[^"]+" fill=', svg)) == 2  # nothing else coloured
