"""Dependencies point one way: autoservice <- leads <- photoportal / smartcalc. An app reaches
another only through its public modules, and the two driver apps never reach each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("autoservice", "leads", "photoportal", "smartcalc", "optima", "intake")
# What an app may import from another: its services, selectors and models, and the modules
# that exist to be shared (leads.forms: the driver's form pieces; leads.panels: the hook
# that puts an app's section on the lead page). autoservice's modules are the shared
# building blocks of every app (consent, embedding, phones, money, tenancy…).
PUBLIC = {"services", "selectors", "models"}
PUBLIC_EXTRA = {"leads": {"forms", "panels"}}
MAY_USE = {
    "leads": {"autoservice"},
    "photoportal": {"autoservice", "leads"},
    "smartcalc": {"autoservice", "leads"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every first-party module a file imports, as dotted names (`from x import y` gives
    x.y too, since y may be a module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if "." in node.module:
                found.append((node.lineno, node.module))
            else:
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] in APPS]


def _sources(app: str) -> list[Path]:
    # Not migrations, nor the short-lived `<template>.html.py` files makemessages (run by
    # tests/autoservice/test_translations.py, maybe on the other xdist worker) leaves.
    return [
        p
        for p in (ROOT / app).rglob("*.py")
        if "migrations" not in p.parts and "templates" not in p.parts
    ]


@pytest.mark.parametrize("app", sorted(MAY_USE))
def test_app_reaches_other_apps_only_through_their_public_modules(app):
    wrong = []
    for path in _sources(app):
        for line, name in _imports(path):
            other, *rest = name.split(".")
            if other == app:
                continue
            where = f"{path.relative_to(ROOT)}:{line} imports {name}"
            if other not in MAY_USE[app]:
                wrong.append(f"{where} (an app {app} must not know)")
            elif other != "autoservice" and rest[0] not in PUBLIC | PUBLIC_EXTRA.get(other, set()):
                wrong.append(f"{where} (not a public module of {other})")
    assert wrong == []
