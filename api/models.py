from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import ApiToken, Shop
from leads.models import Lead


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` the shop's CRM sent with a new lead: the same key again answers
    with the same lead; the same key with another body is a conflict."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("ключ"), max_length=200)
    body_sha256 = models.CharField(_("SHA-256 тела запроса"), max_length=64)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("когда"), default=timezone.now)

    class Meta:
        verbose_name = _("ключ идемпотентности")
        verbose_name_plural = _("ключи идемпотентности")
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="api_idempotency_key_per_shop")
        ]

    def __str__(self) -> str:
        return self.key
