"""The backup and the restore drill on a small shop: a lead with photos, a sealed intake record
and an estimate are backed up (pg_dump + the stored files + the seal log), restored into a new
PostgreSQL database and a new media folder, and verified (rows per table, every file's
SHA-256, verify_intake). A backup tampered with (a file changed, a row count off) fails the
verification, naming what differs.

The test commits its data (pg_dump reads it from another connection), hence transaction=True.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from autoservice import backup
from tests.concurrency import restore_reference_data
from tests.factories import EstimateFactory, LeadFactory, LeadPhotoFactory, MembershipFactory
from tests.s3 import bucket_objects, stored_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def _url(name: str) -> str:
    conf = connection.settings_dict
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{name}"


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database per call (createdb), dropped after the test."""
    made: list[str] = []
    env = backup._pg_env(connection.settings_dict)

    def make() -> str:
        name = f"{connection.settings_dict['NAME']}_drill_{uuid.uuid4().hex[:8]}"
        subprocess.run(["createdb", "--no-password", name], env=env, check=True)
        made.append(name)
        return _url(name)

    yield make
    for name in made:
        subprocess.run(
            ["dropdb", "--no-password", "--if-exists", "--force", name], env=env, check=False
        )


@pytest.fixture
def small_shop(shop):
    """A lead with two photos, a sealed intake record and an estimate, all committed."""
    from tests.intake.test_sealing import sealed_record

    restore_reference_data(calculator=True)
    importlib.import_module("intake.migrations.0002_default_templates").create(django_apps, None)
    advisor = MembershipFactory(shop=shop)
    lead = LeadFactory(shop=shop)
    photos = [LeadPhotoFactory(lead=lead), LeadPhotoFactory(lead=lead)]
    record = sealed_record(shop, advisor)
    estimate = EstimateFactory(shop=shop)
    return {"lead": lead, "photos": photos, "record": record, "estimate": estimate}


def _check(source: Path, url: str, media_root: Path, seal_log: Path):
    """restore_check as an operator runs it: its own process, pointed at the restored copy."""
    env = dict(
        os.environ,
        DATABASE_URL=url,
        STORAGE="local",
        MEDIA_ROOT=str(media_root),
        INTAKE_SEAL_LOG=str(seal_log),
    )
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "restore_check"]
        + ["--from", str(source)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_backup_restores_into_a_new_database_and_folder_and_verifies(
    small_shop, fresh_database, tmp_path
):
    target = tmp_path / "backup"
    call_command("backup", to=str(target), stdout=StringIO())

    assert target.stat().st_mode & 0o777 == 0o700
    meta = json.loads((target / "backup.json").read_text())
    manifest = {
        entry["path"]: entry for entry in json.loads((target / "manifest.json").read_text())
    }
    assert meta["counts"]["leads_lead"] == 1
    assert meta["counts"]["leads_leadphoto"] == 2
    assert meta["counts"]["intake_intakerecord"] == 1
    assert meta["counts"]["smartcalc_estimate"] == 1
    assert meta["data_version"]["intake"] and meta["seal_log"]["size"] > 0
    record = small_shop["record"]
    shots = [shot.file.name for shot in record.shots.all()]
    expected_files = {record.customer_signature.name, record.advisor_signature.name, *shots}
    for photo in small_shop["photos"]:
        expected_files |= {photo.original.name, photo.web.name, photo.thumb.name}
    assert expected_files <= set(manifest), expected_files - set(manifest)
    assert meta["missing_files"] == []
    one = small_shop["photos"][0].original.name
    assert (target / "files" / one).read_bytes() == stored_bytes(one)

    url = fresh_database()
    restored = tmp_path / "restored"
    out = StringIO()
    call_command(
        "restore",
        source=str(target),
        database_url=url,
        media_root=str(restored / "media"),
        stdout=out,
    )
    report = out.getvalue()
    assert "без расхождений" in report and "verify_intake пройден" in report, report
    assert (restored / "media" / one).read_bytes() == (target / "files" / one).read_bytes()
    assert (restored / "intake-seal-log.txt").read_bytes() == Path(
        settings.INTAKE_SEAL_LOG
    ).read_bytes()

    # A row count off in backup.json: the check names the table.
    counted_off = tmp_path / "counted-off"
    shutil.copytree(target, counted_off)
    meta["counts"]["leads_lead"] = 2
    (counted_off / "backup.json").write_text(json.dumps(meta))
    done = _check(counted_off, url, restored / "media", restored / "intake-seal-log.txt")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Таблица leads_lead: в копии строк 2, в восстановленной базе 1." in done.stdout

    # The restored database is no longer empty: restoring into it again is refused.
    with pytest.raises(CommandError, match="не пуста"):
        call_command(
            "restore",
            source=str(target),
            database_url=url,
            media_root=str(tmp_path / "other" / "media"),
            stdout=StringIO(),
        )


def test_backup_with_a_changed_file_fails_the_restore_check_naming_the_file(
    small_shop, fresh_database, tmp_path
):
    target = tmp_path / "backup"
    call_command("backup", to=str(target), stdout=StringIO())
    photo = small_shop["photos"][1].web.name
    (target / "files" / photo).write_bytes(b"not the photo that was backed up")

    with pytest.raises(CommandError) as failed:
        call_command(
            "restore",
            source=str(target),
            database_url=fresh_database(),
            media_root=str(tmp_path / "restored" / "media"),
            stdout=StringIO(),
        )

    assert failed.value.returncode == 1
    assert f"Файл {photo}: SHA-256 не совпадает с описью копии" in str(failed.value)


def test_changed_intake_shot_fails_verify_intake_in_the_drill(small_shop, fresh_database, tmp_path):
    """A shot file changed in the backup shows twice: against the manifest and as a sealed
    record whose photo no longer matches its seal."""
    target = tmp_path / "backup"
    call_command("backup", to=str(target), stdout=StringIO())
    shot = small_shop["record"].shots.order_by("id").first()
    (target / "files" / shot.file.name).write_bytes(b"another photo")
    url = fresh_database()
    out = StringIO()

    with pytest.raises(CommandError):
        call_command(
            "restore",
            source=str(target),
            database_url=url,
            media_root=str(tmp_path / "restored" / "media"),
            stdout=out,
        )

    report = out.getvalue()
    assert "verify_intake: Найдены изменения в опечатанных актах приёмки" in report, report
    assert f"Файл кадра «{shot.spec.name}» изменён" in report, report


def test_drill_creates_the_database_verifies_and_drops_it_again(small_shop, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", to=str(target), stdout=StringIO())
    name = f"{connection.settings_dict['NAME']}_drill_{uuid.uuid4().hex[:8]}"
    out = StringIO()

    call_command(
        "restore",
        source=str(target),
        database_url=_url(name),
        media_root=str(tmp_path / "drill" / "media"),
        drill=True,
        stdout=out,
    )

    assert "verify_intake пройден" in out.getvalue(), out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        assert cursor.fetchone()[0] == 0
    assert not (tmp_path / "drill" / "media").exists()


def test_drill_restores_the_files_into_a_new_bucket_verifies_and_drops_it(s3, small_shop, tmp_path):
    """With object storage the drill restores into a bucket of its own on the same service
    (the loopback S3 server here), verifies every file's SHA-256 there, and removes the
    bucket again; the shop's own bucket is untouched."""
    from autoservice import storage

    target = tmp_path / "backup"
    call_command("backup", to=str(target), stdout=StringIO())
    manifest = json.loads((target / "manifest.json").read_text())
    assert len(manifest) >= 6 and not list((tmp_path / "media").rglob("*.jpg"))
    own_objects = bucket_objects(s3)
    drill_bucket = f"drill-{uuid.uuid4().hex[:12]}"
    name = f"{connection.settings_dict['NAME']}_drill_{uuid.uuid4().hex[:8]}"
    out = StringIO()

    call_command(
        "restore",
        source=str(target),
        database_url=_url(name),
        bucket=drill_bucket,
        seal_log=str(tmp_path / "drill" / "intake-seal-log.txt"),
        drill=True,
        stdout=out,
    )

    report = out.getvalue()
    assert f"бакет {drill_bucket}" in report and "без расхождений" in report, report
    assert "verify_intake пройден" in report, report
    client = storage.bucket_storage(s3).connection.meta.client
    assert drill_bucket not in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]
    with pytest.raises(storage.StorageUnavailable):
        bucket_objects(drill_bucket)
    assert bucket_objects(s3) == own_objects


def test_restore_into_a_bucket_that_is_not_empty_is_refused_and_keeps_its_files(s3, tmp_path, db):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    source = tmp_path / "backup"
    source.mkdir()
    (source / "db.dump").write_bytes(b"PGDMP")
    (source / "backup.json").write_text(
        json.dumps(
            {
                "format": backup.FORMAT_VERSION,
                "db_dump_sha256": hashlib.sha256(b"PGDMP").hexdigest(),
            }
        )
    )
    default_storage.save("leads/1/photo.orig", ContentFile(b"a shop's photo"))

    restore = {
        "source": str(source),
        "database_url": _url(f"{connection.settings_dict['NAME']}_drill_never"),
        "bucket": s3,
        "seal_log": str(tmp_path / "r" / "intake-seal-log.txt"),
        "stdout": StringIO(),
    }

    # The drill makes its own bucket: an existing one is refused, and never emptied.
    with pytest.raises(CommandError, match=f"Бакет {s3} создать не удалось"):
        call_command("restore", drill=True, **restore)
    assert bucket_objects(s3) == ["leads/1/photo.orig"]
    with pytest.raises(CommandError, match=f"Бакет {s3} не пуст"):
        call_command("restore", **restore)
    assert bucket_objects(s3) == ["leads/1/photo.orig"]
    assert stored_bytes("leads/1/photo.orig") == b"a shop's photo"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s",
            [f"{connection.settings_dict['NAME']}_drill_never"],
        )
        assert cursor.fetchone()[0] == 0


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path, db):
    (tmp_path / "old.txt").write_text("копия за вчера")
    with pytest.raises(CommandError, match="не пуста"):
        call_command("backup", to=str(tmp_path))
    assert (tmp_path / "old.txt").read_text() == "копия за вчера"


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path, db):
    with pytest.raises(CommandError, match="нет резервной копии"):
        call_command(
            "restore",
            source=str(tmp_path),
            database_url=_url("whatever"),
            media_root=str(tmp_path / "media"),
        )


def test_drill_into_existing_folder_or_database_refuses_and_removes_nothing(tmp_path, db):
    source = tmp_path / "backup"
    source.mkdir()
    (source / "db.dump").write_bytes(b"PGDMP")
    dump_sha256 = hashlib.sha256(b"PGDMP").hexdigest()
    (source / "backup.json").write_text(
        json.dumps({"format": backup.FORMAT_VERSION, "db_dump_sha256": dump_sha256})
    )
    media = tmp_path / "restore-target"
    media.mkdir()
    (media / "photo.jpg").write_bytes(b"a shop's photo")

    with pytest.raises(CommandError, match="не пуста"):
        call_command(
            "restore",
            source=str(source),
            database_url=_url(f"{connection.settings_dict['NAME']}_drill_never"),
            media_root=str(media),
            drill=True,
        )
    assert (media / "photo.jpg").read_bytes() == b"a shop's photo"

    # The database exists (it is this test's): the drill does not create it, so never drops it.
    with pytest.raises(CommandError, match="создать не удалось"):
        call_command(
            "restore",
            source=str(source),
            database_url=_url(connection.settings_dict["NAME"]),
            media_root=str(tmp_path / "new" / "media"),
            drill=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_restore_refuses_a_dump_that_is_not_the_one_backed_up(tmp_path, db):
    source = tmp_path / "backup"
    source.mkdir()
    (source / "db.dump").write_bytes(b"PGDMP swapped")
    (source / "backup.json").write_text(
        json.dumps({"format": backup.FORMAT_VERSION, "db_dump_sha256": "0" * 64})
    )
    name = f"{connection.settings_dict['NAME']}_drill_never"

    with pytest.raises(CommandError, match="db.dump .* не совпадает с записанным в backup.json"):
        call_command(
            "restore",
            source=str(source),
            database_url=_url(name),
            media_root=str(tmp_path / "media"),
            drill=True,
        )

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        assert cursor.fetchone()[0] == 0
