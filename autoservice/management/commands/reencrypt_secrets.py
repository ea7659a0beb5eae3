"""Re-encrypt every encrypted column with the newest key of FIELD_ENCRYPTION_KEYS.

Key rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keeping the old ones after
it), restart, run this command, then drop the old keys. Safe to run again: values already
made with the newest key are left as they are.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from autoservice import crypto


class Command(BaseCommand):
    help = (
        "Перешифровывает пароли и ключи поставщиков новейшим ключом из FIELD_ENCRYPTION_KEYS "
        "(смена ключа); повторный запуск безопасен."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model, field in crypto.encrypted_fields():
            label = f"{model._meta.label}.{field.name}"
            try:
                rotated, current = self._column(model, field, label)
            except crypto.DecryptionError as exc:
                raise CommandError(str(exc)) from None
            total += rotated
            self.stdout.write(f"{label}: перешифровано {rotated}, уже новым ключом {current}")
        self.stdout.write(self.style.SUCCESS(f"Готово: перешифровано {total}."))

    @staticmethod
    def _column(model: Any, field: Any, label: str) -> tuple[int, int]:
        """Rotate one column under a row lock, all or nothing; returns (rotated, current)."""
        quote = connection.ops.quote_name
        table, column = quote(model._meta.db_table), quote(field.column)
        pk = quote(model._meta.pk.column)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        rotated = current = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''{lock}")
            for row_pk, token in cursor.fetchall():
                if crypto.is_current(token):
                    current += 1
                    continue
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                    [crypto.rotate(token, where=f"{label} id={row_pk}"), row_pk],
                )
                rotated += 1
        return rotated, current
