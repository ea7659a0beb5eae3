"""Recheck every sealed intake record and each shop's chain of seals, for cron and monitoring.

Exit status: 0 when nothing changed, 1 when a record or a chain shows a change, 2 when the
command is used wrongly (an unknown shop). Run from manage.py, a found change is reported
as a CommandError (its message on stderr); through call_command, the CommandError is raised.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from autoservice.models import Shop
from intake import sealing


class Command(BaseCommand):
    help = "Проверяет опечатанные акты приёмки и цепочку печатей; код выхода 1 — есть изменения."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", metavar="SLUG", help="только этот автосервис (его slug)")

    def handle(self, *args, shop: str | None = None, **options) -> None:
        if shop:
            shops = list(Shop.objects.filter(slug=shop))
            if not shops:
                raise CommandError(f"Автосервис «{shop}» не найден.", returncode=2)
        else:
            # A shop whose sealed records were all deleted still has its SealHead.
            shops = list(
                Shop.objects.filter(
                    Q(intake_records__seal_index__isnull=False) | Q(intake_seal_head__isnull=False)
                )
                .distinct()
                .order_by("pk")
            )
        changed_shops = 0
        for one in shops:
            verdicts, chain = sealing.verify_shop(one)
            self.stdout.write(f"{one.name} ({one.slug}): опечатанных актов {len(verdicts)}")
            for verdict in verdicts:
                if verdict.intact:
                    self.stdout.write(f"  №{verdict.record.number}: не изменялась")
                    continue
                self.stdout.write(self.style.ERROR(f"  №{verdict.record.number}: изменена"))
                for problem in verdict.problems:
                    self.stdout.write(f"    - {problem}")
            if chain:
                self.stdout.write(self.style.ERROR("  Цепочка печатей нарушена:"))
                for problem in chain:
                    self.stdout.write(f"    - {problem}")
            else:
                self.stdout.write("  Цепочка печатей: не нарушена")
            if chain or any(not verdict.intact for verdict in verdicts):
                changed_shops += 1
        if changed_shops:
            raise CommandError(
                f"Найдены изменения в опечатанных актах приёмки: автосервисов {changed_shops} "
                f"из {len(shops)}.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"Проверено автосервисов: {len(shops)}, изменений нет.")
        )
