"""A shop's webhook endpoints and every delivery made to them.

A delivery is written in the transaction of the event it tells (see `listeners`), with its
payload frozen there, and is sent after commit by the delivery code (`delivery`): signed per
the Standard Webhooks specification, retried with exponential backoff for more than a day, in
creation order per endpoint and subject (one lead's events never overtake each other).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.crypto import EncryptedTextField
from autoservice.events import EVENT_TYPES
from autoservice.models import Shop

TEST_EVENT = "webhook.test"


def event_label(code: str) -> str:
    if code == TEST_EVENT:
        return str(_("Проверка связи"))
    return str(EVENT_TYPES.get(code, code))


class WebhookEndpoint(models.Model):
    """An address of the shop's system that wants to hear about chosen events."""

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("автосервис"),
    )
    url = models.CharField(_("адрес"), max_length=500)
    description = models.CharField(_("описание"), max_length=200, blank=True)
    # Event type codes (autoservice.events.EVENT_TYPES) this endpoint gets.
    events = models.JSONField(_("события"), default=list)
    enabled = models.BooleanField(_("включён"), default=True)
    disabled_reason = models.CharField(_("причина отключения"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("отключён"), null=True, blank=True)
    # `whsec_` + base64 of 32 random bytes; during a rotation the previous secret signs too,
    # until `previous_secret_expires_at`.
    secret = EncryptedTextField(_("секрет подписи"))
    previous_secret = EncryptedTextField(_("прежний секрет"), blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(
        _("прежний секрет действует до"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("адрес вебхуков")
        verbose_name_plural = _("адреса вебхуков")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets every delivery is signed with now: the current one, and the previous
        one while its rotation overlap lasts."""
        now = now or timezone.now()
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            secrets.append(self.previous_secret)
        return secrets

    def wants(self, event_type: str) -> bool:
        return event_type in (self.events or [])

    @property
    def event_labels(self) -> list[str]:
        return [event_label(code) for code in EVENT_TYPES if code in (self.events or [])]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("ожидает отправки")
    SENDING = "sending", _("отправляется")
    DELIVERED = "delivered", _("доставлено")
    FAILED = "failed", _("не доставлено")
    CANCELLED = "cancelled", _("отменено")


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class WebhookDelivery(models.Model):
    """One event for one endpoint: its payload as it was when the event happened, and how
    its attempts went. `event_id` is the `webhook-id` header, the same on every attempt and
    every resend, so the receiver processes the event once."""

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
        verbose_name=_("автосервис"),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("адрес"),
    )
    event_id = models.CharField(_("идентификатор события"), max_length=64)
    event_type = models.CharField(_("событие"), max_length=60)
    # What the event is about ("lead:42"): deliveries of one subject to one endpoint go in
    # creation order.
    subject = models.CharField(_("предмет"), max_length=64)
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("заявка"),
    )
    payload = models.JSONField(_("данные"))
    status = models.CharField(
        _("состояние"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"), default=timezone.now)
    lease_until = models.DateTimeField(_("занято до"), null=True, blank=True)
    lease_token = models.CharField(_("кем занято"), max_length=32, blank=True)
    last_attempt_at = models.DateTimeField(_("последняя попытка"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("код ответа"), null=True, blank=True)
    last_error = models.CharField(_("ошибка"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("начало ответа"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("создано"), default=timezone.now)
    delivered_at = models.DateTimeField(_("доставлено"), null=True, blank=True)

    class Meta:
        verbose_name = _("доставка вебхука")
        verbose_name_plural = _("доставки вебхуков")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["endpoint", "subject", "id"],
                name="webhook_line_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"

    @property
    def event_label(self) -> str:
        return event_label(self.event_type)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
