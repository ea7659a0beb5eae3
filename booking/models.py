"""Visits booked at a shop: its capacity (posts, slot lengths, holidays) and the bookings.

No two active bookings of one shop's post overlap in time: on PostgreSQL an exclusion
constraint (`booking_no_overlap`, migration 0001) guarantees it under any concurrency; the
embedded SQLite default serialises writers and the service checks before it writes.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership, Shop
from leads.models import Lead


def _token() -> str:
    return secrets.token_urlsafe(18)


class JobKind(models.TextChoices):
    INSPECTION = "inspection", _("осмотр и оценка")
    REPAIR = "repair", _("сдача автомобиля в ремонт")


class BookingSettings(models.Model):
    """The shop's capacity; working hours are the shop's own (Shop.working_hours)."""

    shop = models.OneToOneField(
        Shop,
        on_delete=models.CASCADE,
        related_name="booking_settings",
        verbose_name=_("автосервис"),
    )
    posts = models.PositiveSmallIntegerField(
        _("постов (подъёмников)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("Сколько машин сервис принимает одновременно."),
    )
    inspection_minutes = models.PositiveSmallIntegerField(
        _("осмотр, минут"), default=30, validators=[MinValueValidator(10), MaxValueValidator(480)]
    )
    repair_minutes = models.PositiveSmallIntegerField(
        _("сдача в ремонт, минут"),
        default=60,
        validators=[MinValueValidator(10), MaxValueValidator(480)],
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("запись на сколько дней вперёд"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    notice_minutes = models.PositiveSmallIntegerField(
        _("не раньше чем через, минут"),
        default=60,
        validators=[MaxValueValidator(2880)],
        help_text=_("Клиент не может записаться на время, до которого осталось меньше."),
    )
    holidays = models.JSONField(
        _("нерабочие дни"), default=list, blank=True, help_text=_("Даты, когда сервис закрыт.")
    )

    class Meta:
        verbose_name = _("настройки записи")
        verbose_name_plural = _("настройки записи")

    def __str__(self) -> str:
        return str(self.shop)

    def minutes_for(self, kind: str) -> int:
        return self.repair_minutes if kind == JobKind.REPAIR else self.inspection_minutes

    @property
    def holiday_dates(self) -> set[dt.date]:
        return {dt.date.fromisoformat(value) for value in self.holidays or []}


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("записан")
    CANCELLED = "cancelled", _("отменена")


class Booking(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="bookings", verbose_name=_("автосервис")
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="bookings", verbose_name=_("заявка")
    )
    kind = models.CharField(
        _("что делаем"), max_length=20, choices=JobKind.choices, default=JobKind.INSPECTION
    )
    post = models.PositiveSmallIntegerField(_("пост"))
    starts_at = models.DateTimeField(_("начало"))
    ends_at = models.DateTimeField(_("конец"))
    status = models.CharField(
        _("статус"), max_length=20, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    token = models.CharField(max_length=32, unique=True, default=_token)
    created_by = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("записал сотрудник"),
    )
    created_at = models.DateTimeField(_("создана"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("отменена"), null=True, blank=True)
    # The start the reminder went out for: a moved visit gets a new reminder.
    reminded_for = models.DateTimeField(_("напоминание отправлено для"), null=True, blank=True)

    class Meta:
        verbose_name = _("запись")
        verbose_name_plural = _("записи")
        ordering = ["starts_at", "post"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after"
            ),
            # One upcoming visit per request: a double tap on two times books one of them.
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(status="booked"),
                name="booking_one_active_per_lead",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "starts_at"], name="booking_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status == BookingStatus.BOOKED
