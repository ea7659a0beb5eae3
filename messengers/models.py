"""A shop's Telegram and MAX bots, the chats its staff linked to them, and one-time codes."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.crypto import EncryptedTextField
from autoservice.models import Membership, Shop

LINK_CODE_TTL = dt.timedelta(minutes=15)


class Messenger(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    MAX = "max", _("MAX")


class MessengerBot(models.Model):
    """The shop's bot in one messenger: its token (encrypted at rest) and where polling for
    link codes stopped."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="messenger_bots", verbose_name=_("автосервис")
    )
    kind = models.CharField(_("мессенджер"), max_length=10, choices=Messenger.choices)
    token = EncryptedTextField(_("токен бота"), blank=True)
    enabled = models.BooleanField(_("включено"), default=False)
    bot_username = models.CharField(_("имя бота"), max_length=100, blank=True)
    checked_at = models.DateTimeField(_("проверено"), null=True, blank=True)
    # Telegram getUpdates offset / MAX GET /updates marker: updates before it were read.
    updates_marker = models.BigIntegerField(_("прочитано до"), null=True, blank=True)

    class Meta:
        verbose_name = _("бот мессенджера")
        verbose_name_plural = _("боты мессенджеров")
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind"], name="messenger_bot_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.shop})"

    @property
    def ready(self) -> bool:
        return self.enabled and bool(self.token)


class LinkState(models.TextChoices):
    ACTIVE = "active", _("привязан")
    # The person blocked the bot (Telegram 403): nothing is sent until they link again.
    BROKEN = "broken", _("бот заблокирован")


class ChatLink(models.Model):
    """One staff member's chat with the shop's bot in one messenger."""

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="chat_links",
        verbose_name=_("сотрудник"),
    )
    kind = models.CharField(_("мессенджер"), max_length=10, choices=Messenger.choices)
    chat_id = models.CharField(_("чат"), max_length=40)
    chat_name = models.CharField(_("имя в мессенджере"), max_length=150, blank=True)
    state = models.CharField(
        _("состояние"), max_length=10, choices=LinkState.choices, default=LinkState.ACTIVE
    )
    broken_reason = models.CharField(_("причина"), max_length=300, blank=True)
    broken_at = models.DateTimeField(_("сломано"), null=True, blank=True)
    # An advisor on leave switches this off: new leads go only to those on duty.
    on_duty = models.BooleanField(_("на смене: получать новые заявки"), default=True)
    linked_at = models.DateTimeField(_("привязано"), default=timezone.now)

    class Meta:
        verbose_name = _("привязанный чат")
        verbose_name_plural = _("привязанные чаты")
        constraints = [
            models.UniqueConstraint(fields=["membership", "kind"], name="chat_link_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.membership.display_name}: {self.get_kind_display()} {self.chat_id}"


class LinkCode(models.Model):
    """A one-time code the staff member sends to the bot to link their chat."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="link_codes", verbose_name=_("сотрудник")
    )
    kind = models.CharField(_("мессенджер"), max_length=10, choices=Messenger.choices)
    code = models.CharField(_("код"), max_length=16, unique=True)
    expires_at = models.DateTimeField(_("действует до"))
    used_at = models.DateTimeField(_("использован"), null=True, blank=True)

    class Meta:
        verbose_name = _("код привязки")
        verbose_name_plural = _("коды привязки")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.membership.display_name}"
