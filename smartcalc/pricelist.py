"""The shop's part price list as CSV or XLSX: parse with per-row errors, import, export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from autoservice.models import Shop
from autoservice.money import money_parse
from autoservice.spreadsheets import cell_unescape, row_safe

from .models import ShopPartPrice, VehicleModel
from .parts import PARTS

HEADER = ["марка", "модель", "деталь", "номер OEM", "оригинал, ₽", "аналог, ₽"]
MAX_ROWS = 20_000
_PART_BY_NAME = {str(part.name).lower(): code for code, part in PARTS.items()}


@dataclass(frozen=True)
class PriceRow:
    make: str
    model: str
    part: str
    oem_number: str
    original_rub: str
    alternative_rub: str


@dataclass(frozen=True)
class ParseResult:
    rows: list[dict]  # good rows, ready to import (JSON-safe for the session)
    errors: list[tuple[int, str]]  # (row number in the file, Russian message)


def _money(value: str) -> Decimal | None:
    """A price cell: empty is None, anything else goes through the one money parser."""
    text = (value or "").strip()
    return money_parse(text) if text else None


def _cells(upload) -> list[list[str]]:
    name = (upload.name or "").lower()
    raw = upload.read()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).active
        return [
            ["" if c is None else str(c).strip() for c in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    text = raw.decode("utf-8-sig", errors="strict")
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t") if text.strip() else csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def pricelist_parse(upload) -> ParseResult:
    try:
        cells = _cells(upload)
    except (UnicodeDecodeError, csv.Error, ValueError, KeyError, OSError):
        return ParseResult([], [(0, _("Файл не читается: нужен CSV в UTF-8 или XLSX."))])
    if cells and cells[0] and cells[0][0].lower() in ("марка", "make"):
        cells = [[], *cells[1:]]  # keep numbering: row 1 is the header
    if len(cells) > MAX_ROWS:
        message = _("Слишком много строк: не больше %(max)s.") % {"max": MAX_ROWS}
        return ParseResult([], [(0, message)])
    models = {
        (m.make.name.lower(), m.name.lower()): m.pk
        for m in VehicleModel.objects.select_related("make")
    }
    rows, errors = [], []
    for number, row in enumerate(cells, start=1):
        if not any(row):
            continue
        row = (row + [""] * 6)[:6]
        make, model, part, oem, original, alternative = (cell_unescape(c) for c in row)
        model_id = models.get((make.lower(), model.lower()))
        code = part if part in PARTS else _PART_BY_NAME.get(part.lower())
        try:
            original_rub = _money(original)
        except ValueError:
            errors.append((number, _("цена «%(price)s» — не число") % {"price": original}))
            continue
        try:
            alternative_rub = _money(alternative)
        except ValueError:
            errors.append((number, _("цена «%(price)s» — не число") % {"price": alternative}))
            continue
        if model_id is None:
            errors.append(
                (number, _("нет модели «%(model)s» в каталоге") % {"model": f"{make} {model}"})
            )
        elif code is None:
            errors.append((number, _("неизвестная деталь «%(part)s»") % {"part": part}))
        elif original_rub is None or original_rub <= 0:
            errors.append((number, _("цена оригинала должна быть больше нуля")))
        elif alternative_rub is not None and alternative_rub <= 0:
            errors.append((number, _("цена аналога должна быть больше нуля или пустой")))
        else:
            rows.append(
                {
                    "model_id": model_id,
                    "part": code,
                    "oem_number": oem[:40],
                    "original_rub": str(original_rub),
                    "alternative_rub": str(alternative_rub) if alternative_rub else "",
                }
            )
    return ParseResult(rows, errors)


@transaction.atomic
def pricelist_import(*, shop: Shop, rows: list[dict]) -> int:
    for row in rows:
        ShopPartPrice.objects.update_or_create(
            shop=shop,
            vehicle_model_id=row["model_id"],
            part=row["part"],
            defaults={
                "oem_number": row["oem_number"],
                "original_rub": Decimal(row["original_rub"]),
                "alternative_rub": Decimal(row["alternative_rub"])
                if row["alternative_rub"]
                else None,
            },
        )
    return len(rows)


def pricelist_rows(shop: Shop) -> list[list[str]]:
    prices = ShopPartPrice.objects.filter(shop=shop).select_related("vehicle_model__make")
    return [
        [
            p.vehicle_model.make.name,
            p.vehicle_model.name,
            str(PARTS[p.part].name),
            p.oem_number,
            str(p.original_rub),
            str(p.alternative_rub or ""),
        ]
        for p in prices.order_by("vehicle_model__make__name", "vehicle_model__name", "part")
    ]


def pricelist_csv(shop: Shop) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER)
    writer.writerows(row_safe(row) for row in pricelist_rows(shop))
    return ("\ufeff" + buffer.getvalue()).encode()


def pricelist_xlsx(shop: Shop) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Прайс"
    sheet.append(HEADER)
    for row in pricelist_rows(shop):
        sheet.append(row_safe(row[:4]) + [Decimal(row[4]), Decimal(row[5]) if row[5] else None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
