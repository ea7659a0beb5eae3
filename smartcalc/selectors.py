"""Reads for the calculator pages, and what other apps' pages (vehicle intake) need of the
vehicle catalogue and the damage diagram."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.template.loader import render_to_string

from autoservice.models import Shop
from leads.models import Lead

from . import engine, techdata
from .forms import parse_damages, picker_rows
from .models import (
    Estimate,
    EstimateVersion,
    Generation,
    ReferencePrice,
    ShopPartPrice,
    VehicleMake,
    VehicleModel,
    Wmi,
)
from .parts import (
    DIAGRAM_FOR_BODY,
    PARTS,
    BodyType,
    DamageKind,
    DamageSize,
    Operation,
    parts_for_body,
)
from .templatetags.calc import severity_colour

# How many models the picker offers in one tap: the ones that most often come in.
POPULAR_MODELS = 12


def models_by_popularity(queryset: QuerySet[VehicleModel]) -> QuerySet[VehicleModel]:
    """Most often repaired first (the catalogue's popularity rank), unranked ones after by name."""
    return queryset.order_by(F("popularity_rank").asc(nulls_last=True), "name")


def popular_models(limit: int = POPULAR_MODELS) -> QuerySet[VehicleModel]:
    """The models that most often come in for repair, in that order, each with every
    generation still on the road (newest first), for the picker's one-tap list."""
    return (
        VehicleModel.objects.filter(popularity_rank__isnull=False)
        .select_related("make")
        .prefetch_related(
            Prefetch("generations", queryset=Generation.objects.order_by("-year_from"))
        )
        .order_by("popularity_rank")[:limit]
    )


def oem_number_for(generation: Generation, part: str) -> str:
    """The manufacturer's number of an exterior part of this car in the platform's current
    catalogue (its generation's own where known), or "" when no source gave one."""
    try:
        version = techdata.current_version()
    except techdata.NoTechData:
        return ""
    ref = techdata.reference_prices(generation.model, generation, version).get(part)
    return ref.oem_number if ref else ""


def makes_with_models(q: str = "") -> QuerySet[VehicleMake]:
    models = models_by_popularity(VehicleModel.objects.all())
    makes = VehicleMake.objects.prefetch_related(Prefetch("models", queryset=models))
    if q:
        makes = makes.filter(Q(name__icontains=q) | Q(models__name__icontains=q)).distinct()
    return makes


def generations_of(model: VehicleModel) -> QuerySet[Generation]:
    return model.generations.order_by("-year_from")


def estimate_of_lead(lead: Lead) -> Estimate | None:
    """The calculator's estimate a lead was sent with, if it was."""
    return Estimate.objects.filter(shop=lead.shop_id, lead=lead).first()


def estimates_for_shop(shop: Shop) -> QuerySet[Estimate]:
    return (
        Estimate.objects.filter(shop=shop)
        .select_related("generation__model__make", "lead")
        .annotate(version_count=Count("versions"))
        .prefetch_related(Prefetch("versions", queryset=EstimateVersion.objects.order_by("number")))
        # Newest first, said here: Meta.ordering is not applied to a query with GROUP BY.
        .order_by("-created_at", "-pk")
    )


def estimate_for_shop(shop: Shop, estimate_id: int) -> QuerySet[Estimate]:
    return Estimate.objects.filter(shop=shop, pk=estimate_id).select_related(
        "generation__model__make", "lead"
    )


def estimate_version_for_shop(shop: Shop, estimate_id: int, number: int) -> EstimateVersion | None:
    """One version of the shop's estimate, with what its export reads (the car, the shop, the
    request, the author); None when the shop has no such estimate or version."""
    return (
        EstimateVersion.objects.filter(estimate__shop=shop, estimate_id=estimate_id, number=number)
        .select_related(
            "estimate__generation__model__make", "estimate__shop", "estimate__lead", "author__user"
        )
        .first()
    )


def estimate_latest_for_lead(lead: Lead) -> EstimateVersion | None:
    """The newest version of the estimate attached to a lead, or None when it has none: what
    other apps (the parts offer) build on."""
    return (
        EstimateVersion.objects.filter(estimate__lead=lead, estimate__shop=lead.shop_id)
        .order_by("-number")
        .first()
    )


def range_calibration(shop: Shop, limit: int = 500) -> dict:
    """How the driver-facing hidden-damage ranges compare with what inspections found:
    for each estimate revised after inspection, the change of the total against the range
    promised in the driver's version."""
    below = inside = above = 0
    changes: list[Decimal] = []
    estimates = (
        Estimate.objects.filter(shop=shop)
        .annotate(n=Count("versions"))
        .filter(n__gte=2)
        .prefetch_related(Prefetch("versions", queryset=EstimateVersion.objects.order_by("number")))
        .order_by("-created_at")[:limit]
    )
    for estimate in estimates:
        versions = list(estimate.versions.all())
        first, last = versions[0], versions[-1]
        if not first.total_rub:
            continue
        change = (last.total_rub - first.total_rub) * 100 / first.total_rub
        low = Decimal(first.result.get("hidden_low_pct", "0"))
        high = Decimal(first.result.get("hidden_high_pct", "0"))
        changes.append(change)
        if change < low:
            below += 1
        elif change > high:
            above += 1
        else:
            inside += 1
    count = below + inside + above
    return {
        "count": count,
        "inside": inside,
        "below": below,
        "above": above,
        "inside_pct": round(inside * 100 / count) if count else None,
        "median_change_pct": round(statistics.median(changes), 1) if changes else None,
    }


# --- the vehicle catalogue and the damage diagram, for other apps' pages -----------------


def make_for_vin(vin: str) -> Wmi | None:
    """The manufacturer code entry (WMI: a VIN's first three characters) that names a
    make, with the make loaded; a confirmed entry before an unconfirmed one. None when the
    VIN is shorter than three characters or its code names no make."""
    code = vin.strip().upper()[:3]
    if len(code) < 3:
        return None
    return (
        Wmi.objects.filter(code=code, make__isnull=False)
        .select_related("make")
        .order_by("-confirmed", "pk")
        .first()
    )


def body_type_choices() -> list[tuple[str, str]]:
    """(value, label) pairs of the body types the diagram and the parts list know."""
    return BodyType.choices


def diagram_for_body(body_type: str) -> str:
    """The drawing of a body type (``smartcalc/diagrams/<name>.svg``); a sedan's when the
    body type is unknown."""
    return DIAGRAM_FOR_BODY.get(body_type, DIAGRAM_FOR_BODY[BodyType.SEDAN])


def damage_picker(body_type: str, damages: Iterable[Mapping[str, str]]) -> dict:
    """The context of ``smartcalc/_damage_picker.html`` for saved damages ({part, kind,
    size}) on a body: its drawing, a row per part of that body, the kinds and the sizes.
    Damages of parts the catalogue does not know (any more) are left out."""
    damages = list(damages)
    marks = damage_marks(body_type, damages)
    chosen = [
        engine.Damage(d["part"], d.get("kind", ""), d.get("size", ""))
        for d in damages
        if d.get("part") in marks
    ]
    return {
        "diagram": diagram_for_body(body_type),
        "rows": picker_rows(body_type, chosen),
        "kinds": DamageKind.choices,
        "sizes": DamageSize.choices,
    }


def damages_from_picker(
    data: Mapping[str, str], body_type: str
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The damages the picker posted ({part, kind, size}, the parts of ``body_type`` only),
    and a translated error per part that is half filled or tampered with."""
    damages, errors = parse_damages(data, body_type)
    return [{"part": d.part, "kind": d.kind, "size": d.size} for d in damages], errors


def damage_marks(body_type: str, damages: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The parts of ``body_type`` a record or an estimate marks as damaged, each with the
    picker's colour for its severity (a broken or missing part needs no size). The one
    answer to "which parts are marked" for the web page's picker and the printed diagram."""
    codes = {part.code for part in parts_for_body(body_type)}
    return {
        damage["part"]: severity_colour(damage)
        for damage in damages
        if damage.get("part") in codes and damage.get("kind")
    }


def damage_descriptions(body_type: str, damages: Iterable[Mapping[str, str]]) -> list[dict]:
    """The marked damages (``damage_marks``) in words, in the order given: part code, part
    name, kind and size labels (no size for a broken or missing part) and the colour."""
    damages = list(damages)
    marks = damage_marks(body_type, damages)
    lines = []
    for damage in damages:
        code = damage.get("part")
        if code not in marks:
            continue
        kind, size = damage.get("kind", ""), damage.get("size", "")
        lines.append(
            {
                "part": code,
                "name": PARTS[code].name,
                "kind": DamageKind(kind).label if kind in DamageKind.values else "",
                "size": DamageSize(size).label if size in DamageSize.values else "",
                "colour": marks[code],
            }
        )
    return lines


_OPENING_TAG = r'<(?P<tag>[a-z]+) id="part-{code}"(?P<attrs>[^>]*?)(?P<end>/?>)'
_FILL = re.compile(r'\sfill="[^"]*"')


def damage_diagram_svg(body_type: str, damages: Iterable[Mapping[str, str]]) -> str:
    """The body's drawing with each marked part (``damage_marks``) filled in its colour
    and tagged ``data-damaged``, as SVG attributes (a PDF renderer ignores page CSS inside
    SVG). Any element kind (group, path, rect, polygon) and its own fill are handled."""
    svg = render_to_string(f"smartcalc/diagrams/{diagram_for_body(body_type)}.svg")
    for code, colour in damage_marks(body_type, damages).items():
        pattern = re.compile(_OPENING_TAG.format(code=re.escape(code)))
        svg = pattern.sub(
            lambda m, colour=colour, code=code: (
                f'<{m["tag"]} id="part-{code}" fill="{colour}" data-damaged="1"'
                f"{_FILL.sub('', m['attrs'])}{m['end']}"
            ),
            svg,
            count=1,
        )
    return svg


# --- what the parts offer (optima) needs of an estimate -----------------------------------


def operation_label(operation: str) -> str:
    """How an estimate line's operation reads for people («замена», «ремонт и окраска»);
    the code itself when the catalogue does not know it (any more)."""
    try:
        return str(Operation(operation).label)
    except ValueError:
        return operation


def reference_numbers(generation: Generation, parts: set[str]) -> dict[str, str]:
    """OEM numbers of the platform's reference prices for a car's parts: the current data
    first, then older loads; a row for the car's generation beats one for the whole model
    (when the catalogue has a per-generation column)."""
    rows = ReferencePrice.objects.filter(
        vehicle_model_id=generation.model_id, part__in=parts
    ).exclude(oem_number="")
    by_generation = any(f.name == "generation" for f in ReferencePrice._meta.get_fields())
    if by_generation:
        rows = rows.filter(Q(generation__isnull=True) | Q(generation_id=generation.pk))
    ranked: dict[str, tuple[tuple, str]] = {}
    for row in rows.select_related("version"):
        specific = by_generation and getattr(row, "generation_id", None) == generation.pk
        rank = (specific, row.version.is_current, row.version.loaded_at)
        if row.part not in ranked or rank > ranked[row.part][0]:
            ranked[row.part] = (rank, row.oem_number)
    return {part: number for part, (_rank, number) in ranked.items()}


def estimate_replaced_parts(estimate: Estimate) -> list[tuple[str, str]]:
    """(part name, OEM number or "") of every part the estimate's latest version replaces,
    in the estimate's order, each number once: the shop's own price list first (the number
    it priced), then the platform's catalogue for the car. A part no source numbers (or an
    item the advisor added by hand) comes with "", so that the advisor is told to type it."""
    version = estimate.versions.order_by("-number").first()
    if version is None:
        return []
    lines = [
        line for line in version.result.get("lines", []) if Decimal(line.get("part_rub") or "0") > 0
    ]
    generation = Generation.objects.get(pk=estimate.generation_id)
    reference = reference_numbers(
        generation, {line["part"] for line in lines if line.get("part") in PARTS}
    )
    found: list[tuple[str, str]] = []
    for line in lines:
        code = line.get("part") or ""
        number = (line.get("oem_number") or "").strip() or reference.get(code, "")
        if number and number in (n for _name, n in found):
            continue
        name = line.get("part_name") or (str(PARTS[code].name) if code in PARTS else "")
        if name or number:
            found.append((name, number))
    return found


def estimate_part_numbers(estimate: Estimate) -> list[tuple[str, str]]:
    """(part name, OEM number) of every part the estimate's latest version replaces, in the
    estimate's order, each number once: the shop's own price list first (the number it
    priced), then the platform's catalogue for the car. Parts with no known number are left
    out."""
    return [(name, number) for name, number in estimate_replaced_parts(estimate) if number]


def reference_numbers_for_car(make: str, model: str, year: int | None) -> dict[str, str]:
    """Part code → OEM number of the platform's catalogue for a car a lead names in words
    (make, model as typed, e.g. «Polo» or «Solaris II (HCR)», year): the model whose name
    starts the text, the generation of that year (or named in the text); empty when the car
    is not in the catalogue or no source numbers its parts. Never another model's number."""
    text = (model or "").strip().casefold()
    candidates = [
        m
        for m in VehicleModel.objects.filter(make__name__iexact=(make or "").strip())
        if text == m.name.casefold() or text.startswith(m.name.casefold() + " ")
    ]
    if not candidates:
        return {}
    vehicle_model = max(candidates, key=lambda m: len(m.name))
    generations = list(vehicle_model.generations.all())
    rest = text[len(vehicle_model.name) :].strip()
    named = [g for g in generations if rest and rest == g.name.casefold()]
    by_year = [
        g
        for g in generations
        if year and g.year_from <= year and (g.year_to is None or year <= g.year_to)
    ]
    chosen = named or by_year
    if len(chosen) != 1:
        # Two generations of that year (a model change) or none: only numbers for the
        # whole model are safe.
        rows = ReferencePrice.objects.filter(
            vehicle_model=vehicle_model, generation__isnull=True
        ).exclude(oem_number="")
        found = {row.part: row.oem_number for row in rows.filter(version__is_current=True)}
        return {code: found[code] for code in PARTS if code in found}
    found = reference_numbers(chosen[0], set(PARTS))
    return {code: found[code] for code in PARTS if code in found}


def catalogue_oem_numbers(shop: Shop) -> list[str]:
    """Every OEM number a driver's estimate at the shop can ask a price for: the current
    reference prices' numbers and the shop's own price list's, each once, in a stable order
    (for the daily refresh of the suppliers' prices)."""
    numbers = set(
        ReferencePrice.objects.filter(version__is_current=True)
        .exclude(oem_number="")
        .values_list("oem_number", flat=True)
    )
    numbers |= set(
        ShopPartPrice.objects.filter(shop=shop)
        .exclude(oem_number="")
        .values_list("oem_number", flat=True)
    )
    return sorted(numbers)
