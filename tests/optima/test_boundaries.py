"""The parts app keeps to the design's boundaries: its views only read and call services, and
it reaches the other apps only through what they offer (services, selectors, models and the
public building blocks of autoservice)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

OPTIMA = Path(__file__).resolve().parents[2] / "optima"
WRITES = {"save", "delete", "create", "get_or_create", "update_or_create", "bulk_create", "update"}
OTHER_APPS = {"autoservice", "leads", "smartcalc", "photoportal", "intake"}
# What another app offers to the rest: its services, selectors and models, and the shared
# building blocks autoservice holds for every app (plus the lead page's panel registry and
# the calculator's part price providers).
OFFERED = {
    *(f"{app}.{module}" for app in OTHER_APPS for module in ("services", "selectors", "models")),
    "autoservice.consent",
    "autoservice.crypto",
    "autoservice.decimals",
    "autoservice.events",
    "autoservice.metrics",
    "autoservice.mail",
    "autoservice.money",
    "autoservice.outbound",
    "autoservice.outbox",
    "autoservice.pagecache",  # the drivers' pages from the shared cache
    "autoservice.params",  # every number a page reads goes through it (README "Bad input")
    "autoservice.personal_data",
    "autoservice.tenancy",
    "leads.panels",
    "smartcalc.part_prices",
}
# Apps that come after optima (or beside it) are never imported by it.
NEVER = {"intake", "photoportal"}


def _python_files() -> list[Path]:
    # Not migrations, nor the short-lived `<template>.html.py` files of makemessages.
    return sorted(
        p
        for p in OPTIMA.rglob("*.py")
        if "migrations" not in p.parts and "templates" not in p.parts
    )


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names = [alias.name for alias in node.names]
            if module in {"autoservice", "leads", "smartcalc", "intake"}:
                # `from autoservice import events`: the modules named are what is imported.
                found += [(node.lineno, f"{module}.{name}", []) for name in names]
            else:
                found.append((node.lineno, module, names))
    return found


def test_views_write_nothing_themselves():
    tree = ast.parse((OPTIMA / "views.py").read_text(encoding="utf-8"))
    writes = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITES:
            continue
        # A form may build its rows (commit=False) for a service to save.
        builds_only = any(
            k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in node.keywords
        )
        if not builds_only:
            writes.append(f"views.py:{node.lineno} .{node.func.attr}()")
    assert writes == []


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(OPTIMA)))
def test_other_apps_are_reached_only_through_what_they_offer(path):
    wrong = []
    for line, module, names in _imports(path):
        app = module.split(".")[0]
        if app not in OTHER_APPS:
            continue
        private = [name for name in names if name.startswith("_")]
        if app in NEVER or module not in OFFERED or private:
            wrong.append(f"{line}: {module} {private or ''}".strip())
    assert wrong == []


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(OPTIMA)))
def test_no_module_borrows_another_modules_private_helpers(path):
    borrowed = [
        f"{line}: {module} {name}"
        for line, module, names in _imports(path)
        for name in names
        if name.startswith("_") and module != "__future__"
    ]
    assert borrowed == []
