"""The shipped vehicle catalogue: the cars most repaired in Russia with every generation on
the road, sourced rows, the popular list in the order the cars come in, and the OEM numbers
of exterior parts by generation."""

from __future__ import annotations

import re
import shutil

import pytest
from django.urls import reverse

from smartcalc import engine, selectors, services, techdata
from smartcalc.loader import DATA_DIR, OEM_NUMBER, DataError, load_calc_data
from smartcalc.models import (
    ClassFactor,
    DataVersion,
    Generation,
    LabourNorm,
    ReferencePrice,
    VehicleMake,
    VehicleModel,
)
from smartcalc.parts import PARTS, parts_for_body

pytestmark = pytest.mark.django_db

# The panels, glass and lamps a shop orders by number (issue #12): what needs an OEM number.
EXTERIOR = (
    "bumper_front",
    "bumper_rear",
    "bonnet",
    "wing_front_left",
    "wing_front_right",
    "door_front_left",
    "door_front_right",
    "door_rear_left",
    "door_rear_right",
    "boot_lid",
    "tailgate",
    "headlamp_left",
    "headlamp_right",
    "taillamp_left",
    "taillamp_right",
    "mirror_left",
    "mirror_right",
)


def _polo(name: str) -> Generation:
    return Generation.objects.select_related("model").get(
        model__make__name="Volkswagen", model__name="Polo", name=name
    )


def test_catalogue_has_the_thirty_models_most_repaired_each_ranked_with_a_source():
    ranked = VehicleModel.objects.filter(popularity_rank__isnull=False)
    assert ranked.count() >= 30
    assert all(m.popularity_source for m in ranked)
    names = {(m.make.name, m.name) for m in ranked.select_related("make")}
    for expected in [
        ("Lada", "Granta"),
        ("Lada", "Vesta"),
        ("Lada", "Largus"),
        ("Lada", "Niva Legend"),
        ("Lada", "Niva Travel"),
        ("Lada", "XRAY"),
        ("Hyundai", "Solaris"),
        ("Hyundai", "Creta"),
        ("Kia", "Rio"),
        ("Kia", "Ceed"),
        ("Kia", "Sportage"),
        ("Volkswagen", "Polo"),
        ("Volkswagen", "Tiguan"),
        ("Skoda", "Rapid"),
        ("Skoda", "Octavia"),
        ("Renault", "Logan"),
        ("Renault", "Sandero"),
        ("Renault", "Duster"),
        ("Toyota", "Camry"),
        ("Toyota", "RAV4"),
        ("Toyota", "Corolla"),
        ("Haval", "Jolion"),
        ("Haval", "F7"),
        ("Chery", "Tiggo 4 Pro"),
        ("Chery", "Tiggo 7 Pro"),
        ("Geely", "Coolray"),
        ("Geely", "Monjaro"),
        ("Nissan", "Qashqai"),
        ("Nissan", "X-Trail"),
        ("Mitsubishi", "Outlander"),
    ]:
        assert expected in names


def test_older_generations_still_on_the_road_are_in_the_catalogue():
    def generations(make, model):
        return set(
            Generation.objects.filter(model__make__name=make, model__name=model).values_list(
                "name", flat=True
            )
        )

    assert {"I (RB)", "II (HCR)"} <= generations("Hyundai", "Solaris")
    assert {"I", "NG"} <= generations("Lada", "Vesta")
    assert {"III (QB)", "IV (FB)"} <= generations("Kia", "Rio")
    assert {"XV40", "XV50", "XV70"} <= generations("Toyota", "Camry")
    assert {"седан", "лифтбек"} <= generations("Volkswagen", "Polo")


def test_every_generation_offered_can_be_priced_for_every_part_of_its_bodies():
    version = techdata.current_version()
    classes = set(
        ClassFactor.objects.filter(version=version).values_list("vehicle_class", flat=True)
    )
    base_norms = set(
        LabourNorm.objects.filter(version=version, vehicle_model__isnull=True).values_list(
            "part", flat=True
        )
    )
    assert base_norms == set(PARTS)
    generations = Generation.objects.select_related("model__make")
    assert generations.count() >= 60
    for generation in generations:
        model = generation.model
        assert model.vehicle_class in classes, model
        assert set(techdata.tech_for(model, version).norms) == set(PARTS)
        prices = techdata.reference_prices(model, generation, version)
        for body in generation.body_types:
            missing = {p.code for p in parts_for_body(body)} - set(prices)
            assert not missing, f"{generation} {body}: no reference price for {sorted(missing)}"
        for ref in prices.values():
            assert ref.source.strip() and ref.original_rub > 0, ref


def test_every_catalogue_row_names_its_source():
    version = techdata.current_version()
    assert not ReferencePrice.objects.filter(version=version, source="").exists()
    assert not LabourNorm.objects.filter(version=version, source="").exists()
    assert not VehicleModel.objects.filter(
        popularity_rank__isnull=False, popularity_source=""
    ).exists()


def test_popular_list_is_ordered_by_how_often_the_models_come_in_with_every_generation(
    client, shop
):
    html = client.get(reverse("smartcalc:calc_vehicle", args=[shop.slug])).content.decode()
    block = html[html.index("popular-cars") :]
    block = block[: block.index("Все марки")]
    shown = re.findall(r'<div class="fw-semibold">([^<]+)</div>', block)
    expected = [str(m) for m in selectors.popular_models()]
    assert shown == expected
    assert shown[:5] == [
        "Lada Granta",
        "Kia Rio",
        "Hyundai Solaris",
        "Volkswagen Polo",
        "Lada Vesta",
    ]
    assert shown != sorted(shown)
    for name in ["I (RB)", "II (HCR)", "Solaris (АГР)", "III (QB)", "NG"]:
        generation = Generation.objects.get(model__name__in=["Solaris", "Rio", "Vesta"], name=name)
        for body in generation.body_types:
            url = reverse("smartcalc:calc_damage", args=[shop.slug, generation.pk, body])
            assert url in block, f"{generation} {body} is not selectable in one tap"


def test_models_of_a_make_are_listed_most_repaired_first(client, shop):
    lada = VehicleMake.objects.get(name="Lada")
    html = client.get(
        reverse("smartcalc:calc_vehicle", args=[shop.slug]), {"make": lada.pk}
    ).content.decode()
    names = re.findall(r'href="\?model=\d+">([^<]+)</a>', html)
    assert names[:2] == ["Granta", "Vesta"]
    assert set(names) >= {"Largus", "Niva Legend", "Niva Travel", "XRAY"}


def test_oem_numbers_are_well_formed_and_cite_where_they_were_found():
    version = techdata.current_version()
    numbered = ReferencePrice.objects.filter(version=version).exclude(oem_number="")
    assert numbered.count() >= 17
    for ref in numbered:
        assert OEM_NUMBER.fullmatch(ref.oem_number), ref.oem_number
        assert re.search(r"[a-z0-9-]+\.[a-z]{2,}/\S", ref.source), ref.source


def test_loader_keeps_oem_numbers_of_one_generation_apart_from_the_others(shop):
    sedan, liftback = _polo("седан"), _polo("лифтбек")
    assert selectors.oem_number_for(sedan, "bumper_front") == "6RU807221A"
    assert selectors.oem_number_for(sedan, "wing_front_left") == "6RU821105C"
    assert selectors.oem_number_for(liftback, "bumper_front") == ""
    assert selectors.oem_number_for(sedan, "tailgate") == ""

    version = techdata.current_version()
    assert techdata.prices_for(shop, sedan.model, version, sedan)["bonnet"].oem_number == (
        "6RU823031C"
    )
    assert techdata.prices_for(shop, sedan.model, version, liftback)["bonnet"].oem_number == ""


def test_estimate_of_a_polo_sedan_carries_the_oem_number_of_the_part(shop):
    sedan = _polo("седан")
    result = services.estimate_compute(
        shop=shop,
        generation=sedan,
        body_type="sedan",
        damages=[engine.Damage("headlamp_left", "broken", "2")],
    )
    line = next(line for line in result.lines if line.part == "headlamp_left")
    assert line.oem_number == "6RU941015"


def test_reloading_the_same_files_changes_nothing():
    counts = (
        VehicleModel.objects.count(),
        Generation.objects.count(),
        ReferencePrice.objects.count(),
        DataVersion.objects.count(),
    )
    ranks = dict(VehicleModel.objects.values_list("pk", "popularity_rank"))
    version, created = load_calc_data()
    assert not created and version.is_current
    assert counts == (
        VehicleModel.objects.count(),
        Generation.objects.count(),
        ReferencePrice.objects.count(),
        DataVersion.objects.count(),
    )
    assert ranks == dict(VehicleModel.objects.values_list("pk", "popularity_rank"))


def _copy(tmp_path, label: str):
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    (folder / "VERSION").write_text(label + "\n", encoding="utf-8")
    return folder


def _replace(path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("reference_prices.csv", "6RU807221A", "6RU 807?221", "is not a part number"),
        (
            "reference_prices.csv",
            "Volkswagen,Polo,седан,bumper_front",
            "Volkswagen,Polo,хэтчбек,bumper_front",
            "is not in vehicles.csv",
        ),
        ("vehicles.csv", ",B,1,1,", ",B,1,2,", "share a popularity_rank"),
        ("vehicles.csv", ",B,0,2,", ",B,0,9,", "another popularity"),
        ("vehicles.csv", ",B,1,1,", ",B,1,первое,", "not a whole number"),
    ],
)
def test_loader_rejects_bad_catalogue_rows_and_loads_nothing(tmp_path, file, old, new, message):
    folder = _copy(tmp_path, "test-bad-1")
    _replace(folder / file, old, new)
    before = ReferencePrice.objects.count()
    with pytest.raises(DataError, match=message):
        load_calc_data(folder)
    assert ReferencePrice.objects.count() == before
    assert not DataVersion.objects.filter(label="test-bad-1").exists()
    assert DataVersion.objects.get(is_current=True).label != "test-bad-1"


def test_vehicle_step_reads_the_catalogue_in_a_fixed_number_of_queries(
    client, shop, django_assert_max_num_queries
):
    url = reverse("smartcalc:calc_vehicle", args=[shop.slug])
    client.get(url)  # the shop's settings and the session are read once per request anyway
    with django_assert_max_num_queries(6) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert not [q for q in captured.captured_queries if "smartcalc_generation" in q["sql"]][1:]


@pytest.mark.parametrize(
    ("vin", "make"),
    [
        ("Z8NTANT31ES000001", "Nissan"),
        ("X9FDXXEEBDCA00001", "Ford"),
        ("X9L21230060000001", "Lada"),
    ],
)
def test_manufacturer_codes_of_the_added_makes_name_them(vin, make):
    wmi = selectors.make_for_vin(vin)
    assert wmi is not None and wmi.make.name == make and wmi.source
