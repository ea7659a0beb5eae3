"""Erase everything a shop holds about one person and write the destruction act."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from autoservice.models import Shop
from autoservice.personal_data import subject_erase, subject_find, subject_parse


class Command(BaseCommand):
    help = "Удалить персональные данные человека (по телефону или e-mail) и составить акт."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="адрес страницы автосервиса (slug)")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone")
        who.add_argument("--email")
        parser.add_argument("--yes", action="store_true", help="не спрашивать подтверждения")

    def handle(self, *args, shop: str, phone: str | None, email: str | None, yes, **options):
        try:
            shop_obj = Shop.objects.get(slug=shop)
        except Shop.DoesNotExist:
            raise CommandError(f"Нет автосервиса «{shop}».") from None
        try:
            phones, emails = subject_parse(phone=phone or "", email=email or "")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        found = subject_find(shop=shop_obj, phones=phones, emails=emails)
        for item in found:
            self.stdout.write(f"{item.label}: {item.count}")
        if not yes:
            answer = input("Удалить эти данные безвозвратно? Введите «да»: ")
            if answer.strip().lower() not in ("да", "yes"):
                raise CommandError("Отменено.")
        act = subject_erase(shop=shop_obj, phones=phones, emails=emails)
        if act is None:
            self.stdout.write("Данных нет: удалять нечего.")
            return
        self.stdout.write(f"Акт об уничтожении {act.number} (id {act.pk})")
