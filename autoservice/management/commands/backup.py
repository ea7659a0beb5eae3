"""Take a consistent backup: pg_dump of one snapshot, the stored files the dump names (through
the storage API, with their SHA-256 in a manifest), the intake seal log and backup.json.
What is inside and what is not (the keys): autoservice/backup.py and the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from autoservice import backup


class Command(BaseCommand):
    help = (
        "Делает резервную копию: снимок базы (pg_dump), файлы, на которые она ссылается, "
        "журнал печатей актов и backup.json. Ключи (FIELD_ENCRYPTION_KEYS, INTAKE_SEAL_KEYS, "
        "SECRET_KEY) в копию не входят: храните их отдельно."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, metavar="DIR", help="новая пустая папка")

    def handle(self, *args: Any, to: str, **options: Any) -> None:
        try:
            result = backup.backup_create(to=Path(to))
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        for name in result.missing:
            self.stdout.write(self.style.WARNING(f"  Файла нет в хранилище: {name}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Копия готова: {result.path} — таблиц {result.tables}, строк {result.rows}, "
                f"файлов {result.files}, пропавших файлов {len(result.missing)}."
            )
        )
