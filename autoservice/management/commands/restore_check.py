"""Verify a restored copy against its backup: rows per table, every file of the manifest with
its SHA-256, the seal log, then `verify_intake`. Run it with DATABASE_URL, MEDIA_ROOT and
INTAKE_SEAL_LOG pointing at the restored copy (`manage.py restore` does so itself).
Exit status 1 when anything differs."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from autoservice import backup


class Command(BaseCommand):
    help = (
        "Проверяет восстановленную копию: строки по таблицам, файлы по SHA-256, журнал "
        "печатей и verify_intake; код выхода 1 — есть расхождения."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, metavar="DIR")

    def handle(self, *args: Any, source: str, **options: Any) -> None:
        try:
            problems = backup.backup_check(source=Path(source))
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None
        report = StringIO()
        try:
            call_command("verify_intake", stdout=report, stderr=report)
        except CommandError as exc:
            problems.append(f"verify_intake: {exc}")
            problems += [
                "  " + line.strip() for line in report.getvalue().splitlines() if "- " in line
            ]
        meta = backup.read_backup(Path(source))
        if problems:
            for problem in problems:
                self.stdout.write(self.style.ERROR(f"  {problem}"))
            raise CommandError(
                f"Восстановленная копия не совпадает с резервной ({len(problems)} "
                f"расхождений): " + problems[0],
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Копия от {meta['created_at']} восстановлена без расхождений: таблиц "
                f"{len(meta['counts'])}, файлов {meta['files']}, verify_intake пройден."
            )
        )
