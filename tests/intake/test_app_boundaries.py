"""Dependencies point one way: autoservice <- leads <- photoportal/smartcalc <- optima/intake.

Vehicle intake reaches another app only through that app's services, selectors and models;
autoservice knows no other app (its root URLconf aside, which wires them all); and nobody
imports a private (_underscore) name of intake or autoservice from another module.
Read from the source, so a new import that breaks the rule fails here, not in review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("autoservice", "leads", "photoportal", "smartcalc", "optima", "intake")
PUBLIC_FACES = {"services", "selectors", "models"}


def _sources(folder):
    # makemessages (tests/autoservice/test_translations.py, maybe on the other xdist worker)
    # leaves short-lived `<template>.html.py` files under templates/: they are not code.
    return (p for p in folder.rglob("*.py") if "templates" not in p.parts)


def _modules(app: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(_sources(ROOT / app)):
        if "migrations" not in path.parts:
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def _imports(module: str, path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, imported names, line) of every import, relative ones resolved."""
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names = [alias.name for alias in node.names]
            # "from smartcalc import selectors" reaches smartcalc.selectors.
            if target in APPS and all(name in PUBLIC_FACES for name in names):
                for name in names:
                    yield f"{target}.{name}", [], node.lineno
            else:
                yield target, names, node.lineno


def test_intake_reaches_other_apps_only_through_services_selectors_and_models():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in _modules("intake")
        for target, _names, line in _imports(module, path)
        if target.split(".")[0] in APPS
        and target.split(".")[0] not in ("intake", "autoservice")
        and (len(target.split(".")) < 2 or target.split(".")[1] not in PUBLIC_FACES)
    ]
    assert not wrong, wrong


def test_autoservice_knows_no_other_app():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in _modules("autoservice")
        if module != "autoservice.urls"
        for target, _names, line in _imports(module, path)
        if target.split(".")[0] in APPS and target.split(".")[0] != "autoservice"
    ]
    assert not wrong, wrong


def test_no_private_name_of_intake_or_autoservice_is_imported_elsewhere():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name} from {target}"
        for app in APPS
        for module, path in _modules(app)
        for target, names, line in _imports(module, path)
        if target.split(".")[0] in ("intake", "autoservice") and target != module
        for name in names
        if name.startswith("_") and name != "__version__"
    ]
    assert not wrong, wrong


def test_the_check_sees_a_private_import_and_a_back_door(tmp_path):
    """The rules above must be able to fail."""
    module = tmp_path / "intake" / "probe.py"
    module.parent.mkdir()
    module.write_text(
        "from autoservice.images import _fit\n"
        "from smartcalc.parts import PARTS\n"
        "from smartcalc import selectors\n"
        "from . import quality\n"
    )

    found = list(_imports("intake.probe", module))

    assert ("autoservice.images", ["_fit"], 1) in found
    assert ("smartcalc.parts", ["PARTS"], 2) in found
    assert ("smartcalc.selectors", [], 3) in found
    assert ("intake.quality", [], 4) not in found and ("intake", ["quality"], 4) in found
