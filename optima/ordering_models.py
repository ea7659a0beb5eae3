"""Orders to suppliers, placed from a driver's accepted offer: one per (offer version,
supplier), with the client order number stored before the supplier is ever called."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership, Shop

MONEY = {"max_digits": 12, "decimal_places": 2}


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("черновик")
    PLACING = "placing", _("отправляется поставщику")
    PLACED = "placed", _("размещён")
    CONFIRMED = "confirmed", _("подтверждён")
    PARTLY_REJECTED = "partly_rejected", _("частично отклонён")
    SHIPPED = "shipped", _("отгружен")
    DELIVERED = "delivered", _("доставлен")
    FAILED = "failed", _("не размещён")
    CANCELLED = "cancelled", _("отменён")


# Statuses the poller still asks the supplier about.
OPEN_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.CONFIRMED,
    OrderStatus.PARTLY_REJECTED,
    OrderStatus.SHIPPED,
)


class OrderLineStatus(models.TextChoices):
    PENDING = "pending", _("ожидает")
    ORDERED = "ordered", _("заказана")
    CONFIRMED = "confirmed", _("подтверждена")
    REJECTED = "rejected", _("отклонена")
    SHIPPED = "shipped", _("отгружена")
    DELIVERED = "delivered", _("доставлена")
    CANCELLED = "cancelled", _("отменена")


class SupplierOrder(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="supplier_orders")
    supplier = models.ForeignKey(
        "optima.Supplier",
        on_delete=models.RESTRICT,
        related_name="orders",
        verbose_name=_("поставщик"),
    )
    version = models.ForeignKey(
        "optima.OfferVersion", on_delete=models.RESTRICT, related_name="supplier_orders"
    )
    # Our idempotency key: written before the first call, sent with every call (ABCP
    # clientOrderNumber, Armtek TEXT_ORD), and looked for at the supplier after a timeout.
    client_number = models.CharField(_("наш номер заказа"), max_length=40, unique=True)
    supplier_number = models.CharField(_("номер заказа у поставщика"), max_length=60, blank=True)
    status = models.CharField(
        _("статус"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    test_mode = models.BooleanField(_("тестовый заказ"), default=False)
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # While a worker talks to the supplier the order is its own until this moment.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("последняя ошибка"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("создан"), default=timezone.now)
    placing_at = models.DateTimeField(null=True, blank=True)
    placed_at = models.DateTimeField(_("принят"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("подтверждён"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("отклонение"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("отгружен"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("доставлен"), null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(_("отменён"), null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("заказ поставщику")
        verbose_name_plural = _("заказы поставщикам")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "supplier"], name="one_supplier_order_per_offer"
            )
        ]
        indexes = [models.Index(fields=["shop", "status"], name="supplier_order_status_idx")]

    def __str__(self) -> str:
        return self.client_number


class SupplierOrderLine(models.Model):
    order = models.ForeignKey(SupplierOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    brand = models.CharField(_("бренд"), max_length=60)
    number = models.CharField(_("номер"), max_length=60)
    number_key = models.CharField(max_length=60)
    name = models.CharField(_("название"), max_length=200, blank=True)
    qty = models.PositiveIntegerField(_("количество"), default=1)
    # What the customer's offer holds; `qty` is more when the supplier sells in lots.
    qty_needed = models.PositiveIntegerField(_("нужно клиенту"), default=1)
    price_agreed_rub = models.DecimalField(_("цена при заказе, ₽"), **MONEY)
    price_confirmed_rub = models.DecimalField(
        _("цена поставщика, ₽"), null=True, blank=True, **MONEY
    )
    status = models.CharField(
        _("статус"), max_length=12, choices=OrderLineStatus.choices, default=OrderLineStatus.PENDING
    )
    reject_reason = models.CharField(_("причина отказа"), max_length=300, blank=True)
    order_ref = models.JSONField(default=dict, blank=True)
    supplier_line_ref = models.CharField(max_length=60, blank=True)
    delivery = models.ForeignKey(
        "optima.DeliveryRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("строка заказа поставщику")
        verbose_name_plural = _("строки заказов поставщикам")
        ordering = ["order", "position"]

    def __str__(self) -> str:
        return f"{self.brand} {self.number} × {self.qty}"
