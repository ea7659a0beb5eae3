"""Create (idempotently) a believable demo shop so that a newcomer sees a living product.

Each capability adds its part through `autoservice.demo.DEMO_STEPS`-style hooks in its own
app: the command calls `<app>.demo.load(shop)` for every installed app that has one.
"""

from __future__ import annotations

import importlib
import os

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from autoservice.models import Membership, Role, Shop

# The platform's administrator (Django admin: shops, catalogues, consent texts). Made by
# this command only, for the demo; a real installation uses `manage.py createsuperuser`.
DEMO_ADMIN = "admin@demo.local"
DEMO_STAFF = [
    ("manager@demo.local", "Ольга", "Смирнова", Role.MANAGER),
    ("advisor1@demo.local", "Игорь", "Кузнецов", Role.ADVISOR),
    ("advisor2@demo.local", "Анна", "Волкова", Role.ADVISOR),
]


class Command(BaseCommand):
    help = (
        "Создаёт демо-автосервис (slug demo) с сотрудниками и данными; повторный запуск безопасен."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "demo-sto-2026"),
            help="Пароль демо-сотрудников (по умолчанию DEMO_PASSWORD или demo-sto-2026).",
        )
        parser.add_argument(
            "--logins",
            action="store_true",
            help="Только напечатать адреса и входы демо (ничего не создаёт).",
        )

    def handle(self, *args, password: str, logins: bool = False, **options):
        if logins:
            self._print_logins(password)
            return
        # Demo notifications are delivered (the timelines show it) but not printed; the
        # override spans the commit, when the outbox hands them over.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._handle(password)

    @transaction.atomic
    def _handle(self, password: str) -> None:
        shop, _ = Shop.objects.update_or_create(
            slug="demo",
            defaults={
                "name": "Кузовной центр «Демо»",
                "kind": "body",
                "region": "Москва",
                "address": "Москва, ул. Автозаводская, 23, стр. 5",
                "phone": "+74951234567",
                "email": "service@demo.local",
                "brand_color": "#c0392b",
                "timezone": "Europe/Moscow",
                "working_hours": {
                    "mon": ["09:00", "20:00"],
                    "tue": ["09:00", "20:00"],
                    "wed": ["09:00", "20:00"],
                    "thu": ["09:00", "20:00"],
                    "fri": ["09:00", "20:00"],
                    "sat": ["10:00", "18:00"],
                    "sun": None,
                },
            },
        )
        User = get_user_model()
        for email, first, last, role in DEMO_STAFF:
            user, _ = User.objects.update_or_create(
                username=email,
                defaults={
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "is_active": True,
                },
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            Membership.objects.update_or_create(user=user, defaults={"shop": shop, "role": role})

        self._load_apps(shop)

        admin, _ = User.objects.update_or_create(
            username=DEMO_ADMIN,
            defaults={
                "email": DEMO_ADMIN,
                "first_name": "Администратор",
                "last_name": "платформы",
                "is_active": True,
                "is_staff": True,
                "is_superuser": True,
            },
        )
        admin.set_password(password)
        admin.save(update_fields=["password"])

        self._load_apps(shop)
        # Last, after every app's lines: the one thing a newcomer needs from this output.
        transaction.on_commit(lambda: self._print_logins(password))

    def _print_logins(self, password: str) -> None:
        site = settings.SITE_URL
        shop = Shop.objects.filter(slug="demo").first()
        name = shop.quoted_name if shop else "«Демо»"
        rule = "=" * 72
        lines = [
            rule,
            f"Демо-автосервис {name}",
            f"  Страница для клиентов:  {site}/s/demo/",
            f"  Вход для сотрудников:   {site}/accounts/login/",
        ]
        for email, _first, _last, role in DEMO_STAFF:
            lines.append(f"    {email:<22} пароль {password}   ({Role(role).label})")
        lines += [
            f"  Администратор платформы: {site}/admin/",
            f"    {DEMO_ADMIN:<22} пароль {password}",
            rule,
        ]
        self.stdout.write("\n" + "\n".join(lines))

    def _load_apps(self, shop: Shop) -> None:
        for config in apps.get_app_configs():
            if config.name == "autoservice":
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.load(shop=shop, stdout=self.stdout)
