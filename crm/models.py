"""A shop's connection to its CRM (Bitrix24 or amoCRM) and which CRM lead each of our leads
became there."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from autoservice.crypto import EncryptedTextField
from autoservice.models import Shop
from leads.models import Lead


class CrmKind(models.TextChoices):
    BITRIX24 = "bitrix24", _("Битрикс24")
    AMOCRM = "amocrm", _("amoCRM")


class CrmState(models.TextChoices):
    NEW = "new", _("не проверено")
    OK = "ok", _("работает")
    # The CRM refused our key (401): nothing is sent until the manager fixes it.
    ERROR = "error", _("ошибка ключа")


class CrmConnection(models.Model):
    """One CRM of one shop. Bitrix24 is reached by an incoming webhook (its address holds the
    secret code, so it is encrypted); amoCRM by its account address and a long-lived token,
    new leads going to the pipeline stage the manager chose."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="crm_connections", verbose_name=_("автосервис")
    )
    kind = models.CharField(_("CRM"), max_length=20, choices=CrmKind.choices)
    enabled = models.BooleanField(_("передавать заявки"), default=False)
    webhook_url = EncryptedTextField(_("адрес входящего вебхука"), blank=True)
    base_url = models.CharField(_("адрес аккаунта"), max_length=200, blank=True)
    token = EncryptedTextField(_("долгосрочный токен"), blank=True)
    pipeline_id = models.BigIntegerField(_("воронка"), null=True, blank=True)
    status_id = models.BigIntegerField(_("этап"), null=True, blank=True)
    # The account's pipelines as last read from /api/v4/leads/pipelines, for the select:
    # [{"id", "name", "statuses": [{"id", "name"}]}].
    pipelines = models.JSONField(_("воронки"), default=list, blank=True)
    state = models.CharField(
        _("состояние"), max_length=10, choices=CrmState.choices, default=CrmState.NEW
    )
    error_message = models.TextField(_("ошибка"), blank=True)
    error_at = models.DateTimeField(_("ошибка с"), null=True, blank=True)
    last_ok_at = models.DateTimeField(_("последняя передача"), null=True, blank=True)
    updated_at = models.DateTimeField(_("изменено"), auto_now=True)

    class Meta:
        verbose_name = _("подключение CRM")
        verbose_name_plural = _("подключения CRM")
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind"], name="crm_one_connection_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.shop})"

    @property
    def configured(self) -> bool:
        if self.kind == CrmKind.BITRIX24:
            return bool(self.webhook_url)
        return bool(self.base_url and self.token)

    @property
    def stage_label(self) -> str:
        for pipeline in self.pipelines or []:
            if pipeline.get("id") == self.pipeline_id:
                for status in pipeline.get("statuses", []):
                    if status.get("id") == self.status_id:
                        return f"{pipeline.get('name')} → {status.get('name')}"
        return ""


class CrmLeadLink(models.Model):
    """Our lead is this lead in that CRM: later events go to it as comments or notes."""

    connection = models.ForeignKey(
        CrmConnection, on_delete=models.CASCADE, related_name="links", verbose_name=_("CRM")
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="crm_links", verbose_name=_("заявка")
    )
    remote_id = models.BigIntegerField(_("номер в CRM"))
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)

    class Meta:
        verbose_name = _("заявка в CRM")
        verbose_name_plural = _("заявки в CRM")
        constraints = [
            models.UniqueConstraint(fields=["connection", "lead"], name="crm_one_remote_per_lead")
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.remote_id}"
