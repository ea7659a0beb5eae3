"""Estimates: compute for a shop, save what the driver saw, revise after inspection."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from autoservice import events
from autoservice.models import Membership, Shop
from autoservice.money import quantize_rub
from leads.models import Lead

from . import engine, export, selectors, techdata
from .models import Estimate, EstimateVersion, Generation
from .parts import PARTS, PaintType, parts_for_body

ZERO_RUB = Decimal("0.00")
EXPORT_XLSX_CONTENT_TYPE = export.XLSX_CONTENT_TYPE


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def estimate_as_json(estimate: engine.Estimate) -> dict:
    data = _plain(dataclasses.asdict(estimate))
    data["hidden_low_pct"] = str(estimate.hidden_low_pct)
    data["hidden_high_pct"] = str(estimate.hidden_high_pct)
    return data


def body_part_codes(body_type: str) -> frozenset[str]:
    return frozenset(part.code for part in parts_for_body(body_type))


def estimate_compute(
    *,
    shop: Shop,
    generation: Generation,
    body_type: str,
    damages: Sequence[engine.Damage],
    extras: Sequence[engine.ExtraItem] = (),
    paint_type: str = PaintType.UNKNOWN,
) -> engine.Estimate:
    """Raises engine.EstimateError (Russian message) or techdata.NoTechData."""
    if body_type not in generation.body_types:
        raise engine.EstimateError(_("У этого поколения нет такого кузова: выберите кузов заново."))
    model = generation.model
    return engine.compute_estimate(
        damages=damages,
        tech=techdata.tech_for(model),
        prices=techdata.prices_for(shop, model, generation=generation),
        rates=techdata.rates_for(shop),
        body_parts=body_part_codes(body_type),
        extras=extras,
        paint_type=paint_type,
    )


def _inputs(
    generation: Generation,
    body_type: str,
    damages: Sequence[engine.Damage],
    extras: Sequence[engine.ExtraItem],
    shop: Shop,
    paint_type: str,
) -> dict:
    rates = techdata.shop_rates(shop)
    return {
        "generation_id": generation.pk,
        "vehicle": f"{generation.model} {generation.name} ({generation.years})",
        "body_type": body_type,
        "paint_type": paint_type,
        "damages": [_plain(dataclasses.asdict(d)) for d in damages],
        "extras": [_plain(dataclasses.asdict(e)) for e in extras],
        "rates": {
            "body_rate_rub": str(rates.body_rate_rub),
            "paint_rate_rub": str(rates.paint_rate_rub),
            "material_unit_rub": str(rates.material_unit_rub),
            "tax_regime": rates.tax_regime,
            "rates_include_vat": rates.rates_include_vat,
            "price_list_includes_vat": rates.price_list_includes_vat,
            "supplier_prices_include_vat": rates.supplier_prices_include_vat,
            "vat_rounding": rates.vat_rounding,
            "blend_policy": rates.blend_policy,
            "replace_threshold_pct": rates.replace_threshold_pct,
            "price_valid_days": rates.price_valid_days,
        },
    }


@transaction.atomic
def estimate_save(
    *,
    shop: Shop,
    generation: Generation,
    body_type: str,
    damages: Sequence[engine.Damage],
    result: engine.Estimate,
    lead: Lead | None = None,
) -> Estimate:
    """Keep the driver's estimate exactly as shown: inputs, lines, totals, data version."""
    estimate = Estimate.objects.create(
        shop=shop, generation=generation, body_type=body_type, lead=lead
    )
    EstimateVersion.objects.create(
        estimate=estimate,
        number=1,
        inputs=_inputs(generation, body_type, damages, (), shop, result.paint_type),
        result=estimate_as_json(result),
        data_version=result.data_version,
        total_rub=result.total_rub,
    )
    if lead is not None:
        _estimate_created(estimate)
    return estimate


def _estimate_event(estimate: Estimate, version: EstimateVersion, kind: str) -> None:
    events.event_emit(
        shop=estimate.shop,
        type=kind,
        subject=f"lead:{estimate.lead_id}",
        lead_id=estimate.lead_id,
        data={
            "estimate_id": estimate.pk,
            "version": version.number,
            "lead_id": estimate.lead_id,
            "total_rub": str(version.total_rub),
            "data_version": version.data_version,
        },
    )


def _estimate_created(estimate: Estimate) -> None:
    """The shop hears of an estimate once it belongs to a request (a driver's estimate
    without a request is nobody's yet)."""
    first = estimate.versions.order_by("number").first()
    if first is not None:
        _estimate_event(estimate, first, events.ESTIMATE_CREATED)


@transaction.atomic
def estimate_attach_lead(*, estimate: Estimate, lead: Lead) -> Estimate:
    had_lead = estimate.lead_id is not None
    estimate.lead = lead
    estimate.save(update_fields=["lead"])
    if not had_lead:
        _estimate_created(estimate)
    return estimate


@transaction.atomic
def estimate_revise(
    *,
    estimate: Estimate,
    by: Membership,
    damages: Sequence[engine.Damage],
    extras: Sequence[engine.ExtraItem],
    note: str,
    paint_type: str = PaintType.UNKNOWN,
) -> EstimateVersion:
    """A new version after inspection; earlier versions (the driver's first) stay as they were."""
    Estimate.objects.select_for_update().filter(pk=estimate.pk).first()
    result = estimate_compute(
        shop=estimate.shop,
        generation=estimate.generation,
        body_type=estimate.body_type,
        damages=damages,
        extras=extras,
        paint_type=paint_type,
    )
    number = (estimate.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = EstimateVersion.objects.create(
        estimate=estimate,
        number=number,
        author=by,
        note=note.strip()[:300],
        inputs=_inputs(
            estimate.generation, estimate.body_type, damages, extras, estimate.shop, paint_type
        ),
        result=estimate_as_json(result),
        data_version=result.data_version,
        total_rub=result.total_rub,
    )
    if estimate.lead_id is not None:
        _estimate_event(estimate, version, events.ESTIMATE_REVISED)
    return version


def damages_from_inputs(inputs: dict) -> list[engine.Damage]:
    return [
        engine.Damage(
            part=d["part"], kind=d["kind"], size=d["size"], operation=d.get("operation", "")
        )
        for d in inputs.get("damages", [])
        if d.get("part") in PARTS
    ]


def extras_from_inputs(inputs: dict) -> list[engine.ExtraItem]:
    return [
        engine.ExtraItem(
            name=e["name"],
            labour_hours=Decimal(e["labour_hours"]),
            paint_hours=Decimal(e["paint_hours"]),
            part_rub=Decimal(e["part_rub"]),
        )
        for e in inputs.get("extras", [])
    ]


@dataclass(frozen=True)
class CustomerPrice:
    total_rub: Decimal  # what the customer pays
    vat_in_total_rub: Decimal  # the VAT inside it («в т.ч. НДС»), zero without VAT
    vat_on_top_rub: Decimal  # the part of it added on top of the source price


PRICE_SOURCES = ("rates", "price_list", "supplier", "reference", "final")


def customer_price(*, shop: Shop, amount_rub: Decimal, source: str) -> CustomerPrice:
    """One amount as the customer pays it under the shop's tax regime: VAT added on top when
    the source's prices exclude it (the shop's settings), only stated when they include it.
    `source`: "rates" (labour, paint, materials), "price_list" (the shop's own part prices),
    "supplier" (supplier offers), "reference" (the platform's prices: retail, VAT included),
    "final" (a price typed as what the customer pays, VAT included).
    For the offer's totals, so that the offer and the estimate tax alike (rounded per amount)."""
    return customer_pricer(shop)(amount_rub, source)


def customer_pricer(shop: Shop) -> Callable[[Decimal, str], CustomerPrice]:
    """`customer_price` for many amounts of one shop: its settings are read once."""
    rates = techdata.shop_rates(shop)
    tax = techdata.tax_for(rates)
    includes = {
        "rates": rates.rates_include_vat,
        "price_list": rates.price_list_includes_vat,
        "supplier": rates.supplier_prices_include_vat,
        "reference": True,
        "final": True,
    }

    def price(amount_rub: Decimal, source: str) -> CustomerPrice:
        if source not in includes:
            raise ValueError(f"unknown price source {source!r}")
        amount = quantize_rub(amount_rub)
        if not tax.charges_vat:
            return CustomerPrice(amount, ZERO_RUB, ZERO_RUB)
        rate = tax.vat_percent
        if includes[source]:
            return CustomerPrice(amount, quantize_rub(amount * rate / (100 + rate)), ZERO_RUB)
        on_top = quantize_rub(amount * rate / 100)
        return CustomerPrice(amount + on_top, on_top, on_top)

    return price


def estimate_export(version: EstimateVersion) -> dict:
    """The version for estimating systems and insurers: the line structure of
    smartcalc/EXPORT.md, with the catalogue's OEM numbers where the line has none."""
    wanted = {
        line.get("part")
        for line in (version.result or {}).get("lines", [])
        if line.get("part") in PARTS
        and not (line.get("oem_number") or "").strip()
        and Decimal(line.get("part_rub") or "0") > 0
    }
    numbers = selectors.reference_numbers(version.estimate.generation, wanted) if wanted else {}
    return export.estimate_export(version, oem_numbers=numbers)


def estimate_export_xlsx(version: EstimateVersion) -> bytes:
    return export.estimate_export_xlsx(estimate_export(version))
