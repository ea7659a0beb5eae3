"""The estimate engine: a pure, deterministic function from (vehicle class, damages,
repair-technology data, shop prices and rates) to itemised lines and totals.

No database and no request in here: callers load the data (`smartcalc.techdata`) and
pass plain values, so an estimate can be recomputed, tested and explained. Money is
Decimal, rounded to kopecks half-up in one place per amount (`autoservice.money`).
Every decision is explained in the line's notes, for the driver, in the language active
when the estimate is computed (the notes are stored with it, as the driver saw them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from autoservice.money import quantize_rub

from .parts import NEIGHBOURS, PARTS, DamageKind, DamageSize, Material, Operation, PaintType

HOUR = Decimal("0.01")
ZERO = Decimal("0")
ZERO_RUB = Decimal("0.00")
BLEND_SHARE = Decimal("0.5")
ALUMINIUM_REPAIR_FACTOR = Decimal("1.5")
# Three-layer pearl: +20–30 % painter's time (repair-data.md §1, надбавки) and +30–50 % paint
# materials (§2); the middles, оценка.
PEARL_PAINT_FACTOR = Decimal("1.25")
PEARL_MATERIAL_FACTOR = Decimal("1.4")
# Blend policies of a shop (smartcalc.models.BlendPolicy): plain strings here, no models.
BLEND_ALWAYS, BLEND_METALLIC, BLEND_NEVER = "always", "metallic", "never"
# How the totals speak of VAT (the template picks the words from this).
VAT_NONE, VAT_UNSET, VAT_INCLUDED, VAT_ON_TOP, VAT_MIXED = (
    "none",
    "unset",
    "included",
    "on_top",
    "mixed",
)
ROUND_PER_LINE, ROUND_ON_TOTAL = "line", "total"


class EstimateError(ValueError):
    """Input the engine cannot price; `message` is translated and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Norm:
    """Labour norms of one part for the base class, in hours; None where not applicable."""

    remove_refit_h: Decimal | None = None
    replace_h: Decimal | None = None
    repair_h: tuple[Decimal | None, Decimal | None, Decimal | None] = (None, None, None)
    paint_new_h: Decimal | None = None
    paint_repair_small_h: Decimal | None = None
    paint_repair_large_h: Decimal | None = None
    polish_h: Decimal | None = None
    material_new: Decimal | None = None
    material_repair_small: Decimal | None = None
    material_repair_large: Decimal | None = None
    spot_h: Decimal | None = None
    material_spot: Decimal | None = None


@dataclass(frozen=True)
class Dependency:
    item: str
    hours: Decimal
    operation: str  # "repair", "replace" or "paint"


@dataclass(frozen=True)
class TechData:
    version: str
    body_factor: Decimal
    paint_factor: Decimal
    norms: Mapping[str, Norm]
    dependencies: Mapping[str, Sequence[Dependency]] = field(default_factory=dict)
    hidden: Mapping[tuple[str, str], tuple[Decimal, Decimal]] = field(default_factory=dict)


# Where a part's price comes from; the driver is told which for each part.
SOURCE_SUPPLIER = "supplier"  # the shop's suppliers' answer (at most a day old), with markup
SOURCE_PRICE_LIST = "price_list"  # the shop's own price list
SOURCE_REFERENCE = "reference"  # the platform's reference price (retail, VAT included)


@dataclass(frozen=True)
class PartPrice:
    original_rub: Decimal | None
    alternative_rub: Decimal | None = None
    oem_number: str = ""
    approximate: bool = False  # a platform reference price, not the shop's own
    source: str = ""  # SOURCE_*; "" = the shop's list, or the reference when approximate
    as_of: str = ""  # ISO date of a supplier's price, in the shop's time zone

    @property
    def price_source(self) -> str:
        if self.source:
            return self.source
        return SOURCE_REFERENCE if self.approximate else SOURCE_PRICE_LIST


@dataclass(frozen=True)
class Tax:
    """The shop's VAT as it reaches the customer's price.

    `vat_percent` None: no VAT (УСН without VAT) or no regime chosen yet (`regime` empty):
    prices are shown as they are. Otherwise each price source either already includes VAT
    (then VAT is only stated, «в т.ч.») or excludes it (then VAT is added on top). The
    platform's reference prices are retail prices with VAT, so they always include it:
    adding VAT to them would tax those parts twice."""

    regime: str = ""
    vat_percent: Decimal | None = None
    rates_include_vat: bool = True
    price_list_includes_vat: bool = True
    rounding: str = ROUND_PER_LINE
    supplier_prices_include_vat: bool = True

    def part_includes_vat(self, source: str) -> bool:
        """Whether a part price from `source` already includes VAT: the platform's reference
        prices always do; the shop's list and its suppliers as the shop's settings say."""
        if source == SOURCE_REFERENCE:
            return True
        if source == SOURCE_SUPPLIER:
            return self.supplier_prices_include_vat
        return self.price_list_includes_vat

    @property
    def charges_vat(self) -> bool:
        return bool(self.vat_percent)


@dataclass(frozen=True)
class Rates:
    body_rate_rub: Decimal
    paint_rate_rub: Decimal
    material_unit_rub: Decimal
    tax: Tax = Tax()
    replace_threshold: Decimal = Decimal("0.75")
    blend_policy: str = BLEND_METALLIC


@dataclass(frozen=True)
class Damage:
    part: str
    kind: str
    size: str  # "" for a broken or missing part: it is replaced whatever its size
    operation: str = ""  # set by an advisor after inspection; empty = the rules decide


@dataclass(frozen=True)
class ExtraItem:
    """A line an advisor adds after inspection (hidden damage, a bracket, a sensor)."""

    name: str
    labour_hours: Decimal = ZERO
    paint_hours: Decimal = ZERO
    part_rub: Decimal = ZERO


@dataclass(frozen=True)
class Line:
    part: str
    part_name: str
    kind: str
    size: str
    operation: str
    labour_hours: Decimal
    labour_rub: Decimal
    paint_hours: Decimal
    paint_rub: Decimal
    material_units: Decimal
    material_rub: Decimal
    part_rub: Decimal
    alternative_part_rub: Decimal | None
    price_approximate: bool
    oem_number: str
    subtotal_rub: Decimal
    alternative_subtotal_rub: Decimal
    extras: tuple[tuple[str, Decimal], ...]
    notes: tuple[str, ...]
    hidden_low_pct: Decimal
    hidden_high_pct: Decimal
    repair_category: str = ""  # "1"–"3": Р1–Р3 of the norms, for staff, never for drivers
    vat_included_rub: Decimal = ZERO_RUB  # VAT inside the line's prices (rounded per line)
    vat_on_top_rub: Decimal = ZERO_RUB  # VAT added to the line's prices (rounded per line)
    total_rub: Decimal = ZERO_RUB  # subtotal + VAT on top
    # The share of the subtotal whose source prices already include VAT (the rest excludes
    # it); the alternative-parts variant likewise.
    vat_base_included_rub: Decimal = ZERO_RUB
    alternative_vat_base_included_rub: Decimal = ZERO_RUB
    price_source: str = ""  # SOURCE_* of the part price; "" for a line without a part
    price_as_of: str = ""  # ISO date of a supplier's price


@dataclass(frozen=True)
class Estimate:
    lines: tuple[Line, ...]
    labour_rub: Decimal
    paint_rub: Decimal
    materials_rub: Decimal
    parts_rub: Decimal
    subtotal_rub: Decimal  # the lines as priced, before any VAT on top
    tax_regime: str  # "" = the shop has not chosen one
    vat_percent: Decimal | None
    vat_display: str  # VAT_NONE, VAT_UNSET, VAT_INCLUDED, VAT_ON_TOP or VAT_MIXED
    vat_rounding: str
    vat_on_top_rub: Decimal  # added to the subtotal
    vat_in_total_rub: Decimal  # all VAT the total contains («в т.ч. НДС»)
    total_rub: Decimal
    alternative_subtotal_rub: Decimal
    alternative_vat_on_top_rub: Decimal
    alternative_vat_in_total_rub: Decimal
    alternative_total_rub: Decimal
    hidden_low_rub: Decimal
    hidden_high_rub: Decimal
    data_version: str
    paint_type: str = PaintType.UNKNOWN

    @property
    def hidden_low_pct(self) -> Decimal:
        return _pct(self.hidden_low_rub, self.subtotal_rub)

    @property
    def hidden_high_pct(self) -> Decimal:
        return _pct(self.hidden_high_rub, self.subtotal_rub)


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return ZERO
    return (part * 100 / whole).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def _hours(value: Decimal | None, factor: Decimal) -> Decimal:
    return ((value or ZERO) * factor).quantize(HOUR, rounding=ROUND_HALF_UP)


def severity(kind: str, size: str) -> str:
    if kind == DamageKind.BROKEN or size == DamageSize.OVER_4:
        return "heavy"
    if kind == DamageKind.SCRATCH or size == DamageSize.UP_TO_1:
        return "light"
    return "medium"


@dataclass
class _Plan:
    """One way to fix a part: hours of each kind, whether a new part is bought, why."""

    operation: str
    labour_h: Decimal = ZERO
    paint_h: Decimal = ZERO
    material_units: Decimal = ZERO
    buys_part: bool = False
    dependency_ops: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    category: str = ""


def _repair_index(size: str) -> int:
    return {DamageSize.UP_TO_1: 0, DamageSize.FROM_1_TO_2: 1, DamageSize.FROM_2_TO_4: 2}.get(
        size, 2
    )


def _paint_repair(norm: Norm, size: str) -> tuple[Decimal, Decimal]:
    """Paint hours and material units for a repaired part (≤50 % or >50 % of it)."""
    small_h, large_h = norm.paint_repair_small_h or ZERO, norm.paint_repair_large_h or ZERO
    small_m, large_m = norm.material_repair_small or ZERO, norm.material_repair_large or ZERO
    if size in (DamageSize.UP_TO_1, DamageSize.FROM_1_TO_2):
        return small_h, small_m
    # A larger area never needs less paint than a smaller one, whatever the data says.
    return max(small_h, large_h), max(small_m, large_m)


def _replace_plan(part_code: str, norm: Norm, paintable: bool, reason: str) -> _Plan:
    if norm.replace_h is None:
        raise EstimateError(
            _("Для детали «%(part)s» нет норм замены: оценим по фото.")
            % {"part": PARTS[part_code].name}
        )
    plan = _Plan(
        operation=Operation.REPLACE_PAINT if paintable else Operation.REPLACE,
        labour_h=norm.replace_h,
        buys_part=True,
        dependency_ops=("replace", "paint") if paintable else ("replace",),
        notes=[reason] if reason else [],
    )
    if paintable:
        plan.paint_h = norm.paint_new_h or ZERO
        plan.material_units = norm.material_new or ZERO
    return plan


def _repair_plan(part_code: str, norm: Norm, kind: str, size: str) -> _Plan | None:
    """The repair way for a painted body part, or None when only replacement fits."""
    part = PARTS[part_code]
    if kind == DamageKind.BROKEN:
        return None
    if kind != DamageKind.SCRATCH and size == DamageSize.OVER_4:
        return None
    if kind == DamageKind.CRACK and part.material != Material.PLASTIC:
        return None  # torn metal is not repaired
    if kind == DamageKind.SCRATCH and size == DamageSize.UP_TO_1 and norm.spot_h:
        return _Plan(
            Operation.SPOT,
            paint_h=norm.spot_h,
            material_units=norm.material_spot or ZERO,
            notes=[
                _(
                    "Локальный ремонт: царапину или скол до ладони закрашивают только в месте "
                    "повреждения, краску растушёвывают в пределах детали; соседние детали "
                    "не красят."
                )
            ],
        )
    if kind == DamageKind.SCRATCH:
        paint_h, units = _paint_repair(norm, size)
        notes = [_("Окраска без рихтовки: если царапина не дошла до грунта, хватит полировки.")]
        return _Plan(
            Operation.PAINT,
            paint_h=paint_h,
            material_units=units,
            dependency_ops=("paint",),
            notes=notes,
        )
    index = _repair_index(size)
    if kind == DamageKind.CRACK:
        index = min(index + 1, 2)  # plastic welding of a crack is the next category up
    repair_h = norm.repair_h[index]
    if repair_h is None:
        return None
    if part.material == Material.ALUMINIUM:
        repair_h *= ALUMINIUM_REPAIR_FACTOR
    paint_h, units = _paint_repair(norm, size)
    # Drivers read plain words; the norms' category (Р1–Р3, Р for ремонт) is kept for staff.
    words = {
        0: _("Рихтовка небольшой вмятины и окраска детали."),
        1: _("Рихтовка вмятины и окраска детали."),
        2: _("Сложная рихтовка с вытяжкой и окраска детали."),
    }
    note = words[index]
    if kind == DamageKind.CRACK:
        note = _("Ремонт трещины пластика (пайка) и окраска детали.")
    return _Plan(
        Operation.REPAIR_PAINT,
        labour_h=repair_h,
        paint_h=paint_h,
        material_units=units,
        dependency_ops=("repair", "paint"),
        notes=[note],
        category=str(index + 1),
    )


def _unpainted_plan(part_code: str, norm: Norm, kind: str, size: str) -> _Plan:
    """Lamps, glass, wheels and mirrors: repaired only in narrow cases, else replaced."""
    part = PARTS[part_code]
    small = size in (DamageSize.UP_TO_1, DamageSize.FROM_1_TO_2)
    if part.material == Material.LAMP:
        if kind == DamageKind.SCRATCH and norm.polish_h:
            return _Plan(
                Operation.POLISH, labour_h=norm.polish_h, notes=[_("Полировка рассеивателя.")]
            )
        return _replace_plan(part_code, norm, False, _("Треснувшую или разбитую оптику меняют."))
    if part.material == Material.GLASS:
        chip = norm.repair_h[0]
        if kind in (DamageKind.SCRATCH, DamageKind.CRACK) and size == DamageSize.UP_TO_1 and chip:
            return _Plan(
                Operation.REPAIR,
                labour_h=chip,
                notes=[_("Ремонт скола или небольшой трещины без замены стекла.")],
            )
        return _replace_plan(part_code, norm, False, _("Стекло с такой трещиной меняют."))
    if part.material == Material.WHEEL:
        if kind == DamageKind.SCRATCH or (kind == DamageKind.DENT and small):
            repair = norm.repair_h[0 if kind == DamageKind.SCRATCH and small else 1]
            if repair:
                return _Plan(
                    Operation.REPAIR, labour_h=repair, notes=[_("Правка и восстановление диска.")]
                )
        return _replace_plan(
            part_code,
            norm,
            False,
            _("Треснувший или сильно погнутый диск меняют: это безопасность."),
        )
    raise EstimateError(_("Деталь «%(part)s» не оценивается калькулятором.") % {"part": part.name})


def _mirror_plan(part_code: str, norm: Norm, kind: str, size: str) -> _Plan:
    if kind == DamageKind.SCRATCH:
        return _Plan(
            Operation.PAINT,
            paint_h=norm.paint_new_h or ZERO,
            material_units=norm.material_new or ZERO,
            dependency_ops=("paint",),
            notes=[_("Окраска корпуса зеркала.")],
        )
    return _replace_plan(
        part_code, norm, True, _("Зеркало с трещиной или вмятиной меняют целиком.")
    )


def _cost(
    plan: _Plan, tech: TechData, rates: Rates, part: PartPrice | None, deps: Decimal
) -> Decimal:
    """What the customer would pay for the plan: each amount rounded as its line rounds it,
    and VAT on top of the sources whose prices exclude it, so that repair and replacement
    are compared as the estimate will show them (a reference part price already includes
    VAT, labour may not)."""
    labour = quantize_rub((_hours(plan.labour_h, tech.body_factor) + deps) * rates.body_rate_rub)
    paint = quantize_rub(_hours(plan.paint_h, tech.paint_factor) * rates.paint_rate_rub)
    units = _hours(plan.material_units, tech.paint_factor)
    work = labour + paint + quantize_rub(units * rates.material_unit_rub)
    part_rub = quantize_rub(part.original_rub) if plan.buys_part and part else ZERO_RUB
    tax = rates.tax
    excluded = (ZERO_RUB if tax.rates_include_vat else work) + (
        ZERO_RUB if part is None or tax.part_includes_vat(part.price_source) else part_rub
    )
    _inside, on_top = _vat_exact(tax, ZERO, excluded)
    return work + part_rub + quantize_rub(on_top)


def _dependencies(part_code: str, plan: _Plan, tech: TechData) -> tuple[tuple[str, Decimal], ...]:
    return tuple(
        (dep.item, _hours(dep.hours, tech.body_factor))
        for dep in tech.dependencies.get(part_code, ())
        if dep.operation in plan.dependency_ops
    )


def _price_for(part_code: str, prices: Mapping[str, PartPrice]) -> PartPrice:
    price = prices.get(part_code)
    if price is None or price.original_rub is None or price.original_rub <= 0:
        raise EstimateError(
            _("Нет цены детали «%(part)s»: пришлите фото, мастер посчитает.")
            % {"part": PARTS[part_code].name}
        )
    return price


def _forced(damage: Damage, norm: Norm) -> _Plan:
    """The operation an advisor chose after inspection, priced by the same norms."""
    part = PARTS[damage.part]
    note = _("Решение мастера после осмотра.")
    if damage.operation in (Operation.REPLACE, Operation.REPLACE_PAINT):
        plan = _replace_plan(damage.part, norm, part.paintable, note)
    elif damage.operation == Operation.POLISH and norm.polish_h:
        plan = _Plan(Operation.POLISH, labour_h=norm.polish_h, notes=[note])
    elif damage.operation == Operation.PAINT and part.paintable:
        paint_h, units = _paint_repair(norm, damage.size)
        plan = _Plan(
            Operation.PAINT,
            paint_h=paint_h,
            material_units=units,
            dependency_ops=("paint",),
            notes=[note],
        )
    elif damage.operation == Operation.REPAIR_PAINT and part.paintable:
        repair = _repair_plan(damage.part, norm, DamageKind.DENT, damage.size)
        if repair is None:
            raise EstimateError(
                _("Деталь «%(part)s» по нормам не ремонтируют: выберите замену.")
                % {"part": part.name}
            )
        repair.notes.append(note)
        plan = repair
    elif damage.operation == Operation.REPAIR and not part.paintable and norm.repair_h[0]:
        plan = _Plan(
            Operation.REPAIR, labour_h=norm.repair_h[0], dependency_ops=("repair",), notes=[note]
        )
    else:
        raise EstimateError(
            _("Для детали «%(part)s» нельзя выбрать такую операцию.") % {"part": part.name}
        )
    return plan


def _choose(damage: Damage, tech: TechData, rates: Rates, prices: Mapping[str, PartPrice]) -> _Plan:
    part = PARTS[damage.part]
    norm = tech.norms.get(damage.part)
    if norm is None:
        raise EstimateError(
            _("Для детали «%(part)s» нет норм: оценим по фото.") % {"part": part.name}
        )
    if damage.operation:
        return _forced(damage, norm)
    if damage.part.startswith("mirror_"):
        return _mirror_plan(damage.part, norm, damage.kind, damage.size)
    if not part.paintable:
        plan = _unpainted_plan(damage.part, norm, damage.kind, damage.size)
        if plan.buys_part or norm.replace_h is None:
            return plan
        return _cheaper_of(damage, plan, norm, False, tech, rates, prices)
    repair = _repair_plan(damage.part, norm, damage.kind, damage.size)
    if repair is None:
        if damage.kind == DamageKind.BROKEN:
            reason = _("Деталь разбита: только замена.")
        elif damage.kind == DamageKind.CRACK:
            reason = _("Разрыв металла не ремонтируют: замена.")
        else:
            reason = _("Повреждение больше половины детали: замена.")
        return _replace_plan(damage.part, norm, True, reason)
    if norm.replace_h is None:
        return repair  # a part with no replacement norm can only be repaired
    return _cheaper_of(damage, repair, norm, True, tech, rates, prices)


def _cheaper_of(
    damage: Damage,
    repair: _Plan,
    norm: Norm,
    paintable: bool,
    tech: TechData,
    rates: Rates,
    prices: Mapping[str, PartPrice],
) -> _Plan:
    """Repair, unless it would cost more than the threshold share of replacement."""
    price = prices.get(damage.part)
    if price is None or not price.original_rub:
        repair.notes.append(_("Сравнить с заменой нельзя: нет цены новой детали."))
        return repair
    replace = _replace_plan(damage.part, norm, paintable, "")
    repair_deps = sum((h for _i, h in _dependencies(damage.part, repair, tech)), ZERO)
    replace_deps = sum((h for _i, h in _dependencies(damage.part, replace, tech)), ZERO)
    repair_cost = _cost(repair, tech, rates, None, repair_deps)
    replace_cost = _cost(replace, tech, rates, price, replace_deps)
    if repair_cost > replace_cost * rates.replace_threshold:
        share = (repair_cost * 100 / replace_cost).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        threshold = (rates.replace_threshold * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        replace.notes.append(
            _(
                "Ремонт обошёлся бы в %(share)s %% от замены (порог %(threshold)s %%): "
                "выгоднее заменить."
            )
            % {"share": share, "threshold": threshold}
        )
        return replace
    return repair


def _line(
    damage: Damage,
    plan: _Plan,
    tech: TechData,
    rates: Rates,
    prices: Mapping[str, PartPrice],
    counted: set[str],
    paint_type: str = PaintType.UNKNOWN,
) -> Line:
    part = PARTS[damage.part]
    extras = []
    shared = []
    for item, hours in _dependencies(damage.part, plan, tech):
        # A job done once serves both parts (one bumper removal for two headlamps).
        if item in counted:
            shared.append(item)
        else:
            counted.add(item)
            extras.append((item, hours))
    extras = tuple(extras)
    labour_h = _hours(plan.labour_h, tech.body_factor) + sum((h for _i, h in extras), ZERO)
    pearl = paint_type == PaintType.PEARL and plan.paint_h > 0
    paint_h = _hours(plan.paint_h * (PEARL_PAINT_FACTOR if pearl else 1), tech.paint_factor)
    units = _hours(plan.material_units * (PEARL_MATERIAL_FACTOR if pearl else 1), tech.paint_factor)
    labour_rub = quantize_rub(labour_h * rates.body_rate_rub)
    paint_rub = quantize_rub(paint_h * rates.paint_rate_rub)
    material_rub = quantize_rub(units * rates.material_unit_rub)
    notes = list(plan.notes)
    if pearl:
        notes.append(_("Перламутр: окраска дольше на 25 %, материалов больше на 40 %."))
    # The item is a reference text (smartcalc.reference_texts): shown in the page's language.
    notes += [_("«%(item)s» уже учтено в другой строке.") % {"item": _(item)} for item in shared]
    part_rub, alternative, approximate, oem = ZERO_RUB, None, False, ""
    source = as_of = ""
    if plan.buys_part:
        price = _price_for(damage.part, prices)
        part_rub = quantize_rub(price.original_rub)
        alternative = quantize_rub(price.alternative_rub) if price.alternative_rub else None
        approximate, oem = price.approximate, price.oem_number
        source, as_of = price.price_source, price.as_of
        if approximate:
            notes.append(_("Цена детали ориентировочная: у сервиса нет своей цены на эту деталь."))
    work = labour_rub + paint_rub + material_rub
    low, high = tech.hidden.get((damage.part, severity(damage.kind, damage.size)), (ZERO, ZERO))
    return Line(
        part=damage.part,
        part_name=str(part.name),
        kind=damage.kind,
        size=damage.size,
        operation=plan.operation,
        labour_hours=labour_h,
        labour_rub=labour_rub,
        paint_hours=paint_h,
        paint_rub=paint_rub,
        material_units=units,
        material_rub=material_rub,
        part_rub=part_rub,
        alternative_part_rub=alternative,
        price_approximate=approximate,
        oem_number=oem,
        subtotal_rub=work + part_rub,
        alternative_subtotal_rub=work + (alternative if alternative is not None else part_rub),
        extras=extras,
        notes=tuple(notes),
        hidden_low_pct=low,
        hidden_high_pct=high,
        repair_category=plan.category,
        price_source=source,
        price_as_of=as_of,
    )


def _blend_reason(policy: str, paint_type: str) -> str | None:
    """Why the shop blends into the neighbours for this paint, or None when it does not."""
    if policy == BLEND_NEVER:
        return None
    if policy == BLEND_ALWAYS:
        return _("так принято в сервисе для любой краски, чтобы не было видно разницы оттенка")
    if paint_type == PaintType.SOLID:
        return None
    if paint_type == PaintType.PEARL:
        return _("у перламутра без перехода видна разница оттенка")
    if paint_type == PaintType.METALLIC:
        return _("у металлика без перехода видна разница оттенка")
    return _(
        "тип краски не указан, посчитали как металлик; у обычной краски без блёсток "
        "переход не нужен и цена будет ниже"
    )


def _blend_lines(lines: list[Line], tech: TechData, rates: Rates, paint_type: str) -> list[Line]:
    reason = _blend_reason(rates.blend_policy, paint_type)
    if reason is None:
        return []
    painted = {line.part for line in lines if line.paint_hours > 0}
    blends: list[Line] = []
    for line in lines:
        # A spot repair is blended inside its own panel: no neighbour is painted for it.
        if line.paint_hours <= 0 or line.operation == Operation.SPOT:
            continue
        for neighbour in NEIGHBOURS.get(line.part, ()):
            if neighbour in painted or any(b.part == neighbour for b in blends):
                continue
            norm = tech.norms.get(neighbour)
            if norm is None or not norm.paint_new_h:
                continue
            pearl = paint_type == PaintType.PEARL
            paint_h = _hours(
                norm.paint_new_h * BLEND_SHARE * (PEARL_PAINT_FACTOR if pearl else 1),
                tech.paint_factor,
            )
            units = _hours(
                (norm.material_new or ZERO) * BLEND_SHARE * (PEARL_MATERIAL_FACTOR if pearl else 1),
                tech.paint_factor,
            )
            paint_rub = quantize_rub(paint_h * rates.paint_rate_rub)
            material_rub = quantize_rub(units * rates.material_unit_rub)
            blends.append(
                Line(
                    part=neighbour,
                    part_name=str(PARTS[neighbour].name),
                    kind="",
                    size="",
                    operation=Operation.PAINT,
                    labour_hours=ZERO,
                    labour_rub=ZERO_RUB,
                    paint_hours=paint_h,
                    paint_rub=paint_rub,
                    material_units=units,
                    material_rub=material_rub,
                    part_rub=ZERO_RUB,
                    alternative_part_rub=None,
                    price_approximate=False,
                    oem_number="",
                    subtotal_rub=paint_rub + material_rub,
                    alternative_subtotal_rub=paint_rub + material_rub,
                    extras=(),
                    notes=(
                        _("Окраска «в переход» рядом с деталью «%(part)s»: %(reason)s.")
                        % {"part": line.part_name, "reason": reason},
                    ),
                    hidden_low_pct=ZERO,
                    hidden_high_pct=ZERO,
                )
            )
    return blends


def _extra_line(extra: ExtraItem, rates: Rates) -> Line:
    name = extra.name.strip()
    if not name:
        raise EstimateError(_("У дополнительной работы нет названия."))
    if min(extra.labour_hours, extra.paint_hours, extra.part_rub) < 0:
        raise EstimateError(_("В строке «%(name)s» отрицательное число.") % {"name": name})
    labour_h = extra.labour_hours.quantize(HOUR, rounding=ROUND_HALF_UP)
    paint_h = extra.paint_hours.quantize(HOUR, rounding=ROUND_HALF_UP)
    labour_rub = quantize_rub(labour_h * rates.body_rate_rub)
    paint_rub = quantize_rub(paint_h * rates.paint_rate_rub)
    material_rub = quantize_rub(paint_h * rates.material_unit_rub)
    part_rub = quantize_rub(extra.part_rub)
    subtotal = labour_rub + paint_rub + material_rub + part_rub
    return Line(
        part="extra",
        part_name=name,
        kind="",
        size="",
        operation=Operation.REPAIR if not part_rub else Operation.REPLACE,
        labour_hours=labour_h,
        labour_rub=labour_rub,
        paint_hours=paint_h,
        paint_rub=paint_rub,
        material_units=paint_h,
        material_rub=material_rub,
        part_rub=part_rub,
        alternative_part_rub=None,
        price_approximate=False,
        oem_number="",
        subtotal_rub=subtotal,
        alternative_subtotal_rub=subtotal,
        extras=(),
        notes=(_("Найдено при осмотре."),),
        hidden_low_pct=ZERO,
        hidden_high_pct=ZERO,
    )


def _vat_exact(tax: Tax, included: Decimal, on_top: Decimal) -> tuple[Decimal, Decimal]:
    """VAT inside the prices that include it and VAT on top of the others, unrounded."""
    if not tax.charges_vat:
        return ZERO, ZERO
    rate = tax.vat_percent
    return included * rate / (100 + rate), on_top * rate / 100


def _taxed(line: Line, tax: Tax) -> Line:
    """The line with its VAT: which of its amounts already include VAT (by price source)
    and what is added on top, each rounded once in the line."""
    work = line.labour_rub + line.paint_rub + line.material_rub
    alternative_part = line.alternative_subtotal_rub - work
    # The platform's reference prices are retail prices with VAT whatever the shop's setting;
    # the shop's list and its suppliers' prices as the shop says.
    part_included = tax.part_includes_vat(
        line.price_source or (SOURCE_REFERENCE if line.price_approximate else SOURCE_PRICE_LIST)
    )
    work_included = work if tax.rates_include_vat else ZERO_RUB
    included = work_included + (line.part_rub if part_included else ZERO_RUB)
    alternative_included = work_included + (alternative_part if part_included else ZERO_RUB)
    inside, on_top = _vat_exact(tax, included, line.subtotal_rub - included)
    on_top_rub = quantize_rub(on_top)
    return dataclasses.replace(
        line,
        vat_base_included_rub=included,
        alternative_vat_base_included_rub=alternative_included,
        vat_included_rub=quantize_rub(inside),
        vat_on_top_rub=on_top_rub,
        total_rub=line.subtotal_rub + on_top_rub,
    )


def _vat_totals(
    lines: Sequence[Line], tax: Tax, alternative: bool
) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, VAT on top, all VAT in the total) for the original or alternative parts,
    rounded per line or once on the total as the shop sets."""
    subtotal = ZERO_RUB
    on_top_sum = in_total_sum = ZERO_RUB
    included_sum = ZERO
    for line in lines:
        amount = line.alternative_subtotal_rub if alternative else line.subtotal_rub
        included = (
            line.alternative_vat_base_included_rub if alternative else line.vat_base_included_rub
        )
        subtotal += amount
        included_sum += included
        inside, on_top = _vat_exact(tax, included, amount - included)
        on_top_sum += quantize_rub(on_top)
        in_total_sum += quantize_rub(inside) + quantize_rub(on_top)
    if tax.rounding == ROUND_ON_TOTAL:
        inside, on_top = _vat_exact(tax, included_sum, subtotal - included_sum)
        on_top_sum = quantize_rub(on_top)
        in_total_sum = quantize_rub(inside) + on_top_sum
    return subtotal, on_top_sum, in_total_sum


def _vat_display(lines: Sequence[Line], tax: Tax) -> str:
    if not tax.regime:
        return VAT_UNSET
    if not tax.charges_vat:
        return VAT_NONE
    included = sum((line.vat_base_included_rub for line in lines), ZERO_RUB)
    subtotal = sum((line.subtotal_rub for line in lines), ZERO_RUB)
    if included == subtotal:
        return VAT_INCLUDED
    return VAT_ON_TOP if included == 0 else VAT_MIXED


def compute_estimate(
    *,
    damages: Sequence[Damage],
    tech: TechData,
    prices: Mapping[str, PartPrice],
    rates: Rates,
    body_parts: frozenset[str] | None = None,
    extras: Sequence[ExtraItem] = (),
    paint_type: str = PaintType.UNKNOWN,
) -> Estimate:
    """Lines and totals for the damages. Raises EstimateError with a translated message for
    input it cannot price honestly (never a silently wrong number)."""
    if paint_type not in PaintType.values:
        raise EstimateError(_("Выберите тип краски из списка."))
    seen: set[str] = set()
    counted: set[str] = set()
    lines: list[Line] = []
    for damage in damages:
        if damage.part not in PARTS or (body_parts is not None and damage.part not in body_parts):
            raise EstimateError(
                _("Такой детали нет у выбранного кузова: выберите деталь на схеме.")
            )
        if damage.kind not in DamageKind.values:
            raise EstimateError(_("Выберите вид повреждения из списка."))
        # A broken or missing part is replaced whatever its size: no size is asked.
        if damage.size not in DamageSize.values and not (
            damage.kind == DamageKind.BROKEN and damage.size == ""
        ):
            raise EstimateError(_("Выберите размер повреждения в ладонях из списка."))
        if damage.part in seen:
            raise EstimateError(
                _("Одна деталь указана дважды: оставьте одно повреждение на деталь.")
            )
        seen.add(damage.part)
        plan = _choose(damage, tech, rates, prices)
        lines.append(_line(damage, plan, tech, rates, prices, counted, paint_type))
    lines += _blend_lines(lines, tech, rates, paint_type)
    lines += [_extra_line(extra, rates) for extra in extras]
    tax = rates.tax
    lines = [_taxed(line, tax) for line in lines]

    def total(attr: str) -> Decimal:
        return sum((getattr(line, attr) for line in lines), ZERO_RUB)

    subtotal, vat_on_top, vat_in_total = _vat_totals(lines, tax, alternative=False)
    alternative, alt_on_top, alt_in_total = _vat_totals(lines, tax, alternative=True)
    hidden_low = quantize_rub(sum((x.subtotal_rub * x.hidden_low_pct / 100 for x in lines), ZERO))
    hidden_high = quantize_rub(sum((x.subtotal_rub * x.hidden_high_pct / 100 for x in lines), ZERO))
    return Estimate(
        lines=tuple(lines),
        labour_rub=total("labour_rub"),
        paint_rub=total("paint_rub"),
        materials_rub=total("material_rub"),
        parts_rub=total("part_rub"),
        subtotal_rub=subtotal,
        tax_regime=tax.regime,
        vat_percent=tax.vat_percent if tax.charges_vat else None,
        vat_display=_vat_display(lines, tax),
        vat_rounding=tax.rounding,
        vat_on_top_rub=vat_on_top,
        vat_in_total_rub=vat_in_total,
        total_rub=subtotal + vat_on_top,
        alternative_subtotal_rub=alternative,
        alternative_vat_on_top_rub=alt_on_top,
        alternative_vat_in_total_rub=alt_in_total,
        alternative_total_rub=alternative + alt_on_top,
        hidden_low_rub=hidden_low,
        hidden_high_rub=hidden_high,
        data_version=tech.version,
        paint_type=paint_type,
    )
