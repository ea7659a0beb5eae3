"""The deployment files stay true to the code: deploy/env.example lists every variable the
settings read, and the systemd units start every process of the Procfile through
bin/procfile-run (which the two-node test uses to start gunicorn)."""

from __future__ import annotations

import re
import subprocess

from django.conf import settings

from tests.nginxstack import DEPLOY
from tests.realstack import procfile_commands

ROOT = settings.BASE_DIR


def _listed(text: str) -> set[str]:
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, re.M))


def test_env_example_lists_every_variable_the_settings_read():
    source = (ROOT / "autoservice" / "settings.py").read_text()
    read = set(re.findall(r'(?:envstr|envbool|envint|envlist|required)\("([A-Z0-9_]+)"', source))
    assert len(read) > 40  # the pattern still finds them
    missing = read - _listed((DEPLOY / "env.example").read_text())
    assert not missing, f"not in deploy/env.example: {sorted(missing)}"


def _unit_processes() -> dict[str, str]:
    """Procfile process started by each unit (worker@.service by its instances in the target)."""
    started = {}
    target = (DEPLOY / "systemd" / "autoservice.target").read_text()
    for unit in (DEPLOY / "systemd").glob("*.service"):
        name = re.search(
            r"^ExecStart=/srv/autoservice/bin/procfile-run (\S+)$", unit.read_text(), re.M
        )
        assert name, f"{unit.name} does not start a Procfile process"
        if "%i" in name.group(1):
            for instance in re.findall(rf"{re.escape(unit.stem)}(\w+)\.service", target):
                started[name.group(1).replace("%i", instance)] = unit.name
        else:
            started[name.group(1)] = unit.name
            assert unit.name in target, f"{unit.name} is not part of autoservice.target"
    return started


def test_every_production_process_of_the_procfile_has_a_systemd_unit():
    production = {name for name in procfile_commands() if not name.startswith("supplier")}
    units = _unit_processes()
    assert production - set(units) == set()
    assert set(units) - production == set()
    assert "events" in production


def test_procfile_run_names_an_unknown_process_and_fails():
    result = subprocess.run(
        [str(ROOT / "bin" / "procfile-run"), "no_such_process"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "no_such_process" in result.stderr
