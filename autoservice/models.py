"""The shop (the tenant) and its staff."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    "mon": _("Пн"),
    "tue": _("Вт"),
    "wed": _("Ср"),
    "thu": _("Чт"),
    "fri": _("Пт"),
    "sat": _("Сб"),
    "sun": _("Вс"),
}
RUSSIAN_TIMEZONES = [
    ("Europe/Kaliningrad", _("Калининград (МСК−1)")),
    ("Europe/Moscow", _("Москва (МСК)")),
    ("Europe/Samara", _("Самара (МСК+1)")),
    ("Asia/Yekaterinburg", _("Екатеринбург (МСК+2)")),
    ("Asia/Omsk", _("Омск (МСК+3)")),
    ("Asia/Novosibirsk", _("Новосибирск (МСК+4)")),
    ("Asia/Krasnoyarsk", _("Красноярск (МСК+4)")),
    ("Asia/Irkutsk", _("Иркутск (МСК+5)")),
    ("Asia/Yakutsk", _("Якутск (МСК+6)")),
    ("Asia/Vladivostok", _("Владивосток (МСК+7)")),
    ("Asia/Magadan", _("Магадан (МСК+8)")),
    ("Asia/Kamchatka", _("Камчатка (МСК+9)")),
]


def default_working_hours() -> dict[str, list[str] | None]:
    return {day: (["09:00", "20:00"] if day not in ("sun",) else None) for day in WEEKDAYS}


brand_color_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Цвет задаётся как #RRGGBB, например #0d6efd")
)


class Shop(models.Model):
    """A repair shop: the tenant that owns every lead, estimate, offer and intake record."""

    name = models.CharField(_("название"), max_length=120)
    slug = models.SlugField(
        _("адрес страницы"),
        max_length=60,
        unique=True,
        help_text=_("Латиница, цифры и дефис: страница для клиентов будет /s/<адрес>/"),
    )
    region = models.CharField(_("регион"), max_length=100, default="Москва")
    address = models.CharField(_("адрес"), max_length=255, blank=True)
    phone = models.CharField(_("телефон"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    working_hours = models.JSONField(
        _("часы работы"),
        default=default_working_hours,
        help_text=_("По дням недели: пара [открытие, закрытие] или пусто в выходной"),
    )
    timezone = models.CharField(
        _("часовой пояс"), max_length=40, choices=RUSSIAN_TIMEZONES, default="Europe/Moscow"
    )
    logo = models.ImageField(_("логотип"), upload_to="shop-logos/", blank=True)
    brand_color = models.CharField(
        _("фирменный цвет"), max_length=7, default="#0d6efd", validators=[brand_color_validator]
    )
    is_active = models.BooleanField(_("работает"), default=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("автосервис")
        verbose_name_plural = _("автосервисы")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.tzinfo)

    def hours_for(self, day: str) -> tuple[dt.time, dt.time] | None:
        span = (self.working_hours or {}).get(day)
        if not span:
            return None
        opens, closes = (dt.time.fromisoformat(value) for value in span)
        return opens, closes

    def is_open_at(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.tzinfo)
        span = self.hours_for(WEEKDAYS[local.weekday()])
        return bool(span) and span[0] <= local.time() < span[1]

    def hours_display(self) -> list[tuple[str, str]]:
        """Working hours grouped for people: [("Пн–Пт", "09:00–20:00"), ("Вс", "выходной")]."""
        rows: list[tuple[list[str], str]] = []
        for day in WEEKDAYS:
            span = (self.working_hours or {}).get(day)
            text = f"{span[0]}–{span[1]}" if span else str(_("выходной"))
            if rows and rows[-1][1] == text:
                rows[-1][0].append(day)
            else:
                rows.append(([day], text))
        result = []
        for days, text in rows:
            label = str(WEEKDAY_NAMES[days[0]])
            if len(days) > 1:
                label += "–" + str(WEEKDAY_NAMES[days[-1]])
            result.append((label, text))
        return result


class Role(models.TextChoices):
    ADVISOR = "advisor", _("мастер-приёмщик")
    MANAGER = "manager", _("руководитель")


class Membership(models.Model):
    """A staff member of one shop. Every staff request is scoped to this shop."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("пользователь"),
    )
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("автосервис")
    )
    role = models.CharField(_("роль"), max_length=20, choices=Role.choices, default=Role.ADVISOR)
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)

    class Meta:
        verbose_name = _("сотрудник")
        verbose_name_plural = _("сотрудники")
        ordering = ["shop", "user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()}, {self.shop})"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER
