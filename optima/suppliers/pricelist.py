"""Suppliers without an API: their price list (CSV or XLSX) is imported and searched in memory.

`parse_pricelist` reads the file and reports every broken row by its row number (the header is
row 1, as a spreadsheet shows it), so the manager can fix the file and upload it again.
`PriceListAdapter` searches rows the caller has stored (passed in `credentials["rows"]`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from autoservice.money import money_parse

from .base import SearchRun, SupplierAdapter, as_int, register
from .offer import Offer, canonical_brand, normalize_number, quality_for_brand

MAX_ROWS = 200_000
MAX_REPORTED_ERRORS = 200


@dataclass(frozen=True, slots=True)
class PriceRow:
    brand: str
    number: str
    name: str
    price_rub: Decimal
    qty: int | None  # None when the list gives only a lower bound (">10") or nothing
    qty_min: int
    delivery_days_min: int
    delivery_days_max: int
    warehouse: str = ""
    warranty_months: int | None = None
    multiple: int = 1
    row_number: int = 0

    @property
    def number_key(self) -> str:
        return normalize_number(self.number)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (price as a string), for storing the import."""
        data = asdict(self)
        data["price_rub"] = str(self.price_rub)
        data["number_key"] = self.number_key
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriceRow:
        """A stored row: `as_dict()` output, or a database row's values() that name the number
        `number_raw` and give one `delivery_days`."""
        qty = None if data.get("qty") in (None, "") else int(data["qty"])
        days_min = int(data.get("delivery_days_min", data.get("delivery_days")) or 0)
        warranty = data.get("warranty_months")
        return cls(
            brand=str(data["brand"]),
            number=str(data.get("number") or data.get("number_raw") or ""),
            name=str(data.get("name") or ""),
            price_rub=money_parse(data["price_rub"]),
            qty=qty,
            qty_min=int(data.get("qty_min", qty or 0) or 0),
            delivery_days_min=days_min,
            delivery_days_max=int(data.get("delivery_days_max") or days_min),
            warehouse=str(data.get("warehouse") or ""),
            warranty_months=None if warranty in (None, "") else int(warranty),
            multiple=int(data.get("multiple") or 1),
            row_number=int(data.get("row_number") or 0),
        )


# Column → header spellings seen in Russian price lists (compared after _header_key).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "brand": ("brand", "бренд", "производитель", "марка", "make", "manufacturer"),
    "number": (
        "number", "номер", "артикул", "код", "oem", "article", "номер детали",
        "каталожный номер", "part number",
    ),
    "name": ("name", "наименование", "название", "описание", "description"),
    "price": ("price", "цена", "цена руб", "стоимость", "price rub"),
    "qty": ("qty", "количество", "колво", "наличие", "остаток", "quantity", "stock"),
    "delivery_days": (
        "delivery_days", "delivery days", "срок", "срок поставки", "срок дн",
        "срок поставки дн", "дней", "delivery",
    ),
    "warehouse": ("warehouse", "склад"),
    "warranty_months": ("warranty_months", "warranty", "гарантия", "гарантия мес"),
    "multiple": ("multiple", "кратность", "упаковка", "packing"),
}  # fmt: skip
_REQUIRED = ("brand", "number", "price", "qty", "delivery_days")
_COLUMN_TITLES = {
    "brand": gettext_lazy("бренд"),
    "number": gettext_lazy("номер"),
    "price": gettext_lazy("цена"),
    "qty": gettext_lazy("количество"),
    "delivery_days": gettext_lazy("срок поставки"),
}


def _header_key(text: object) -> str:
    lowered = str(text or "").strip().lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w\s]", "", lowered).split())


_COLUMN_BY_HEADER = {
    _header_key(alias): column for column, aliases in _COLUMNS.items() for alias in aliases
}


def parse_pricelist(
    file_bytes: bytes, filename: str
) -> tuple[list[PriceRow], list[tuple[int, str]]]:
    """Rows of a CSV (; , or tab; UTF-8 or cp1251) or XLSX price list, and its broken rows.

    Each problem is (row number, Russian reason); row 0 means the whole file.
    """
    try:
        table = _read_table(file_bytes, filename)
    except _FileProblem as problem:
        return [], [(0, str(problem))]
    rows: list[PriceRow] = []
    errors: list[tuple[int, str]] = []
    header: dict[str, int] | None = None
    for row_number, cells in table:
        if not any(str(cell).strip() for cell in cells):
            continue
        if header is None:
            header = {}
            for index, cell in enumerate(cells):
                column = _COLUMN_BY_HEADER.get(_header_key(cell))
                if column and column not in header:
                    header[column] = index
            missing = [str(_COLUMN_TITLES[c]) for c in _REQUIRED if c not in header]
            if missing:
                message = _("В заголовке нет столбцов: %(columns)s") % {
                    "columns": ", ".join(missing)
                }
                return [], [(row_number, message)]
            continue
        if row_number > MAX_ROWS + 1:
            limit = f"{MAX_ROWS:,}".replace(",", " ")
            errors.append((0, _("В файле больше %(n)s строк: разделите его") % {"n": limit}))
            break
        values = {
            column: _cell_text(cells[index]) if index < len(cells) else ""
            for column, index in header.items()
        }
        row, reasons = _price_row(values, row_number)
        if reasons:
            errors.append((row_number, "; ".join(reasons)))
        elif row is not None:
            rows.append(row)
    if header is None:
        return [], [(0, _("Файл пуст: нет ни заголовка, ни строк"))]
    if len(errors) > MAX_REPORTED_ERRORS:
        hidden = len(errors) - MAX_REPORTED_ERRORS
        more = _("Ещё строк с ошибками: %(n)s") % {"n": hidden}
        errors = [*errors[:MAX_REPORTED_ERRORS], (0, more)]
    return rows, errors


def _price_row(values: dict[str, str], row_number: int) -> tuple[PriceRow | None, list[str]]:
    reasons: list[str] = []
    brand = " ".join(values["brand"].split())
    if not brand:
        reasons.append(_("не указан бренд"))
    number = values["number"].strip()
    if not number:
        reasons.append(_("не указан номер детали"))
    elif not normalize_number(number):
        reasons.append(
            _("номер «%(number)s» не содержит латинских букв или цифр") % {"number": number}
        )
    price = None
    try:
        price = money_parse(values["price"])
        if price <= 0:
            reasons.append(_("цена должна быть больше нуля"))
    except ValueError:
        reasons.append(
            _("цена «%(price)s» не число") % {"price": values["price"]}
            if values["price"]
            else _("нет цены")
        )
    qty, qty_min = None, 0
    try:
        qty, qty_min = _quantity(values["qty"])
    except ValueError:
        reasons.append(
            _("количество «%(qty)s»: укажите число, например 5 или >10") % {"qty": values["qty"]}
        )
    days = None
    try:
        days = _days(values["delivery_days"])
    except ValueError:
        reasons.append(
            _("срок поставки «%(days)s»: укажите число дней или диапазон 3-5")
            % {"days": values["delivery_days"]}
        )
    warranty = None
    if values.get("warranty_months"):
        warranty = as_int(values["warranty_months"])
        if warranty is None or not 0 <= warranty <= 120:
            reasons.append(
                _("гарантия «%(months)s»: укажите число месяцев")
                % {"months": values["warranty_months"]}
            )
    multiple = 1
    if values.get("multiple"):
        multiple = as_int(values["multiple"]) or 0
        if multiple < 1:
            reasons.append(
                _("кратность «%(multiple)s»: укажите целое число от 1")
                % {"multiple": values["multiple"]}
            )
    if reasons or price is None or days is None:
        return None, reasons
    return (
        PriceRow(
            brand=brand,
            number=number,
            name=" ".join(values.get("name", "").split()),
            price_rub=price,
            qty=qty,
            qty_min=qty_min,
            delivery_days_min=days[0],
            delivery_days_max=days[1],
            warehouse=" ".join(values.get("warehouse", "").split()),
            warranty_months=warranty,
            multiple=multiple,
            row_number=row_number,
        ),
        [],
    )


_LOWER_BOUND = re.compile(r"^(?:>|более|больше|от)\s*(\d+)$|^(\d+)\s*\+$", re.IGNORECASE)


def _quantity(text: str) -> tuple[int | None, int]:
    text = text.strip()
    if not text:
        return None, 0
    exact = as_int(text.replace(",", "."))
    if exact is not None:
        if exact < 0:
            raise ValueError(text)
        return exact, exact
    match = _LOWER_BOUND.match(text)
    if not match:
        raise ValueError(text)
    return None, int(match.group(1) or match.group(2))


def _days(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,3})\s*(?:[-–—]\s*(\d{1,3})\s*)?", text)
    if not match:
        raise ValueError(text)
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if high < low:
        raise ValueError(text)
    return low, high


# --- reading the file -------------------------------------------------------------------------


class _FileProblem(Exception):
    pass


def _read_table(file_bytes: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    name = filename.lower()
    if name.endswith(".xls"):
        raise _FileProblem(_("Формат XLS не поддерживается: сохраните файл как XLSX или CSV"))
    if name.endswith((".xlsx", ".xlsm")) or file_bytes[:4] == b"PK\x03\x04":
        return _read_xlsx(file_bytes)
    return _read_csv(file_bytes)


def _read_csv(file_bytes: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = file_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = file_bytes.decode("cp1251")
        except UnicodeDecodeError:
            raise _FileProblem(_("Кодировка файла не UTF-8 и не Windows-1251")) from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first_line.count(sep) for sep in (";", "\t", ",")}
    delimiter = max(counts, key=lambda sep: counts[sep])
    if not counts[delimiter]:
        raise _FileProblem(_("Не удалось разделить столбцы: нужен CSV с «;», «,» или табуляцией"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(index, cells) for index, cells in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise _FileProblem(_("CSV не читается: %(error)s") % {"error": exc}) from None


def _read_xlsx(file_bytes: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # only for XLSX uploads

    try:
        workbook = load_workbook(io.BytesIO(file_bytes), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return [
                (index, list(cells))
                for index, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            workbook.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, TypeError):
        raise _FileProblem(_("Файл XLSX повреждён или это не таблица Excel")) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 8450006950 as 8450006950.0
    return str(value).strip()


# --- the adapter ------------------------------------------------------------------------------


@register
class PriceListAdapter(SupplierAdapter):
    """credentials: {"rows": [PriceRow | dict, ...]} — the supplier's imported price list."""

    kind = "pricelist"

    def _collect(self, run: SearchRun) -> None:
        matches: list[PriceRow] = []
        for item in self.credentials.get("rows") or []:
            try:
                row = item if isinstance(item, PriceRow) else PriceRow.from_dict(item)
            except (KeyError, TypeError, ValueError, AttributeError):
                run.rows_seen += 1
                run.skipped_rows += 1
                continue
            if row.number_key == run.number_key:
                matches.append(row)
        run.rows_seen += len(matches)
        if not matches:
            return
        # The requested part is the carmaker's when the list has it; other brands under the
        # same number are crosses.
        brands = [canonical_brand(row.brand) for row in matches]
        requested = next((b for b in brands if quality_for_brand(b) == "original"), brands[0])
        for row, brand in zip(matches, brands, strict=True):
            try:
                run.add(
                    Offer(
                        supplier=self.supplier_id,
                        brand_raw=row.brand,
                        number_raw=row.number,
                        brand=brand,
                        number_key=row.number_key,
                        name=row.name,
                        is_cross=brand != requested,
                        quality=quality_for_brand(brand),
                        price_rub=row.price_rub,
                        currency_raw="RUB",
                        qty=row.qty,
                        qty_min=row.qty_min,
                        qty_on_order=False,
                        multiple=row.multiple,
                        delivery_days_min=row.delivery_days_min,
                        delivery_days_max=row.delivery_days_max,
                        delivery_probability=None,
                        warehouse_id=row.warehouse,
                        warehouse_name=row.warehouse,
                        own_stock=None,
                        returnable=None,
                        warranty_months=row.warranty_months,
                        order_ref={
                            "brand": row.brand,
                            "number": row.number,
                            "warehouse": row.warehouse,
                        },
                        fetched_at=run.fetched_at,
                    )
                )
            except ValueError:
                run.skipped_rows += 1

    def _secrets(self) -> list[str]:
        return []  # rows are not secrets, and scrubbing them would be slow
