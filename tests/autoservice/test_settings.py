"""Production mode: missing secrets stop the process; `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    unset = ("SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS", "INTAKE_SEAL_KEYS")
    base = {k: v for k, v in os.environ.items() if k not in unset}
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
    "FIELD_ENCRYPTION_KEYS": "JV4XGlqwFHDmNk6i7jxe6yP6EoUv4z7Nr0v8-3tTzGg=",
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


def test_missing_encryption_keys_refuse_to_start_naming_them():
    env = {**PRODUCTION}
    env.pop("FIELD_ENCRYPTION_KEYS")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_malformed_encryption_key_is_refused_naming_the_variable():
    good = PRODUCTION["FIELD_ENCRYPTION_KEYS"]
    result = _manage("check", env={**PRODUCTION, "FIELD_ENCRYPTION_KEYS": f"{good},not-a-key"})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "FIELD_ENCRYPTION_KEYS" in output and "№2" in output


def test_missing_database_url_refuses_to_start_in_production():
    env = {**PRODUCTION, "DATABASE_URL": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_nonsense_boolean_is_refused():
    result = _manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_unset_debug_means_production():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    env["DEBUG"] = ""  # as if the deployment never set it
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr  # production's checks ran

    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env={**PRODUCTION, "DEBUG": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("False")


def test_the_built_in_development_key_never_signs_in_production():
    from django.conf import settings

    for key in (settings.DEVELOPMENT_SECRET_KEY, "short-but-own-key"):
        result = _manage("check", env={**PRODUCTION, "SECRET_KEY": key})
        assert result.returncode != 0, key
        assert "SECRET_KEY" in result.stderr


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


def test_a_seal_log_in_a_bucket_needs_an_s3_key_and_a_bucket_name():
    bucket_log = {
        **PRODUCTION,
        "STORAGE": "local",
        "INTAKE_SEAL_LOG": "s3://sto-seal-log/intake-seals",
        "S3_ACCESS_KEY_ID": "",
        "S3_SECRET_ACCESS_KEY": "",
        "INTAKE_SEAL_LOG_S3_ACCESS_KEY_ID": "",
        "INTAKE_SEAL_LOG_S3_SECRET_ACCESS_KEY": "",
    }
    result = _manage("check", env=bucket_log)
    assert result.returncode != 0
    assert "S3_ACCESS_KEY_ID" in result.stderr

    with_key = {
        **bucket_log,
        "INTAKE_SEAL_LOG_S3_ACCESS_KEY_ID": "seal-log-key",
        "INTAKE_SEAL_LOG_S3_SECRET_ACCESS_KEY": "seal-log-secret",
    }
    assert _manage("check", env=with_key).returncode == 0
    result = _manage("check", env={**with_key, "INTAKE_SEAL_LOG": "s3:///intake-seals"})
    assert result.returncode != 0
    assert "INTAKE_SEAL_LOG" in result.stderr
