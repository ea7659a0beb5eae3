"""The shop's customers — people, not requests — with their cars and a personal manager.

A customer is found again by a normalised phone (one customer per phone in a shop) and is
proposed, never merged silently, when a VIN or a plate points at someone else; an advisor
merges duplicates and the merge stays on both timelines. Every lead names its customer and
car (`leads.Lead.customer`, `leads.Lead.car`); estimates, offers, intake records, bookings
and orders reach them through the lead.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import ConsentRecord, Membership, Shop


def _page_token() -> str:
    return secrets.token_urlsafe(24)


class Channel(models.TextChoices):
    """How the customer prefers to hear from the shop."""

    SMS = "sms", _("SMS")
    CALL = "call", _("звонок")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    MAX = "max", _("MAX")
    EMAIL = "email", _("e-mail")


class Customer(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="customers", verbose_name=_("автосервис")
    )
    name = models.CharField(_("имя"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_channel = models.CharField(
        _("предпочтительный канал"), max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    manager = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("персональный менеджер"),
    )
    # Consent to processing (152-FZ art. 9): the latest record the driver gave with a request.
    consent = models.ForeignKey(
        ConsentRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("согласие на обработку"),
    )
    # Consent to advertising (38-FZ art. 18; 152-FZ art. 9 as of 1 Sep 2025: a separate
    # document). Without it no campaign or marketing reminder reaches the customer.
    marketing_consent_at = models.DateTimeField(
        _("согласие на рекламу дано"), null=True, blank=True
    )
    marketing_consent_source = models.CharField(
        _("как получено согласие на рекламу"), max_length=200, blank=True
    )
    marketing_withdrawn_at = models.DateTimeField(
        _("согласие на рекламу отозвано"), null=True, blank=True
    )
    # The driver's own page: a private link, no account and no password.
    page_token = models.CharField(max_length=40, unique=True, default=_page_token)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("объединён с"),
    )
    created_at = models.DateTimeField(_("создан"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("последнее обращение"), default=timezone.now)

    class Meta:
        verbose_name = _("клиент")
        verbose_name_plural = _("клиенты")
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-last_seen_at"], name="customer_recent_idx"),
            models.Index(fields=["shop", "manager"], name="customer_manager_idx"),
        ]

    def __str__(self) -> str:
        return self.name or str(_("клиент без имени"))

    @property
    def has_marketing_consent(self) -> bool:
        return self.marketing_consent_at is not None and self.marketing_withdrawn_at is None


class CustomerPhone(models.Model):
    """A phone in E.164 (`autoservice.phones.normalize_phone`): one customer per phone."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", verbose_name=_("клиент")
    )
    phone = models.CharField(_("телефон"), max_length=16)
    is_primary = models.BooleanField(_("основной"), default=False)
    created_at = models.DateTimeField(_("добавлен"), default=timezone.now)

    class Meta:
        verbose_name = _("телефон клиента")
        verbose_name_plural = _("телефоны клиентов")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "phone"], name="customer_phone_per_shop")
        ]

    def __str__(self) -> str:
        return self.phone


class Car(models.Model):
    """A customer's car. Make, model and generation are the calculator catalogue's names."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="cars", verbose_name=_("клиент")
    )
    make = models.CharField(_("марка"), max_length=60, blank=True)
    model = models.CharField(_("модель"), max_length=60, blank=True)
    generation = models.CharField(_("поколение"), max_length=80, blank=True)
    year = models.PositiveSmallIntegerField(_("год выпуска"), null=True, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    plate = models.CharField(_("госномер"), max_length=12, blank=True)
    mileage_km = models.PositiveIntegerField(_("пробег, км"), null=True, blank=True)
    mileage_at = models.DateField(_("пробег на дату"), null=True, blank=True)
    created_at = models.DateTimeField(_("добавлен"), default=timezone.now)

    class Meta:
        verbose_name = _("автомобиль клиента")
        verbose_name_plural = _("автомобили клиентов")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["shop", "vin"], name="car_vin_idx"),
            models.Index(fields=["shop", "plate"], name="car_plate_idx"),
        ]

    def __str__(self) -> str:
        text = " ".join(p for p in (self.make, self.model) if p)
        if self.year:
            text += f", {self.year}"
        if self.plate:
            text += f" ({self.plate})"
        return text or str(_("автомобиль"))


class EventKind(models.TextChoices):
    CREATED = "created", _("клиент создан")
    REQUEST = "request", _("новое обращение")
    MANAGER = "manager", _("сменён персональный менеджер")
    MERGED_FROM = "merged_from", _("присоединён дубль")
    MERGED_INTO = "merged_into", _("объединён с другим клиентом")
    DUPLICATE_DISMISSED = "duplicate_dismissed", _("не дубль")
    CONSENT = "consent", _("согласие")
    NOTE = "note", _("заметка")
    CHANGED = "changed", _("данные изменены")


class CustomerEvent(models.Model):
    """The customer's own timeline (the requests' timelines stay on their leads)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="events", verbose_name=_("клиент")
    )
    kind = models.CharField(_("событие"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("сотрудник"),
    )
    text = models.TextField(_("текст"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("когда"), default=timezone.now)

    class Meta:
        verbose_name = _("событие клиента")
        verbose_name_plural = _("события клиентов")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer_id}"
