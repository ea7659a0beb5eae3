"""Production mode: missing secrets stop the process; `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "INTAKE_SEAL_KEYS")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-for-the-deploy-check-" + "q8Zx" * 12,
    "ALLOWED_HOSTS": "sto.example.ru",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "INTAKE_SEAL_KEYS": "2026a:" + "s3al" * 12,
}


def test_check_deploy_is_clean_in_production_mode():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_refuses_to_start_naming_it():
    env = {**PRODUCTION}
    env.pop("SECRET_KEY")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_missing_database_url_refuses_to_start_in_production():
    env = {**PRODUCTION, "DATABASE_URL": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_nonsense_boolean_is_refused():
    result = _manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_missing_intake_seal_keys_refuses_to_start_in_production_naming_them():
    env = {**PRODUCTION}
    env.pop("INTAKE_SEAL_KEYS")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "INTAKE_SEAL_KEYS" in result.stderr


def test_a_short_intake_seal_secret_is_refused():
    result = _manage("check", env={**PRODUCTION, "INTAKE_SEAL_KEYS": "2026a:short"})
    assert result.returncode != 0
    assert "INTAKE_SEAL_KEYS" in result.stderr
