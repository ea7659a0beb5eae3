"""Backups of the whole front desk and the drill that proves one restores.

A backup is a folder:

    backup.json       when, the app's commit, the data version (last migration of each app),
                      rows per table, the seal log's size and SHA-256
    db.dump           pg_dump --format=custom of the database
    manifest.json     every stored file a FileField in the dump names: path, size, SHA-256
    files/<path>      those files, read through the storage API (so S3 works the same)
    intake-seal-log.txt   the intake seal log as it was when the dump's snapshot was taken
                      (a log in a bucket, INTAKE_SEAL_LOG=s3://..., as the file of its lines:
                      its objects in the order published)

Consistency: one REPEATABLE READ transaction exports its snapshot; pg_dump dumps exactly that
snapshot (--snapshot), and the row counts and the list of referenced files are read in the
same transaction. Files are copied afterwards: a file changed after the snapshot is copied as
it is then (the manifest has its hash as copied). The seal log is cut at its size right after
the snapshot: every seal committed before the snapshot was published before its commit, so it
is inside; a seal being committed at that very moment may be published without its record
(the drill then reports it, and a second backup is clean). A log in a bucket is listed
right after the snapshot, with the same consequence.

Not in a backup: the secrets. FIELD_ENCRYPTION_KEYS (encrypted fields are unreadable without
them), INTAKE_SEAL_KEYS (seals cannot be verified without them) and SECRET_KEY are kept
separately, as the README says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connection, models, transaction
from django.utils import timezone

from autoservice import objectlog, storage

FORMAT_VERSION = 1
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or a restore that cannot go on; the message is for the operator, in Russian."""


@dataclass
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int
    missing: list[str] = field(default_factory=list)


def _pg_env(conf: dict) -> dict[str, str]:
    """libpq's variables for a Django database entry: the password never on a command line."""
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        value = conf.get(key)
        if value:
            env[var] = str(value)
    return env


def _is_postgres(conf: dict) -> bool:
    return "postgresql" in conf.get("ENGINE", "")


def file_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) of a concrete model whose field stores a file."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for one in model._meta.concrete_fields:
            if isinstance(one, models.FileField):
                found.append((model, one.name))
    return found


def _tables() -> list[str]:
    names = {model._meta.db_table for model in apps.get_models() if model._meta.managed}
    names |= {
        one.remote_field.through._meta.db_table
        for model in apps.get_models()
        for one in model._meta.local_many_to_many
    }
    return sorted(name for name in names if name in connection.introspection.table_names())


def table_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def data_version() -> dict[str, str]:
    """The newest applied migration of each app: the schema the dump has."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
        latest: dict[str, str] = {}
        for app, name in cursor.fetchall():
            latest[app] = name
    return latest


def referenced_files() -> list[str]:
    names: set[str] = set()
    for model, name in file_fields():
        values = model._base_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
        names.update(values.values_list(name, flat=True))
    return sorted(names)


def sha256_of(storage: Storage, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with storage.open(name, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup_create(*, to: Path) -> BackupResult:
    conf = connection.settings_dict
    if not _is_postgres(conf):
        raise BackupError(
            "Резервная копия делается только с PostgreSQL (DATABASE_URL=postgres://...). "
            "Базу SQLite из разработки копируйте как файл, остановив сервер."
        )
    to = Path(to)
    if to.exists() and any(to.iterdir()):
        raise BackupError(f"Папка {to} не пуста: укажите новую папку для копии.")
    # Drivers' photos and personal data: readable by the backup's owner only.
    to.mkdir(mode=0o700, parents=True, exist_ok=True)
    to.chmod(0o700)
    (to / "files").mkdir(exist_ok=True)
    seal_address = objectlog.parse(settings.INTAKE_SEAL_LOG)
    seal_log = Path(settings.INTAKE_SEAL_LOG)
    seal_text: bytes | None = None
    connection.ensure_connection()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        if seal_address is not None:
            seal_log_bytes = None
            try:
                seal_text = objectlog.text(seal_address, options=settings.INTAKE_SEAL_LOG_S3)
            except storage.StorageUnavailable as exc:
                raise BackupError(f"Журнал печатей {seal_address} не читается: {exc}") from None
        else:
            seal_log_bytes = seal_log.stat().st_size if seal_log.exists() else None
        started = timezone.now()
        dumped = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={to / 'db.dump'}",
            ],
            env=_pg_env(conf),
            capture_output=True,
            text=True,
            check=False,
        )
        if dumped.returncode != 0:
            raise BackupError(f"pg_dump не сработал: {dumped.stderr.strip()}")
        counts = table_counts()
        version = data_version()
        names = referenced_files()
    manifest, missing = [], []
    for name in names:
        if not default_storage.exists(name):
            missing.append(name)
            continue
        target = to / "files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with default_storage.open(name, "rb") as source, target.open("wb") as out:
            for chunk in iter(lambda source=source: source.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        manifest.append({"path": name, "size": size, "sha256": digest.hexdigest()})
    seal_copy = None
    if seal_text is not None:
        (to / "intake-seal-log.txt").write_bytes(seal_text)
        seal_copy = {"size": len(seal_text), "sha256": hashlib.sha256(seal_text).hexdigest()}
    if seal_log_bytes is not None:
        with seal_log.open("rb") as source, (to / "intake-seal-log.txt").open("wb") as out:
            out.write(source.read(seal_log_bytes))
        seal_copy = {
            "size": seal_log_bytes,
            "sha256": _file_sha256(to / "intake-seal-log.txt"),
        }
    (to / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    meta = {
        "format": FORMAT_VERSION,
        "created_at": started.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "finished_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "data_version": version,
        "counts": counts,
        "files": len(manifest),
        "missing_files": missing,
        "seal_log": seal_copy,
        "db_dump_sha256": _file_sha256(to / "db.dump"),
    }
    (to / "backup.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return BackupResult(
        path=to,
        tables=len(counts),
        rows=sum(counts.values()),
        files=len(manifest),
        missing=missing,
    )


def read_backup(path: Path) -> dict:
    path = Path(path)
    meta_path = path / "backup.json"
    if not meta_path.exists() or not (path / "db.dump").exists():
        raise BackupError(f"В папке {path} нет резервной копии (backup.json и db.dump).")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BackupError(f"backup.json повреждён: {exc}") from exc
    if meta.get("format") != FORMAT_VERSION:
        raise BackupError(f"Неизвестный формат копии: {meta.get('format')!r}.")
    return meta


def dump_check(path: Path, meta: dict) -> None:
    """The dump is the one the backup wrote: a damaged or swapped dump is refused before
    anything is created."""
    expected = meta.get("db_dump_sha256")
    if not expected or _file_sha256(Path(path) / "db.dump") != expected:
        raise BackupError(
            f"db.dump в {path} не совпадает с записанным в backup.json (SHA-256): "
            "копия повреждена или подменена."
        )


def read_manifest(path: Path) -> list[dict]:
    try:
        return json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"manifest.json не читается: {exc}") from exc


def _database_conf(url: str) -> dict:
    try:
        conf = dj_database_url.parse(url)
    except ValueError as exc:
        raise BackupError(f"Адрес базы не распознан: {exc}") from exc
    if not _is_postgres(conf):
        raise BackupError("Восстановление идёт только в PostgreSQL (postgres://...).")
    return conf


def _psql(conf: dict, sql: str, *, database: str | None = None) -> subprocess.CompletedProcess:
    env = _pg_env(conf)
    if database:
        env["PGDATABASE"] = database
    return subprocess.run(
        ["psql", "--no-password", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def database_create(url: str) -> None:
    conf = _database_conf(url)
    done = _psql(conf, f'CREATE DATABASE "{conf["NAME"]}"', database="postgres")
    if done.returncode != 0:
        raise BackupError(f"Базу {conf['NAME']} создать не удалось: {done.stderr.strip()}")


def database_drop(url: str) -> None:
    conf = _database_conf(url)
    _psql(conf, f'DROP DATABASE IF EXISTS "{conf["NAME"]}" WITH (FORCE)', database="postgres")


def restore_storage(*, media_root: Path | None = None, bucket: str | None = None) -> Storage:
    """Where restored files go: a new bucket of the configured object storage (same service
    and keys, another bucket), or a local folder."""
    if bucket:
        if settings.STORAGE != "s3":
            raise BackupError("Восстановление в бакет — только с STORAGE=s3 и ключами S3_*.")
        return storage.bucket_storage(bucket)
    if media_root is None:
        raise BackupError("Укажите, куда восстановить файлы: --media-root или --bucket.")
    return FileSystemStorage(location=media_root)


def restore_targets_check(
    *, media_root: Path | None = None, seal_log: Path, bucket: str | None = None
) -> None:
    """Nothing restored may overwrite or mix with existing files."""
    if bucket:
        try:
            names = storage.bucket_names(bucket, limit=1)
        except storage.StorageUnavailable as exc:
            raise BackupError(
                f"Бакет {bucket} недоступен ({exc}). Создайте пустой бакет "
                "или запустите учения (--drill), они создают его сами."
            ) from None
        if names:
            raise BackupError(f"Бакет {bucket} не пуст: восстановление только в пустой.")
    elif media_root is not None and media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"Папка файлов {media_root} не пуста: восстановление только в пустую.")
    if seal_log.exists():
        raise BackupError(f"Журнал печатей {seal_log} уже есть: укажите новый путь.")


def backup_restore(
    *,
    source: Path,
    database_url: str,
    seal_log: Path,
    media_root: Path | None = None,
    bucket: str | None = None,
) -> dict:
    """Restore a backup into an empty database, an empty media folder (or an empty bucket of
    the configured object storage) and a new seal log."""
    meta = read_backup(source)
    dump_check(source, meta)
    manifest = read_manifest(source)
    conf = _database_conf(database_url)
    media_root = Path(media_root) if media_root is not None else None
    seal_log = Path(seal_log)
    target = restore_storage(media_root=media_root, bucket=bucket)
    restore_targets_check(media_root=media_root, seal_log=seal_log, bucket=bucket)
    probe = _psql(
        conf,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r','S','v','m') AND n.nspname NOT IN ('pg_catalog', "
        "'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
    )
    if probe.returncode != 0:
        raise BackupError(
            f"База {conf['NAME']} недоступна ({probe.stderr.strip()}). Создайте пустую базу "
            f"(createdb {conf['NAME']}) или запустите с --create-database."
        )
    if int(probe.stdout.strip() or 0):
        raise BackupError(
            f"База {conf['NAME']} не пуста: восстановление только в новую пустую базу."
        )
    restored = subprocess.run(
        [
            "pg_restore",
            "--no-password",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={conf['NAME']}",
            str(Path(source) / "db.dump"),
        ],
        env=_pg_env(conf),
        capture_output=True,
        text=True,
        check=False,
    )
    if restored.returncode != 0:
        raise BackupError(f"pg_restore не сработал: {restored.stderr.strip()}")
    for entry in manifest:
        name = entry["path"]
        try:
            storage.put(name, Path(source) / "files" / name, storage=target)
        except storage.StorageUnavailable as exc:
            raise BackupError(f"Файл {name} не записан в хранилище: {exc}") from None
    seal_log.parent.mkdir(parents=True, exist_ok=True)
    if (Path(source) / "intake-seal-log.txt").exists():
        shutil.copyfile(Path(source) / "intake-seal-log.txt", seal_log)
    return meta


def backup_check(*, source: Path) -> list[str]:
    """Compare the database, storage and seal log this process is configured with against
    the backup; every difference, in Russian. Run it with DATABASE_URL, MEDIA_ROOT (or
    S3_BUCKET) and INTAKE_SEAL_LOG pointing at the restored copy."""
    meta = read_backup(source)
    manifest = read_manifest(source)
    problems: list[str] = []
    version = data_version()
    if version != meta["data_version"]:
        changed = sorted(
            app
            for app in set(version) | set(meta["data_version"])
            if version.get(app) != meta["data_version"].get(app)
        )
        problems.append(
            "Версия данных не совпадает с копией (приложения: " + ", ".join(changed) + ")."
        )
    counts = table_counts()
    for table, expected in sorted(meta["counts"].items()):
        actual = counts.get(table)
        if actual is None:
            problems.append(f"Таблицы {table} нет в восстановленной базе.")
        elif actual != expected:
            problems.append(
                f"Таблица {table}: в копии строк {expected}, в восстановленной базе {actual}."
            )
    listed = set()
    for entry in manifest:
        name = entry["path"]
        listed.add(name)
        if not default_storage.exists(name):
            problems.append(f"Файл {name} из описи не восстановлен.")
            continue
        digest, size = sha256_of(default_storage, name)
        if digest != entry["sha256"] or size != entry["size"]:
            problems.append(
                f"Файл {name}: SHA-256 не совпадает с описью копии (файл изменён или повреждён)."
            )
    missing_at_backup = set(meta.get("missing_files", []))
    for name in referenced_files():
        if name not in listed and name not in missing_at_backup:
            problems.append(f"Файл {name} упомянут в базе, но его нет в описи копии.")
    expected_log = meta.get("seal_log")
    address = objectlog.parse(settings.INTAKE_SEAL_LOG)
    log = Path(settings.INTAKE_SEAL_LOG)
    if expected_log:
        if address is not None:
            text = objectlog.text(address, options=settings.INTAKE_SEAL_LOG_S3)
            actual = hashlib.sha256(text).hexdigest() if text is not None else None
        else:
            actual = _file_sha256(log) if log.exists() else None
        if actual != expected_log["sha256"]:
            problems.append(f"Журнал печатей {address or log} не совпадает с копией.")
    return problems
