"""Messages that bring drivers back: the shop's reminder rules (by date after a visit, a body
repair or its warranty, by season, by mileage), its one-off campaigns, every message sent to
a customer, and the requests those messages brought.

Only customers with an unwithdrawn advertising consent receive any of them; each message
carries its own unsubscribe link. A reminder is sent at most once per rule, customer and due
date (a unique constraint, not a check in code), a campaign at most once per customer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership, Shop
from customers.models import Customer
from leads.models import Lead

PLACEHOLDERS = ("{имя}", "{авто}", "{ссылка}")


class RuleKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("ТО: через N месяцев после последнего визита")
    ANTICORROSION = "anticorrosion", _("Антикор: проверка через 12 месяцев после кузовного ремонта")
    WARRANTY = "warranty", _("Конец гарантии на ремонт")
    SEASONAL = "seasonal", _("Сезонная замена шин")
    MILEAGE = "mileage", _("По пробегу: каждые N км")


DEFAULT_TEXTS = {
    RuleKind.MAINTENANCE: _(
        "{имя}, пора на ТО для {авто}. Запишитесь на бесплатную диагностику: {ссылка}"
    ),
    RuleKind.ANTICORROSION: _(
        "{имя}, прошёл год после кузовного ремонта {авто}. Проверим антикор бесплатно: {ссылка}"
    ),
    RuleKind.WARRANTY: _(
        "{имя}, скоро заканчивается гарантия на ремонт {авто}. Бесплатный осмотр: {ссылка}"
    ),
    RuleKind.SEASONAL: _("{имя}, пора менять шины на {авто}. Запишитесь: {ссылка}"),
    RuleKind.MILEAGE: _("{имя}, {авто} подходит к плановому пробегу. Запишитесь на ТО: {ссылка}"),
}


class ReminderRule(models.Model):
    """A reminder the shop defines. Which fields matter depends on the kind; the page shows
    only those (campaigns/static/campaigns/rule-form.js)."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="reminder_rules", verbose_name=_("автосервис")
    )
    name = models.CharField(_("название"), max_length=120)
    kind = models.CharField(_("вид"), max_length=16, choices=RuleKind.choices)
    enabled = models.BooleanField(_("включено"), default=True)
    interval_months = models.PositiveSmallIntegerField(
        _("через сколько месяцев"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("ТО: после последнего визита; антикор: после кузовного ремонта"),
    )
    warranty_months = models.PositiveSmallIntegerField(
        _("гарантия на ремонт, месяцев"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    days_before = models.PositiveSmallIntegerField(
        _("за сколько дней до конца гарантии"),
        default=14,
        validators=[MaxValueValidator(90)],
    )
    spring_date = models.CharField(
        _("весной (ДД.ММ)"), max_length=5, default="01.04", help_text=_("Например, 01.04")
    )
    autumn_date = models.CharField(
        _("осенью (ДД.ММ)"), max_length=5, default="01.10", help_text=_("Например, 01.10")
    )
    mileage_step_km = models.PositiveIntegerField(
        _("каждые, км"),
        default=10000,
        validators=[MinValueValidator(1000), MaxValueValidator(100000)],
    )
    text = models.TextField(
        _("текст сообщения"),
        help_text=_("Можно вставить {имя}, {авто} и {ссылка}; ссылка отписки добавляется сама."),
    )
    created_at = models.DateTimeField(_("создано"), default=timezone.now)

    class Meta:
        verbose_name = _("правило напоминаний")
        verbose_name_plural = _("правила напоминаний")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("черновик")
    SENT = "sent", _("отправлена")


class Campaign(models.Model):
    """A one-off mailing a manager builds from a filter. The filter is kept: the preview and
    the send read the same list (marketing consent always required)."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="campaigns", verbose_name=_("автосервис")
    )
    name = models.CharField(_("название"), max_length=120)
    make = models.CharField(_("марка"), max_length=60, blank=True)
    model = models.CharField(_("модель"), max_length=60, blank=True)
    not_seen_months = models.PositiveSmallIntegerField(
        _("не были у нас, месяцев"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    text = models.TextField(_("текст сообщения"))
    status = models.CharField(
        _("состояние"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("создана"), default=timezone.now)
    sent_at = models.DateTimeField(_("отправлена"), null=True, blank=True)

    class Meta:
        verbose_name = _("рассылка")
        verbose_name_plural = _("рассылки")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("в очереди")
    SENT = "sent", _("отправлено")
    DELIVERED = "delivered", _("доставлено")
    UNDELIVERED = "undelivered", _("не доставлено")
    FAILED = "failed", _("не отправлено")


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")


class CampaignMessage(models.Model):
    """One message to one customer, from a reminder rule (for one due date) or a campaign.
    Its token opens the landing page and the unsubscribe page."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="campaign_messages"
    )
    rule = models.ForeignKey(
        ReminderRule, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    due_date = models.DateField(_("дата напоминания"), null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    phone = models.CharField(_("телефон"), max_length=16, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    text = models.TextField(_("текст"))
    status = models.CharField(
        _("состояние"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    email_sent_at = models.DateTimeField(_("письмо отправлено"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("открыта ссылка"), null=True, blank=True)
    created_at = models.DateTimeField(_("создано"), default=timezone.now)

    class Meta:
        verbose_name = _("сообщение клиенту")
        verbose_name_plural = _("сообщения клиентам")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "customer", "due_date"],
                condition=models.Q(rule__isnull=False),
                name="campaign_reminder_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "customer"],
                condition=models.Q(campaign__isnull=False),
                name="campaign_message_once",
            ),
            models.CheckConstraint(
                condition=models.Q(rule__isnull=False, due_date__isnull=False, campaign=None)
                | models.Q(rule=None, campaign__isnull=False),
                name="campaign_message_from_rule_or_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.text[:30]}"

    @property
    def token(self) -> str:
        return message_token(self.pk)


def _signature(pk: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"campaigns.message:{pk}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode()


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def message_token(pk: int) -> str:
    """Short enough for an SMS, signed: the message's id and 72 bits of HMAC."""
    return f"{_b36(pk)}-{_signature(pk)}"


def message_pk_from_token(token: str) -> int | None:
    head, _sep, sig = token.partition("-")
    try:
        pk = int(head, 36)
    except ValueError:
        return None
    if not hmac.compare_digest(sig, _signature(pk)):
        return None
    return pk


class CampaignResponse(models.Model):
    """A request a message brought: the driver tapped the free-diagnosis offer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        CampaignMessage, on_delete=models.CASCADE, related_name="response"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="responses"
    )
    rule = models.ForeignKey(
        ReminderRule, on_delete=models.CASCADE, null=True, blank=True, related_name="responses"
    )
    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, related_name="campaign_response")
    created_at = models.DateTimeField(_("создано"), default=timezone.now)

    class Meta:
        verbose_name = _("отклик на рассылку")
        verbose_name_plural = _("отклики на рассылки")

    def __str__(self) -> str:
        return f"{self.message_id} → {self.lead_id}"
