"""Restore a backup into a FRESH PostgreSQL database and an empty media folder, then verify it
(`restore_check` in a process of its own, configured for the restored copy).

`--drill` is the restore drill: it creates the database, restores, verifies, and drops the
database and the restored files again, whatever the outcome; only the report remains."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from autoservice import backup, storage


class Command(BaseCommand):
    help = (
        "Восстанавливает резервную копию в новую пустую базу и пустую папку файлов и "
        "проверяет её (restore_check)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, metavar="DIR")
        parser.add_argument("--database-url", required=True, metavar="URL")
        parser.add_argument("--media-root", metavar="PATH", help="папка файлов (STORAGE=local)")
        parser.add_argument(
            "--bucket",
            metavar="NAME",
            help="новый пустой бакет того же хранилища (STORAGE=s3); учения создают его сами",
        )
        parser.add_argument(
            "--seal-log",
            metavar="PATH",
            help="куда положить журнал печатей (по умолчанию рядом с папкой файлов)",
        )
        parser.add_argument(
            "--create-database", action="store_true", help="создать базу (её не должно быть)"
        )
        parser.add_argument(
            "--drill",
            action="store_true",
            help="учения: создать базу, восстановить, проверить, затем удалить базу и файлы",
        )
        parser.add_argument("--no-verify", action="store_true", help="не проверять после")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["source"])
        url = options["database_url"]
        bucket = options["bucket"]
        if bool(bucket) == bool(options["media_root"]):
            raise CommandError("Укажите одно из двух: --media-root (папка) или --bucket (S3).")
        media_root = Path(options["media_root"]).resolve() if options["media_root"] else None
        seal_log = Path(
            options["seal_log"]
            or (media_root.parent if media_root else settings.VAR_DIR) / "intake-seal-log.txt"
        )
        drill = options["drill"]
        try:
            backup.dump_check(source, backup.read_backup(source))
            backup.restore_storage(media_root=media_root, bucket=bucket)
            if drill and bucket:
                try:
                    storage.bucket_create(bucket)
                except storage.StorageUnavailable as exc:
                    raise backup.BackupError(f"Бакет {bucket} создать не удалось: {exc}") from None
            try:
                # Checked before the drill creates anything it would clean up afterwards.
                backup.restore_targets_check(
                    media_root=media_root, seal_log=seal_log, bucket=bucket
                )
                if drill or options["create_database"]:
                    backup.database_create(url)
                try:
                    backup.backup_restore(
                        source=source,
                        database_url=url,
                        media_root=media_root,
                        bucket=bucket,
                        seal_log=seal_log,
                    )
                    where = f"бакет {bucket}" if bucket else str(media_root)
                    self.stdout.write(f"Восстановлено в {url.rsplit('/', 1)[-1]} и {where}.")
                    if not options["no_verify"] or drill:
                        self._verify(source, url, media_root, seal_log, bucket)
                finally:
                    if drill:
                        backup.database_drop(url)
                        if media_root is not None:
                            shutil.rmtree(media_root, ignore_errors=True)
                        seal_log.unlink(missing_ok=True)
            finally:
                if drill and bucket:
                    storage.bucket_drop(bucket)
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None

    def _verify(
        self, source: Path, url: str, media_root: Path | None, seal_log: Path, bucket: str | None
    ) -> None:
        env = dict(os.environ, DATABASE_URL=url, INTAKE_SEAL_LOG=str(seal_log))
        if bucket:
            env["S3_BUCKET"] = bucket
        else:
            # Restored into a folder: checked there, whatever storage this process uses.
            env["MEDIA_ROOT"], env["STORAGE"] = str(media_root), "local"
        done = subprocess.run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "restore_check"]
            + ["--from", str(source.resolve())],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.stdout.write(done.stdout.rstrip())
        if done.returncode != 0:
            raise CommandError(
                done.stderr.strip().removeprefix("CommandError: ")
                or "Проверка восстановленной копии не прошла.",
                returncode=1,
            )
