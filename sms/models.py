"""A shop's SMS gateway (SMS.ru or SMSC), every SMS sent to a driver through it, and the
drivers' consent to advertising messages (38-FZ «О рекламе», art. 18)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.crypto import EncryptedTextField
from autoservice.models import Shop


class Gateway(models.TextChoices):
    SMSRU = "smsru", _("SMS.ru")
    SMSC = "smsc", _("SMSC.ru")


class SmsSettings(models.Model):
    """One gateway account per shop. Secrets are encrypted at rest and never shown back."""

    shop = models.OneToOneField(
        Shop, on_delete=models.CASCADE, related_name="sms_settings", verbose_name=_("автосервис")
    )
    gateway = models.CharField(
        _("SMS-шлюз"), max_length=10, choices=Gateway.choices, default=Gateway.SMSRU
    )
    api_key = EncryptedTextField(_("API-ключ (api_id)"), blank=True, default="")
    login = models.CharField(_("логин SMSC"), max_length=100, blank=True)
    password = EncryptedTextField(_("пароль SMSC"), blank=True, default="")
    sender = models.CharField(_("имя отправителя"), max_length=11, blank=True)
    cost_per_message = models.DecimalField(
        _("стоимость одного SMS, ₽"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    daily_limit = models.PositiveIntegerField(_("не больше SMS в сутки"), default=200)
    enabled = models.BooleanField(_("отправлять SMS клиентам"), default=False)
    # The gateway's own words on the last refusal that only the manager can fix (a wrong
    # key, no money on the account, a sender name not approved).
    error_message = models.TextField(_("ошибка"), blank=True)
    error_at = models.DateTimeField(_("ошибка с"), null=True, blank=True)
    updated_at = models.DateTimeField(_("изменено"), auto_now=True)

    class Meta:
        verbose_name = _("настройки SMS")
        verbose_name_plural = _("настройки SMS")

    def __str__(self) -> str:
        return f"{self.get_gateway_display()} ({self.shop})"

    @property
    def configured(self) -> bool:
        if self.gateway == Gateway.SMSC:
            return bool(self.login and self.password)
        return bool(self.api_key)


class Purpose(models.TextChoices):
    OFFER = "offer", _("ссылка на предложение")
    BOOKED = "booked", _("подтверждение записи")
    READY = "ready", _("автомобиль готов")
    REMINDER = "reminder", _("напоминание")
    CODE = "code", _("одноразовый код")
    TEST = "test", _("тестовое SMS")
    MARKETING = "marketing", _("рекламная рассылка")


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("в очереди")
    SENT = "sent", _("принято шлюзом")
    DELIVERED = "delivered", _("доставлено")
    UNDELIVERED = "undelivered", _("не доставлено")
    FAILED = "failed", _("не отправлено")
    OVER_LIMIT = "over_limit", _("не отправлено: дневной лимит")
    # The worker died after handing it to a gateway that cannot be asked by our id
    # (SMS.ru): it may have gone out, so it is not sent again.
    UNKNOWN = "unknown", _("неизвестно, принято ли шлюзом")


FINAL_STATUSES = (SmsStatus.DELIVERED, SmsStatus.UNDELIVERED, SmsStatus.FAILED)


class SmsMessage(models.Model):
    """One SMS to one driver. `pk` is our id of the message: SMSC gets it as its `id`
    parameter, so a retry can ask whether the gateway already has it."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="sms_messages", verbose_name=_("автосервис")
    )
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("заявка"),
    )
    phone = models.CharField(_("телефон"), max_length=16)
    text = models.TextField(_("текст"))
    purpose = models.CharField(_("назначение"), max_length=10, choices=Purpose.choices)
    dedupe_key = models.CharField(_("ключ"), max_length=120, unique=True)
    gateway = models.CharField(_("шлюз"), max_length=10, choices=Gateway.choices, blank=True)
    gateway_id = models.CharField(_("номер в шлюзе"), max_length=64, blank=True)
    status = models.CharField(
        _("состояние"), max_length=12, choices=SmsStatus.choices, default=SmsStatus.QUEUED
    )
    status_text = models.CharField(_("ответ шлюза"), max_length=300, blank=True)
    cost = models.DecimalField(_("стоимость, ₽"), max_digits=8, decimal_places=2, null=True)
    created_at = models.DateTimeField(_("создано"), default=timezone.now)
    sent_at = models.DateTimeField(_("принято шлюзом"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("доставлено"), null=True, blank=True)
    checked_at = models.DateTimeField(_("статус проверен"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS")
        ordering = ["-pk"]
        indexes = [
            models.Index(
                fields=["sent_at"], name="sms_to_check_idx", condition=models.Q(status="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:30]}"


class MarketingConsent(models.Model):
    """A driver agreed to advertising SMS from this shop. Without an unwithdrawn record no
    campaign SMS reaches them (38-FZ art. 18 p. 1: prior consent of the recipient)."""

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="marketing_consents",
        verbose_name=_("автосервис"),
    )
    phone = models.CharField(_("телефон"), max_length=16)
    given_at = models.DateTimeField(_("дано"), default=timezone.now)
    source = models.CharField(_("как получено"), max_length=200, blank=True)
    withdrawn_at = models.DateTimeField(_("отозвано"), null=True, blank=True)

    class Meta:
        verbose_name = _("согласие на рекламные SMS")
        verbose_name_plural = _("согласия на рекламные SMS")
        indexes = [models.Index(fields=["shop", "phone"], name="sms_consent_idx")]

    def __str__(self) -> str:
        return self.phone
