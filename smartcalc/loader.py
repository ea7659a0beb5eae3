"""Loads the shipped calculator data (smartcalc/data/*.csv) into a new DataVersion.

The catalogue (makes, models, generations, WMI) and the europrotocol rules are upserted;
the repair technology (norms, factors, dependencies, hidden ranges, reference prices) is
stored under the version named in data/VERSION, so an estimate always names the data it
used. Loading the same files twice changes nothing; changed files need a new VERSION.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from .models import (
    ClassFactor,
    DataVersion,
    Dependency,
    EuroprotocolLimit,
    Generation,
    HiddenDamageRange,
    LabourNorm,
    ReferencePrice,
    VehicleMake,
    VehicleModel,
    Wmi,
)
from .parts import PARTS, BodyType

DATA_DIR = Path(__file__).resolve().parent / "data"
FILES = (
    "VERSION",
    "vehicles.csv",
    "class_factors.csv",
    "labour_norms.csv",
    "spot_repair.csv",
    "model_overrides.csv",
    "dependencies.csv",
    "hidden_damage.csv",
    "reference_prices.csv",
    "europrotocol.csv",
    "wmi.csv",
)
NORM_COLUMNS = (
    "remove_refit_h",
    "replace_h",
    "repair_r1_h",
    "repair_r2_h",
    "repair_r3_h",
    "paint_new_h",
    "paint_repair_small_h",
    "paint_repair_large_h",
    "polish_h",
    "paint_material_new",
    "paint_material_repair_small",
    "paint_material_repair_large",
)


# A manufacturer's part number as catalogues print it: letters and digits, hyphens or
# spaces between groups (86511-4L000, 6RU807221A, 6RU807421FGRU).
OEM_NUMBER = re.compile(r"[0-9A-Z](?:[0-9A-Z]|[- ](?=[0-9A-Z])){4,39}")

SPOT_COLUMNS = ("spot_repair_h", "paint_material_spot")


class DataError(ValueError):
    pass


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)
        ]


def _dec(value: str, where: str) -> Decimal | None:
    if value == "":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise DataError(f"{where}: «{value}» is not a number") from None
    if number < 0:
        raise DataError(f"{where}: negative value {value}")
    return number


def _part(code: str, where: str) -> str:
    if code not in PARTS:
        raise DataError(f"{where}: unknown part code {code!r}")
    return code


def files_sha256(folder: Path = DATA_DIR) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def _popularity(rows: list[dict[str, str]]) -> dict[tuple[str, str], tuple[int | None, str]]:
    """The place of each model in the popular list: one rank and source per model, no two
    models on one place."""
    ranks: dict[tuple[str, str], tuple[int | None, str]] = {}
    for number, row in enumerate(rows, start=2):
        where = f"vehicles.csv:{number}"
        value = row.get("popularity_rank", "")
        try:
            rank = int(value) if value else None
        except ValueError:
            raise DataError(f"{where}: popularity_rank «{value}» is not a whole number") from None
        if rank is not None and (rank < 1 or not row.get("popularity_source")):
            raise DataError(f"{where}: popularity_rank needs a positive place and its source")
        key = (row["make"], row["model"])
        entry = (rank, row.get("popularity_source", ""))
        if ranks.setdefault(key, entry) != entry:
            raise DataError(f"{where}: another popularity for {key[0]} {key[1]}")
    places = [rank for rank, _ in ranks.values() if rank is not None]
    if len(places) != len(set(places)):
        raise DataError("vehicles.csv: two models share a popularity_rank")
    return ranks


def _load_catalogue(folder: Path) -> dict[tuple[str, str], VehicleModel]:
    models_by_name: dict[tuple[str, str], VehicleModel] = {}
    rows = _rows(folder, "vehicles.csv")
    ranks = _popularity(rows)
    for number, row in enumerate(rows, start=2):
        where = f"vehicles.csv:{number}"
        bodies = [b for b in row["body_types"].split(";") if b]
        unknown = [b for b in bodies if b not in BodyType.values]
        if unknown or not bodies:
            raise DataError(f"{where}: body types {unknown or 'missing'}")
        rank, rank_source = ranks[(row["make"], row["model"])]
        make, _ = VehicleMake.objects.get_or_create(name=row["make"])
        model, _ = VehicleModel.objects.update_or_create(
            make=make,
            name=row["model"],
            defaults={
                "vehicle_class": row["vehicle_class"],
                "popularity_rank": rank,
                "popularity_source": rank_source,
            },
        )
        popular = row["popular"] == "1"
        if popular and not model.popular:
            model.popular = True
            model.save(update_fields=["popular"])
        if popular and not make.popular:
            make.popular = True
            make.save(update_fields=["popular"])
        Generation.objects.update_or_create(
            model=model,
            name=row["generation"],
            defaults={
                "year_from": int(row["year_from"]),
                "year_to": int(row["year_to"]) if row["year_to"] else None,
                "body_types": bodies,
                "popular": popular,
            },
        )
        models_by_name[(row["make"], row["model"])] = model
    for row in _rows(folder, "wmi.csv"):
        make = VehicleMake.objects.filter(name=row["make"]).first()
        Wmi.objects.update_or_create(
            code=row["wmi"].upper()[:3],
            make=make,
            defaults={
                "models_text": row["models"],
                "confirmed": row["confirmed"] == "1",
                "source": row["source"],
            },
        )
    for number, row in enumerate(_rows(folder, "europrotocol.csv"), start=2):
        EuroprotocolLimit.objects.update_or_create(
            region=row["region"],
            condition=row["condition"],
            valid_from=dt.date.fromisoformat(row["valid_from"]),
            defaults={
                "amount_rub": _dec(row["amount_rub"], f"europrotocol.csv:{number}"),
                "valid_to": dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
                "title": row["title"],
                "conditions_text": row["conditions_text"],
                "source": row["source"],
            },
        )
    return models_by_name


def _model(models_by_name, make: str, model: str, where: str) -> VehicleModel:
    try:
        return models_by_name[(make, model)]
    except KeyError:
        raise DataError(f"{where}: model {make} {model} is not in vehicles.csv") from None


@transaction.atomic
def load_calc_data(folder: Path = DATA_DIR) -> tuple[DataVersion, bool]:
    """Returns (version, created). Raises DataError naming the file and line."""
    label = (folder / "VERSION").read_text(encoding="utf-8").strip()
    sha = files_sha256(folder)
    existing = DataVersion.objects.filter(label=label).first()
    if existing is not None:
        if existing.sha256 != sha:
            raise DataError(
                f"data files changed but VERSION is still {label}: bump VERSION so that "
                "estimates made with the old data keep naming it"
            )
        _load_catalogue(folder)
        return existing, False
    models_by_name = _load_catalogue(folder)
    DataVersion.objects.filter(is_current=True).update(is_current=False)
    version = DataVersion.objects.create(label=label, sha256=sha, is_current=True)

    for number, row in enumerate(_rows(folder, "class_factors.csv"), start=2):
        where = f"class_factors.csv:{number}"
        ClassFactor.objects.create(
            version=version,
            vehicle_class=row["vehicle_class"],
            body_factor=_dec(row["body_factor"], where),
            paint_factor=_dec(row["paint_factor"], where),
            source=row["source"],
        )
    base: dict[str, dict] = {}
    for number, row in enumerate(_rows(folder, "labour_norms.csv"), start=2):
        where = f"labour_norms.csv:{number}"
        values = {c: _dec(row[c], f"{where} {c}") for c in NORM_COLUMNS}
        base[_part(row["part"], where)] = values
        LabourNorm.objects.create(version=version, part=row["part"], source=row["source"], **values)
    missing = sorted(set(PARTS) - set(base))
    if missing:
        raise DataError(f"labour_norms.csv: no norms for {missing}")
    # Spot (local) repair of a painted panel: its own file, merged into the base norms (a
    # model override of the part inherits it).
    for number, row in enumerate(_rows(folder, "spot_repair.csv"), start=2):
        where = f"spot_repair.csv:{number}"
        part = _part(row["part"], where)
        spot = {c: _dec(row[c], f"{where} {c}") for c in SPOT_COLUMNS}
        base[part].update(spot)
        LabourNorm.objects.filter(version=version, part=part, vehicle_model__isnull=True).update(
            **spot
        )
    overrides: dict[tuple[int, str], dict] = {}
    for number, row in enumerate(_rows(folder, "model_overrides.csv"), start=2):
        where = f"model_overrides.csv:{number}"
        model = _model(models_by_name, row["make"], row["model"], where)
        part = _part(row["part"], where)
        if row["column"] not in NORM_COLUMNS:
            raise DataError(f"{where}: unknown column {row['column']!r}")
        entry = overrides.setdefault((model.pk, part), {**base[part], "source": row["source"]})
        entry[row["column"]] = _dec(row["value"], where)
        entry["model"] = model
    for (_model_id, part), values in overrides.items():
        model = values.pop("model")
        LabourNorm.objects.create(version=version, part=part, vehicle_model=model, **values)
    for number, row in enumerate(_rows(folder, "dependencies.csv"), start=2):
        where = f"dependencies.csv:{number}"
        if row["operation"] not in Dependency.Applies.values:
            raise DataError(f"{where}: operation {row['operation']!r}")
        Dependency.objects.create(
            version=version,
            part=_part(row["part"], where),
            operation=row["operation"],
            item=row["item"],
            hours=_dec(row["hours"], where),
            source=row["source"],
        )
    for number, row in enumerate(_rows(folder, "hidden_damage.csv"), start=2):
        where = f"hidden_damage.csv:{number}"
        low, high = _dec(row["low_pct"], where), _dec(row["high_pct"], where)
        if low is None or high is None or low > high:
            raise DataError(f"{where}: range {low}–{high}")
        HiddenDamageRange.objects.create(
            version=version,
            part=_part(row["part"], where),
            severity=row["severity"],
            low_pct=low,
            high_pct=high,
            source=row["source"],
        )
    generations = {
        (g.model_id, g.name): g
        for g in Generation.objects.filter(model__in=list(models_by_name.values()))
    }
    prices = []
    for number, row in enumerate(_rows(folder, "reference_prices.csv"), start=2):
        where = f"reference_prices.csv:{number}"
        original = _dec(row["original_rub"], where)
        if not original:
            raise DataError(f"{where}: a reference price must be positive")
        if not row["source"]:
            raise DataError(f"{where}: every reference price names its source")
        model = _model(models_by_name, row["make"], row["model"], where)
        generation = None
        if row.get("generation"):
            generation = generations.get((model.pk, row["generation"]))
            if generation is None:
                raise DataError(
                    f"{where}: generation {row['generation']!r} of {model} is not in vehicles.csv"
                )
        oem = row["oem_number"]
        if oem and not OEM_NUMBER.fullmatch(oem):
            raise DataError(f"{where}: «{oem}» is not a part number (letters, digits, hyphens)")
        prices.append(
            ReferencePrice(
                version=version,
                vehicle_model=model,
                generation=generation,
                part=_part(row["part"], where),
                oem_number=oem,
                original_rub=original,
                alternative_rub=_dec(row["alternative_rub"], where) or None,
                source=row["source"],
            )
        )
    ReferencePrice.objects.bulk_create(prices)
    return version, True
