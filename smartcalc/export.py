"""An estimate version for estimating systems and insurers: a documented line structure
(smartcalc/EXPORT.md) as JSON and XLSX.

Nothing is priced again here. Each line the engine stored (a position: one part and what is
done to it) is written out as its operations — the main work (replace, repair, polish), the
dependent removals and refits, paint (or a spot repair, or a blend into a neighbour), paint
materials and the part itself — whose amounts add up to the position's stored amounts to the
kopeck. The position's VAT is the engine's (inside the prices and on top, rounded per line);
it is shared among the position's operations by the largest remainder, so the operations add
up to it exactly. The totals are the version's own.
"""

from __future__ import annotations

import io
from decimal import ROUND_FLOOR, Decimal

from django.utils import translation

from autoservice.money import quantize_rub
from autoservice.spreadsheets import cell_safe

from .models import EstimateVersion, TaxRegime, VatRounding
from .parts import PARTS, BodyType, Operation, PaintType

FORMAT = "sto-estimate-export"
FORMAT_VERSION = 1
ZERO = Decimal("0")
ZERO_RUB = Decimal("0.00")
KOPECK = Decimal("0.01")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Operation kinds of the export (EXPORT.md); the names are read in Russian whatever the page.
KINDS = {
    "replace": "замена",
    "repair": "ремонт",
    "polish": "полировка",
    "remove_refit": "снятие/установка, перенос",
    "adjust": "регулировка",
    "paint": "окраска",
    "spot_repair": "локальный ремонт покрытия",
    "blend": "окраска «в переход»",
    "materials": "лакокрасочные материалы",
    "part": "запчасть",
    "other": "дополнительная работа",
}
UNITS = {"hours": "н/ч", "pcs": "шт", "units": "ед. ЛКМ"}

_MAIN_KIND = {
    Operation.REPLACE: "replace",
    Operation.REPLACE_PAINT: "replace",
    Operation.REPAIR: "repair",
    Operation.REPAIR_PAINT: "repair",
    Operation.POLISH: "polish",
}


def _dec(value, default: str = "0") -> Decimal:
    if value in (None, ""):
        return Decimal(default)
    return Decimal(str(value))


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dependency_kind(item: str) -> str:
    text = item.strip().lower()
    if text.startswith(("снятие", "перенос")):
        return "remove_refit"
    if text.startswith("регулировка"):
        return "adjust"
    return "other"


def _share(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` (kopecks) split in proportion to `weights`, each rounded down and the kopecks
    left given to the largest remainders: the shares add up to `total` exactly."""
    whole = sum(weights, ZERO)
    if not whole or not total:
        return [ZERO_RUB for _w in weights]
    exact = [total * w / whole for w in weights]
    shares = [e.quantize(KOPECK, rounding=ROUND_FLOOR) for e in exact]
    left = int((total - sum(shares, ZERO)) / KOPECK)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += KOPECK
    return shares


def _included_sources(line: dict, work: Decimal, part: Decimal) -> tuple[bool, bool]:
    """Whether the work's and the part's prices include VAT, read from the base the engine
    stored with the line (never from today's settings)."""
    subtotal = _dec(line.get("subtotal_rub"))
    base = _dec(line.get("vat_base_included_rub"), str(subtotal))
    if base == subtotal:
        return True, True
    if base == 0:
        return False, False
    if base == work:
        return True, False
    return False, True


def _operations(line: dict, rates: dict) -> list[dict]:
    """The position's operations with the amounts as stored (before any VAT on top)."""
    code = line.get("part", "")
    body_rate = _dec(rates.get("body_rate_rub"), "0") if rates else None
    paint_rate = _dec(rates.get("paint_rate_rub"), "0") if rates else None
    unit_rate = _dec(rates.get("material_unit_rub"), "0") if rates else None
    operation = line.get("operation", "")
    is_extra = code == "extra"
    is_blend = not is_extra and not line.get("kind") and operation == Operation.PAINT
    ops: list[dict] = []

    labour_h = _dec(line.get("labour_hours"))
    labour_rub = _dec(line.get("labour_rub"))
    dependent = []
    for item, hours in line.get("extras") or ():
        hours = _dec(hours)
        amount = quantize_rub(hours * body_rate) if body_rate else ZERO_RUB
        dependent.append((item, hours, amount))
    main_h = labour_h - sum((h for _i, h, _a in dependent), ZERO)
    main_rub = labour_rub - sum((a for _i, _h, a in dependent), ZERO)
    if main_h or main_rub:
        kind = "other" if is_extra else _MAIN_KIND.get(operation, "repair")
        ops.append(
            {"kind": kind, "name": "", "hours": main_h, "rate": body_rate, "amount": main_rub}
        )
    for item, hours, amount in dependent:
        ops.append(
            {
                "kind": _dependency_kind(item),
                "name": item,
                "hours": hours,
                "rate": body_rate,
                "amount": amount,
            }
        )
    paint_h, paint_rub = _dec(line.get("paint_hours")), _dec(line.get("paint_rub"))
    if paint_h or paint_rub:
        kind = "blend" if is_blend else ("spot_repair" if operation == Operation.SPOT else "paint")
        ops.append(
            {"kind": kind, "name": "", "hours": paint_h, "rate": paint_rate, "amount": paint_rub}
        )
    units, material_rub = _dec(line.get("material_units")), _dec(line.get("material_rub"))
    if units or material_rub:
        ops.append(
            {
                "kind": "materials",
                "name": "",
                "paint_units": units,
                "rate": unit_rate,
                "amount": material_rub,
            }
        )
    part_rub = _dec(line.get("part_rub"))
    if part_rub:
        ops.append({"kind": "part", "name": "", "quantity": Decimal("1"), "amount": part_rub})
    return ops


def _unit(op: dict) -> str:
    if op["kind"] == "part":
        return "pcs"
    return "units" if "paint_units" in op else "hours"


def _part_name(line: dict) -> str:
    code = line.get("part", "")
    if code in PARTS:
        with translation.override("ru"):
            return str(PARTS[code].name)
    return line.get("part_name", "")


def _position(number: int, line: dict, rates: dict, tax_on: bool, oem: str) -> dict:
    ops = _operations(line, rates)
    work = sum((o["amount"] for o in ops if o["kind"] != "part"), ZERO)
    part = sum((o["amount"] for o in ops if o["kind"] == "part"), ZERO)
    work_incl, part_incl = _included_sources(line, work, part)
    for op in ops:
        op["price_includes_vat"] = part_incl if op["kind"] == "part" else work_incl
    vat_included = _dec(line.get("vat_included_rub"), "0.00")
    vat_on_top = _dec(line.get("vat_on_top_rub"), "0.00")
    inside = [o for o in ops if o["price_includes_vat"]]
    outside = [o for o in ops if not o["price_includes_vat"]]
    for op, share in zip(inside, _share(vat_included, [o["amount"] for o in inside]), strict=True):
        op["vat"], op["on_top"] = share, ZERO_RUB
    for op, share in zip(outside, _share(vat_on_top, [o["amount"] for o in outside]), strict=True):
        op["vat"], op["on_top"] = share, share
    subtotal = _dec(line.get("subtotal_rub"))
    total = _dec(line.get("total_rub"), str(subtotal + vat_on_top))
    name = _part_name(line)
    operations = []
    for i, op in enumerate(ops, start=1):
        amount = op["amount"]
        without = amount - (op["vat"] if op["price_includes_vat"] else ZERO)
        with_vat = amount + op["on_top"]
        quantity = op.get("quantity", op.get("hours", op.get("paint_units")))
        operations.append(
            {
                "line": f"{number}.{i}",
                "kind": op["kind"],
                "kind_name": KINDS[op["kind"]],
                "name": op["name"] or f"{name}: {KINDS[op['kind']]}",
                "unit": _unit(op),
                "quantity": _s(quantity),
                "labour_hours": _s(op.get("hours")),
                "paint_units": _s(op.get("paint_units")),
                "rate_rub": _s(op.get("rate")),
                "unit_price_rub": _s(amount if op["kind"] == "part" else op.get("rate")),
                "oem_number": oem if op["kind"] == "part" else "",
                "price_approximate": bool(line.get("price_approximate"))
                if op["kind"] == "part"
                else False,
                "price_includes_vat": op["price_includes_vat"] if tax_on else None,
                "amount_rub": _s(amount),
                "amount_without_vat_rub": _s(without),
                "vat_rub": _s(op["vat"]),
                "amount_with_vat_rub": _s(with_vat),
            }
        )
    vat = vat_included + vat_on_top
    return {
        "position": number,
        "part_code": line.get("part", ""),
        "part_name": name,
        "oem_number": oem,
        "operation": line.get("operation", ""),
        "operation_name": _operation_name(line.get("operation", "")),
        "damage_kind": line.get("kind", ""),
        "damage_size": line.get("size", ""),
        "repair_category": line.get("repair_category", ""),
        "quantity": "1",
        "labour_hours": line.get("labour_hours", "0"),
        "paint_hours": line.get("paint_hours", "0"),
        "paint_units": line.get("material_units", "0"),
        "part_price_rub": line.get("part_rub", "0.00"),
        "price_approximate": bool(line.get("price_approximate")),
        "amount_rub": _s(subtotal),
        "amount_without_vat_rub": _s(subtotal - vat_included),
        "vat_included_rub": _s(vat_included),
        "vat_on_top_rub": _s(vat_on_top),
        "vat_rub": _s(vat),
        "amount_with_vat_rub": _s(total),
        "notes": list(line.get("notes") or []),
        "operations": operations,
    }


def _operation_name(operation: str) -> str:
    with translation.override("ru"):
        try:
            return str(Operation(operation).label)
        except ValueError:
            return operation


def _label(choices, value: str) -> str:
    with translation.override("ru"):
        try:
            return str(choices(value).label)
        except ValueError:
            return value


def estimate_export(version: EstimateVersion, *, oem_numbers: dict[str, str] | None = None) -> dict:
    """The version in the export's line structure (EXPORT.md). `oem_numbers`: the catalogue's
    numbers by part code, for parts the stored line has none for."""
    estimate = version.estimate
    generation = estimate.generation
    result = version.result or {}
    inputs = version.inputs or {}
    rates = inputs.get("rates") or {}
    regime = result.get("tax_regime", rates.get("tax_regime", ""))
    vat_percent = result.get("vat_percent")
    tax_on = bool(vat_percent)
    oem_numbers = oem_numbers or {}
    positions = []
    for number, line in enumerate(result.get("lines", []), start=1):
        oem = (line.get("oem_number") or "").strip()
        if not oem and _dec(line.get("part_rub")) > 0:
            oem = oem_numbers.get(line.get("part", ""), "")
        positions.append(_position(number, line, rates, tax_on, oem))
    total = _dec(result.get("total_rub"), str(version.total_rub))
    vat_in_total = _dec(result.get("vat_in_total_rub"), "0.00")
    lines_vat = sum((_dec(p["vat_rub"]) for p in positions), ZERO_RUB)
    shop = estimate.shop
    author = version.author
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "currency": "RUB",
        "shop": {
            "id": shop.pk,
            "name": shop.name,
            "address": shop.address,
            "phone": shop.phone,
            "region": shop.region,
        },
        "estimate": {
            "id": estimate.pk,
            "version": version.number,
            "lead_number": estimate.lead.number if estimate.lead_id else None,
            "created_at": version.created_at.isoformat(),
            "author": author.display_name if author else None,
            "note": version.note,
        },
        "data_version": version.data_version,
        "vehicle": {
            "make": generation.model.make.name,
            "model": generation.model.name,
            "generation": generation.name,
            "years": generation.years,
            "body_type": estimate.body_type,
            "body_type_name": _label(BodyType, estimate.body_type),
            "paint_type": result.get("paint_type", inputs.get("paint_type", "")),
            "paint_type_name": _label(
                PaintType, result.get("paint_type", inputs.get("paint_type", ""))
            ),
        },
        "rates": {
            "body_rate_rub": rates.get("body_rate_rub"),
            "paint_rate_rub": rates.get("paint_rate_rub"),
            "material_unit_rub": rates.get("material_unit_rub"),
        },
        "tax": {
            "regime": regime,
            "regime_name": _label(TaxRegime, regime) if regime else "не выбран",
            "vat_percent": vat_percent,
            "vat_rounding": result.get("vat_rounding", rates.get("vat_rounding", "")),
            "vat_rounding_name": _label(
                VatRounding, result.get("vat_rounding", rates.get("vat_rounding", ""))
            ),
            "rates_include_vat": rates.get("rates_include_vat"),
            "price_list_includes_vat": rates.get("price_list_includes_vat"),
        },
        "positions": positions,
        "totals": {
            "labour_rub": result.get("labour_rub", "0.00"),
            "paint_rub": result.get("paint_rub", "0.00"),
            "materials_rub": result.get("materials_rub", "0.00"),
            "parts_rub": result.get("parts_rub", "0.00"),
            "amount_rub": result.get("subtotal_rub", str(version.total_rub)),
            "vat_on_top_rub": result.get("vat_on_top_rub", "0.00"),
            "vat_rub": _s(vat_in_total),
            "amount_without_vat_rub": _s(total - vat_in_total),
            "amount_with_vat_rub": _s(total),
            "positions_vat_rub": _s(lines_vat),
            "vat_rounding_difference_rub": _s(vat_in_total - lines_vat),
            "alternative_amount_with_vat_rub": result.get("alternative_total_rub"),
            "hidden_damage_low_rub": result.get("hidden_low_rub"),
            "hidden_damage_high_rub": result.get("hidden_high_rub"),
        },
    }


# --- XLSX --------------------------------------------------------------------------------

OPERATION_COLUMNS = (
    ("line", "№"),
    ("position", "Позиция"),
    ("kind", "Вид операции (код)"),
    ("kind_name", "Вид операции"),
    ("part_code", "Код детали"),
    ("name", "Наименование"),
    ("oem_number", "Номер OEM"),
    ("quantity", "Кол-во"),
    ("labour_hours", "Нормо-часы"),
    ("paint_units", "Ед. ЛКМ"),
    ("rate_rub", "Ставка, ₽"),
    ("unit_price_rub", "Цена за ед., ₽"),
    ("price_includes_vat", "Цена включает НДС"),
    ("amount_rub", "Сумма по цене, ₽"),
    ("amount_without_vat_rub", "Без НДС, ₽"),
    ("vat_rub", "НДС, ₽"),
    ("amount_with_vat_rub", "С НДС, ₽"),
)
MONEY_COLUMNS = {
    "rate_rub",
    "unit_price_rub",
    "amount_rub",
    "amount_without_vat_rub",
    "vat_rub",
    "amount_with_vat_rub",
}
NUMBER_COLUMNS = {"quantity", "labour_hours", "paint_units"}


def operation_rows(data: dict) -> list[dict]:
    """One flat row per operation, in order: what the XLSX sheet «Строки» holds."""
    rows = []
    for position in data["positions"]:
        for op in position["operations"]:
            rows.append(
                {**op, "position": position["position"], "part_code": position["part_code"]}
            )
    return rows


def _cell(key: str, value):
    if value is None:
        return None
    if key in MONEY_COLUMNS or key in NUMBER_COLUMNS:
        return Decimal(value)
    if key == "price_includes_vat":
        return "да" if value else "нет"
    return cell_safe(value)


def estimate_export_xlsx(data: dict) -> bytes:
    """The export as a workbook: «Смета» (the car, the shop, the tax, the totals) and
    «Строки» (one row per operation, the columns of EXPORT.md)."""
    from openpyxl import Workbook

    book = Workbook()
    head = book.active
    head.title = "Смета"
    vehicle, tax, totals = data["vehicle"], data["tax"], data["totals"]
    estimate = data["estimate"]
    rows = [
        ("Формат", f"{data['format']} v{data['format_version']}"),
        ("Автосервис", data["shop"]["name"]),
        ("Адрес", data["shop"]["address"]),
        ("Расчёт", estimate["id"]),
        ("Версия", estimate["version"]),
        ("Заявка", estimate["lead_number"]),
        ("Создана", estimate["created_at"]),
        ("Версия данных", data["data_version"]),
        ("Марка", vehicle["make"]),
        ("Модель", vehicle["model"]),
        ("Поколение", f"{vehicle['generation']} ({vehicle['years']})"),
        ("Кузов", vehicle["body_type_name"]),
        ("Краска", vehicle["paint_type_name"]),
        ("Налоговый режим", tax["regime_name"]),
        ("Ставка НДС, %", tax["vat_percent"]),
        ("Округление НДС", tax["vat_rounding_name"]),
        ("Нормо-час кузовных работ, ₽", data["rates"]["body_rate_rub"]),
        ("Нормо-час малярных работ, ₽", data["rates"]["paint_rate_rub"]),
        ("ЛКМ на час окраски, ₽", data["rates"]["material_unit_rub"]),
        ("Работы, ₽", totals["labour_rub"]),
        ("Окраска, ₽", totals["paint_rub"]),
        ("Материалы, ₽", totals["materials_rub"]),
        ("Запчасти, ₽", totals["parts_rub"]),
        ("Итого без НДС, ₽", totals["amount_without_vat_rub"]),
        ("НДС, ₽", totals["vat_rub"]),
        ("Итого с НДС, ₽", totals["amount_with_vat_rub"]),
    ]
    money_labels = {label for label, _v in rows if label.endswith("₽")}
    for label, value in rows:
        if label in money_labels and value not in (None, ""):
            value = Decimal(value)
        head.append([label, cell_safe(value) if isinstance(value, str) else value])
    head.column_dimensions["A"].width = 32
    head.column_dimensions["B"].width = 48

    sheet = book.create_sheet("Строки")
    sheet.append([title for _key, title in OPERATION_COLUMNS])
    for row in operation_rows(data):
        sheet.append([_cell(key, row.get(key)) for key, _title in OPERATION_COLUMNS])
    for index, (key, _title) in enumerate(OPERATION_COLUMNS):
        letter = sheet.cell(row=1, column=index + 1).column_letter
        sheet.column_dimensions[letter].width = 44 if key == "name" else 14
        if key in MONEY_COLUMNS:
            for cell in sheet[letter][1:]:
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
