"""Cells of the CSV and XLSX files the product hands out, made safe to open in Excel.

A text cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
programs skip before reading a formula) is run as a formula by a spreadsheet: an OEM number
typed as `=HYPERLINK(...)` would act when the manager opens the export. Such a cell is
written with a leading apostrophe, which spreadsheets show as text and hide; the importers
take the apostrophe off again, so an exported file imports as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

__all__ = ["FORMULA_STARTS", "cell_safe", "cell_unescape", "row_safe"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = TypeVar("Cell")


def cell_safe(value: Cell) -> Cell | str:
    """`value` as a spreadsheet shows it as text; numbers and non-text stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row_safe(row: Iterable[Cell]) -> list[Cell | str]:
    return [cell_safe(value) for value in row]


def cell_unescape(value: str) -> str:
    """A cell read back from a file: the apostrophe `cell_safe` added is taken off."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
