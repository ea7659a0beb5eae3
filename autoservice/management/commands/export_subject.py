"""Export everything a shop holds about one person as a ZIP (152-FZ art. 14)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from autoservice.models import Shop
from autoservice.personal_data import subject_export_write, subject_parse


class Command(BaseCommand):
    help = "Выгрузить все персональные данные человека (по телефону или e-mail) в ZIP."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="адрес страницы автосервиса (slug)")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone")
        who.add_argument("--email")
        parser.add_argument("--out", help="файл ZIP (по умолчанию subject-<shop>.zip)")

    def handle(self, *args, shop: str, phone: str | None, email: str | None, out, **options):
        try:
            shop_obj = Shop.objects.get(slug=shop)
        except Shop.DoesNotExist:
            raise CommandError(f"Нет автосервиса «{shop}».") from None
        try:
            phones, emails = subject_parse(phone=phone or "", email=email or "")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        path = Path(out or f"subject-{shop_obj.slug}.zip")
        with path.open("wb") as handle:
            document = subject_export_write(shop=shop_obj, phones=phones, emails=emails, out=handle)
        total = sum(item["count"] for item in document["categories"])
        self.stdout.write(f"{path}: записей {total}")
