"""Every request a shop receives, from any channel, and its timeline."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import ConsentRecord, Membership, Shop
from customers.models import Car, Customer


def _public_token() -> str:
    return secrets.token_urlsafe(18)


class Channel(models.TextChoices):
    PHOTO = "photo", _("фото")
    CALCULATOR = "calculator", _("калькулятор")
    PHONE = "phone", _("звонок")
    WALK_IN = "walk_in", _("визит")
    MESSENGER = "messenger", _("мессенджер")
    # The driver tapped the offer in a reminder or a campaign message (campaigns app).
    CAMPAIGN = "campaign", _("рассылка")


class Status(models.TextChoices):
    NEW = "new", _("новая")
    IN_PROGRESS = "in_progress", _("в работе")
    OFFER_SENT = "offer_sent", _("предложение отправлено")
    OFFER_ACCEPTED = "offer_accepted", _("предложение принято")
    BOOKED = "booked", _("записан")
    WON = "won", _("выполнена")
    LOST = "lost", _("отказ")


# The workflow: new → in progress → offer sent → booked → won, or lost (with a reason)
# from any open state; a lost lead can be taken back into work.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.IN_PROGRESS, Status.LOST),
    Status.IN_PROGRESS: (Status.OFFER_SENT, Status.BOOKED, Status.LOST),
    Status.OFFER_SENT: (Status.IN_PROGRESS, Status.OFFER_ACCEPTED, Status.BOOKED, Status.LOST),
    Status.OFFER_ACCEPTED: (Status.IN_PROGRESS, Status.BOOKED, Status.LOST),
    Status.BOOKED: (Status.IN_PROGRESS, Status.WON, Status.LOST),
    Status.WON: (),
    Status.LOST: (Status.IN_PROGRESS,),
}
OPEN_STATUSES = (
    Status.NEW,
    Status.IN_PROGRESS,
    Status.OFFER_SENT,
    Status.OFFER_ACCEPTED,
    Status.BOOKED,
)


class PreferredContact(models.TextChoices):
    CALL = "call", _("звонок")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")


class Lead(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="leads", verbose_name=_("автосервис")
    )
    number = models.PositiveIntegerField(_("номер"))
    public_token = models.CharField(max_length=32, unique=True, default=_public_token)
    # The key the driver's form carries: a double tap, a refresh or a retry after a
    # timeout finds the lead already made instead of making a second one.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    channel = models.CharField(_("канал"), max_length=20, choices=Channel.choices)
    status = models.CharField(
        _("статус"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    lost_reason = models.CharField(_("причина отказа"), max_length=300, blank=True)
    assignee = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_leads",
        verbose_name=_("ответственный"),
    )
    customer_name = models.CharField(_("имя клиента"), max_length=150)
    phone = models.CharField(_("телефон"), max_length=16)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_contact = models.CharField(
        _("как связаться"),
        max_length=20,
        choices=PreferredContact.choices,
        default=PreferredContact.CALL,
    )
    vehicle_make = models.CharField(_("марка"), max_length=60, blank=True)
    vehicle_model = models.CharField(_("модель"), max_length=60, blank=True)
    vehicle_year = models.PositiveSmallIntegerField(_("год выпуска"), null=True, blank=True)
    plate = models.CharField(_("госномер"), max_length=12, blank=True)
    description = models.TextField(_("что случилось"), blank=True)
    consent = models.ForeignKey(
        ConsentRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("согласие"),
    )
    # The person and the car behind the request (customers app): found by phone on arrival.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("клиент"),
    )
    car = models.ForeignKey(
        Car,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("автомобиль"),
    )
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("повтор заявки"),
    )
    created_at = models.DateTimeField(_("создана"), default=timezone.now)
    opened_at = models.DateTimeField(_("открыта"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("первый ответ"), null=True, blank=True)
    sla_due_at = models.DateTimeField(_("ответить до"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("передана руководителю"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("статус изменён"), default=timezone.now)
    # The driver withdrew consent (152-FZ art. 9 p. 2): processing stops — contacts hidden
    # from advisors, status frozen, nothing more sent — until the data is destroyed.
    consent_withdrawn_at = models.DateTimeField(_("согласие отозвано"), null=True, blank=True)

    class Meta:
        verbose_name = _("заявка")
        verbose_name_plural = _("заявки")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="lead_number_per_shop"),
            models.UniqueConstraint(
                fields=["shop", "submission_key"],
                condition=models.Q(submission_key__isnull=False),
                name="lead_submission_once",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "-created_at", "-id"], name="lead_inbox_idx"),
            models.Index(fields=["shop", "status", "-created_at"], name="lead_status_idx"),
            models.Index(fields=["shop", "phone"], name="lead_phone_idx"),
            models.Index(
                fields=["shop"], condition=models.Q(opened_at__isnull=True), name="lead_unread_idx"
            ),
            models.Index(
                fields=["sla_due_at"],
                condition=models.Q(first_response_at__isnull=True, escalated_at__isnull=True),
                name="lead_sla_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"№{self.number} {self.customer_name}"

    @property
    def vehicle(self) -> str:
        parts = [self.vehicle_make, self.vehicle_model]
        text = " ".join(p for p in parts if p)
        if self.vehicle_year:
            text += f", {self.vehicle_year}"
        return text

    @property
    def is_unread(self) -> bool:
        return self.opened_at is None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def response_time(self, now: dt.datetime | None = None) -> dt.timedelta:
        """Time to first response, or time waiting so far."""
        end = self.first_response_at or now or timezone.now()
        return max(end - self.created_at, dt.timedelta(0))

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        if self.first_response_at or not self.sla_due_at:
            return False
        return (now or timezone.now()) > self.sla_due_at

    @property
    def is_consent_withdrawn(self) -> bool:
        return self.consent_withdrawn_at is not None

    def allowed_statuses(self) -> tuple[str, ...]:
        if self.is_consent_withdrawn:
            return ()  # processing stopped: the status stays as it was
        return TRANSITIONS[self.status]


class EventKind(models.TextChoices):
    CREATED = "created", _("заявка получена")
    OPENED = "opened", _("открыта сотрудником")
    ASSIGNED = "assigned", _("назначен ответственный")
    STATUS = "status", _("смена статуса")
    CONTACTED = "contacted", _("связались с клиентом")
    NOTE = "note", _("заметка")
    NOTIFIED = "notified", _("уведомление доставлено")
    NOTIFY_FAILED = "notify_failed", _("уведомление не доставлено")
    ESCALATED = "escalated", _("просрочена, передана руководителю")
    REPEAT = "repeat", _("повторное обращение")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("согласие отозвано")


class LeadEvent(models.Model):
    """One line of a lead's timeline. Append-only."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="events", verbose_name=_("заявка")
    )
    kind = models.CharField(_("событие"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("сотрудник"),
    )
    text = models.TextField(_("текст"), blank=True)
    data = models.JSONField(_("данные"), default=dict, blank=True)
    created_at = models.DateTimeField(_("время"), default=timezone.now)

    class Meta:
        verbose_name = _("событие заявки")
        verbose_name_plural = _("события заявок")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["lead", "created_at"], name="lead_event_time_idx"),
            # The API's `updated_since`: the few recent events first, then their leads.
            models.Index(fields=["created_at", "lead"], name="lead_event_since_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"[:80]


class PhotoState(models.TextChoices):
    PROCESSING = "processing", _("обрабатывается")
    READY = "ready", _("готово")
    FAILED = "failed", _("ошибка обработки")


class LeadPhoto(models.Model):
    """A photo a driver sent. The original is private and never shown (it may carry GPS);
    staff see the web rendition and the thumbnail, which carry no metadata."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="lead_photos", verbose_name=_("автосервис")
    )
    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name=_("заявка"),
    )
    # Photos arrive before the form is sent: they wait under the form's upload token.
    upload_token = models.CharField(max_length=64, db_index=True)
    client_id = models.UUIDField(null=True, blank=True)
    original = models.FileField(_("оригинал"), max_length=300)
    original_name = models.CharField(_("имя файла"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveIntegerField(_("размер, байт"))
    format = models.CharField(_("формат"), max_length=10)
    width = models.PositiveIntegerField(_("ширина"))
    height = models.PositiveIntegerField(_("высота"))
    taken_at = models.DateTimeField(_("снято"), null=True, blank=True)
    web = models.FileField(_("для просмотра"), max_length=300, blank=True)
    thumb = models.FileField(_("миниатюра"), max_length=300, blank=True)
    state = models.CharField(
        _("обработка"), max_length=12, choices=PhotoState.choices, default=PhotoState.PROCESSING
    )
    position = models.PositiveSmallIntegerField(_("порядок"), default=0)
    created_at = models.DateTimeField(_("загружено"), default=timezone.now)

    class Meta:
        verbose_name = _("фото заявки")
        verbose_name_plural = _("фото заявок")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["upload_token", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="lead_photo_upload_once",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class LeadDeletion(models.Model):
    """Staff never delete leads; when a platform admin does, this record stays."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="+", verbose_name=_("автосервис")
    )
    lead_number = models.PositiveIntegerField(_("номер заявки"))
    snapshot = models.JSONField(_("что было в заявке"))
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("кто удалил"),
    )
    deleted_at = models.DateTimeField(_("когда"), default=timezone.now)

    class Meta:
        verbose_name = _("удалённая заявка")
        verbose_name_plural = _("удалённые заявки")
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"№{self.lead_number} ({self.shop})"
