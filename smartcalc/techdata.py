"""Builds the engine's inputs from the database: technology data for a vehicle model,
the shop's prices with the platform's reference prices as a flagged fallback, and rates.

Queries do not depend on the number of damaged parts: the technology data of a version is
read once per process and cached (a version never changes once loaded)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from django.db.models import F, Q

from autoservice.models import Shop

from . import engine, part_prices
from .models import (
    ClassFactor,
    DataVersion,
    Dependency,
    Generation,
    HiddenDamageRange,
    LabourNorm,
    ReferencePrice,
    ShopPartPrice,
    ShopRates,
    TaxRegime,
    VehicleModel,
)


class NoTechData(LookupError):
    pass


def current_version() -> DataVersion:
    version = DataVersion.objects.filter(is_current=True).first()
    if version is None:
        raise NoTechData("no calculator data: run `manage.py load_calc_data`")
    return version


def _norm(row: LabourNorm) -> engine.Norm:
    return engine.Norm(
        remove_refit_h=row.remove_refit_h,
        replace_h=row.replace_h,
        repair_h=(row.repair_r1_h, row.repair_r2_h, row.repair_r3_h),
        paint_new_h=row.paint_new_h,
        paint_repair_small_h=row.paint_repair_small_h,
        paint_repair_large_h=row.paint_repair_large_h,
        polish_h=row.polish_h,
        material_new=row.paint_material_new,
        material_repair_small=row.paint_material_repair_small,
        material_repair_large=row.paint_material_repair_large,
        spot_h=row.spot_repair_h,
        material_spot=row.paint_material_spot,
    )


@lru_cache(maxsize=256)
def _tech(version_id: int, label: str, model_id: int, vehicle_class: str) -> engine.TechData:
    factor = ClassFactor.objects.filter(version_id=version_id, vehicle_class=vehicle_class).first()
    if factor is None:
        raise NoTechData(f"no class factor for {vehicle_class}")
    norms: dict[str, engine.Norm] = {}
    rows = LabourNorm.objects.filter(version_id=version_id, vehicle_model_id__in=[model_id])
    base = LabourNorm.objects.filter(version_id=version_id, vehicle_model__isnull=True)
    for row in base:
        norms[row.part] = _norm(row)
    for row in rows:  # model overrides win over the base class norms
        norms[row.part] = _norm(row)
    deps: dict[str, list[engine.Dependency]] = {}
    for dep in Dependency.objects.filter(version_id=version_id).order_by("id"):
        deps.setdefault(dep.part, []).append(
            engine.Dependency(item=dep.item, hours=dep.hours, operation=dep.operation)
        )
    hidden = {
        (h.part, h.severity): (h.low_pct, h.high_pct)
        for h in HiddenDamageRange.objects.filter(version_id=version_id)
    }
    return engine.TechData(
        version=label,
        body_factor=factor.body_factor,
        paint_factor=factor.paint_factor,
        norms=norms,
        dependencies={k: tuple(v) for k, v in deps.items()},
        hidden=hidden,
    )


def tech_for(model: VehicleModel, version: DataVersion | None = None) -> engine.TechData:
    version = version or current_version()
    return _tech(version.pk, version.label, model.pk, model.vehicle_class)


def reference_prices(
    model: VehicleModel, generation: Generation | None, version: DataVersion
) -> dict[str, ReferencePrice]:
    """The platform's row per part for a car: the one of its generation where the catalogue
    has one (its own OEM number), else the model's row for all generations."""
    scope = Q(generation__isnull=True)
    if generation is not None:
        scope |= Q(generation=generation)
    rows = ReferencePrice.objects.filter(scope, version=version, vehicle_model=model).order_by(
        F("generation").asc(nulls_first=True)
    )
    return {ref.part: ref for ref in rows}  # a generation's row comes last and wins


def prices_for(
    shop: Shop,
    model: VehicleModel,
    version: DataVersion | None = None,
    generation: Generation | None = None,
) -> dict[str, engine.PartPrice]:
    """The price per part: the shop's suppliers' price where a provider has one (see
    `part_prices`), else the shop's own list, else the platform reference price flagged
    approximate. Each says its source."""
    version = version or current_version()
    prices = {
        part: engine.PartPrice(
            original_rub=ref.original_rub,
            alternative_rub=ref.alternative_rub,
            oem_number=ref.oem_number,
            approximate=True,
            source=engine.SOURCE_REFERENCE,
        )
        for part, ref in reference_prices(model, generation, version).items()
    }
    for own in ShopPartPrice.objects.filter(shop=shop, vehicle_model=model):
        prices[own.part] = engine.PartPrice(
            original_rub=own.original_rub,
            alternative_rub=own.alternative_rub,
            # The shop's row without a number keeps the catalogue's, so its suppliers can
            # still be asked for the part.
            oem_number=own.oem_number or prices.get(own.part, _NO_PRICE).oem_number,
            approximate=False,
            source=engine.SOURCE_PRICE_LIST,
        )
    queries = [
        part_prices.PartQuery(part=part, oem_number=price.oem_number)
        for part, price in prices.items()
        if price.oem_number
    ]
    for part, live in part_prices.live_prices(shop, model, generation, queries).items():
        prices[part] = engine.PartPrice(
            original_rub=live.original_rub,
            alternative_rub=live.alternative_rub,
            oem_number=prices[part].oem_number,
            approximate=False,
            source=engine.SOURCE_SUPPLIER,
            as_of=live.as_of.astimezone(shop.tzinfo).date().isoformat(),
        )
    return prices


_NO_PRICE = engine.PartPrice(original_rub=None)


def shop_rates(shop: Shop) -> ShopRates:
    rates = getattr(shop, "_calc_rates", None)
    if rates is None:
        rates, _ = ShopRates.objects.get_or_create(shop=shop)
        shop._calc_rates = rates
    return rates


def tax_for(rates: ShopRates) -> engine.Tax:
    """The engine's view of the shop's tax settings; no regime chosen → prices as they are."""
    percent = TaxRegime(rates.tax_regime).vat_percent if rates.tax_regime else None
    return engine.Tax(
        regime=rates.tax_regime,
        vat_percent=Decimal(percent) if percent else None,
        rates_include_vat=rates.rates_include_vat,
        price_list_includes_vat=rates.price_list_includes_vat,
        rounding=rates.vat_rounding,
        supplier_prices_include_vat=rates.supplier_prices_include_vat,
    )


def rates_for(shop: Shop) -> engine.Rates:
    rates = shop_rates(shop)
    return engine.Rates(
        body_rate_rub=rates.body_rate_rub,
        paint_rate_rub=rates.paint_rate_rub,
        material_unit_rub=rates.material_unit_rub,
        tax=tax_for(rates),
        replace_threshold=Decimal(rates.replace_threshold_pct) / 100,
        blend_policy=rates.blend_policy,
    )
