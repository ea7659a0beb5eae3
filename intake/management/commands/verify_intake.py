"""Recheck every sealed intake record and each shop's chain of seals, for cron and monitoring.

Every seal is checked with its key (INTAKE_SEAL_KEYS, by the key id stored with it), and each
shop's newest seal is compared with the last line published for it in the seal log outside
the database (INTAKE_SEAL_LOG). Records sealed before keyed seals are verified as before and
marked so in the output.

Exit status: 0 when nothing changed, 1 when a record or a chain shows a change, 2 when the
command is used wrongly (an unknown shop). Run from manage.py, a found change is reported
as a CommandError (its message on stderr); through call_command, the CommandError is raised.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from autoservice.models import Shop
from intake import sealing, seallog


class Command(BaseCommand):
    help = "Проверяет опечатанные акты приёмки и цепочку печатей; код выхода 1 — есть изменения."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", metavar="SLUG", help="только этот автосервис (его slug)")

    def handle(self, *args, shop: str | None = None, **options) -> None:
        published = seallog.seals_published()
        if shop:
            shops = list(Shop.objects.filter(slug=shop))
            if not shops:
                raise CommandError(f"Автосервис «{shop}» не найден.", returncode=2)
        else:
            # A shop whose sealed records were all deleted still has its SealHead, and one
            # whose SealHead went too still has its published seals.
            shops = list(
                Shop.objects.filter(
                    Q(intake_records__seal_index__isnull=False)
                    | Q(intake_seal_head__isnull=False)
                    | Q(pk__in=list(published.by_shop))
                )
                .distinct()
                .order_by("pk")
            )
        self.stdout.write(
            f"Журнал печатей: {seallog.log_location()}"
            + (
                ""
                if published.exists
                else " — не найден, проверка по нему без опубликованных печатей"
            )
        )
        if published.unreadable:
            self.stdout.write(
                self.style.WARNING(
                    "  Нечитаемые строки журнала: "
                    + ", ".join(str(n) for n in published.unreadable[:20])
                )
            )
        changed_shops = 0
        for one in shops:
            verdicts, chain = sealing.verify_shop(one, published=published)
            self.stdout.write(f"{one.name} ({one.slug}): опечатанных актов {len(verdicts)}")
            for verdict in verdicts:
                if verdict.intact and verdict.unkeyed:
                    self.stdout.write(
                        f"  №{verdict.record.number}: не изменялась (старая печать SHA-256 без "
                        f"ключа, поставлена до ключевых печатей: проверена как прежде)"
                    )
                    continue
                if verdict.intact:
                    self.stdout.write(
                        f"  №{verdict.record.number}: не изменялась "
                        f"(печать HMAC-SHA256, ключ «{verdict.record.seal_key_id}»)"
                    )
                    continue
                self.stdout.write(self.style.ERROR(f"  №{verdict.record.number}: изменена"))
                if verdict.unkeyed:
                    self.stdout.write("    (старая печать SHA-256 без ключа)")
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
