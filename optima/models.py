"""Suppliers of a shop, its pricing rules, part searches, and the offers drivers accept."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.crypto import EncryptedTextField
from autoservice.models import Membership, Shop
from leads.models import Lead

MONEY = {"max_digits": 12, "decimal_places": 2}
PCT = {"max_digits": 5, "decimal_places": 2}


class Quality(models.TextChoices):
    ORIGINAL = "original", _("оригинал")
    OE_REPLACEMENT = "oe_replacement", _("ОЕМ-качество")
    AFTERMARKET = "aftermarket", _("неоригинал")
    UNKNOWN = "unknown", _("не указано")


class SupplierKind(models.TextChoices):
    ABCP = "abcp", _("API платформы ABCP")
    ARMTEK = "armtek", _("API Армтек")
    AUTOEURO = "autoeuro", _("API Автоевро")
    ROSSKO = "rossko", _("API Росско (SOAP)")
    PARTSSOFT = "partssoft", _("API магазина на Parts-Soft")
    PRICELIST = "pricelist", _("прайс-лист (CSV/XLSX)")


class Supplier(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="suppliers")
    name = models.CharField(_("название"), max_length=120)
    kind = models.CharField(_("как подключён"), max_length=20, choices=SupplierKind.choices)
    base_url = models.URLField(_("адрес API"), blank=True)
    login = models.CharField(_("логин"), max_length=120, blank=True)
    # Stored for the adapters only: encrypted in its column, never shown back in full, never
    # logged.
    secret = EncryptedTextField(_("пароль или ключ"), blank=True)
    options = models.JSONField(_("параметры API"), default=dict, blank=True)
    discount_pct = models.DecimalField(_("скидка сервиса, %"), default=0, **PCT)
    cutoff_time = models.TimeField(_("приём заказов до"), default=dt.time(14, 0))
    transit_days = models.PositiveSmallIntegerField(_("доставка до сервиса, дней"), default=0)
    timeout_s = models.DecimalField(
        _("ожидание ответа, с"), default=4, max_digits=4, decimal_places=1
    )
    is_active = models.BooleanField(_("включён"), default=True)
    pricelist_url = models.URLField(_("адрес прайса для загрузки по расписанию"), blank=True)
    pricelist_loaded_at = models.DateTimeField(_("прайс загружен"), null=True, blank=True)
    # Ordering: where a price-list supplier takes orders (an e-mail with an XLSX), and whether
    # API orders go to the supplier's test method (Armtek createTestOrder) instead of real ones.
    order_email = models.EmailField(_("адрес для заказов"), blank=True)
    order_test_mode = models.BooleanField(
        _("тестовые заказы (поставщик ничего не отгружает)"), default=False
    )

    class Meta:
        verbose_name = _("поставщик")
        verbose_name_plural = _("поставщики")
        ordering = ["shop", "name"]

    def __str__(self) -> str:
        return self.name

    def secret_reentry_reason(self, *, base_url: str, login: str) -> str | None:
        """Why the stored secret may not be kept for these new address and login: "base_url"
        or "login" when it would go to another address or with another login than the one
        it was entered for; None when keeping it is safe (same place, cleared address, or
        nothing stored)."""
        if not self.secret:
            return None
        if base_url and base_url != self.base_url:
            return "base_url"
        if login != self.login:
            return "login"
        return None

    @property
    def secret_masked(self) -> str:
        return (
            f"••••{self.secret[-2:]}" if len(self.secret) > 4 else ("••••" if self.secret else "")
        )


class SupplierRequestCount(models.Model):
    """How many API requests a supplier account has made on one day (Moscow time): suppliers
    such as Armtek allow a fixed number per day and block the account past it."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="request_counts")
    day = models.DateField(_("день (по Москве)"))
    requests = models.PositiveIntegerField(_("запросов"), default=0)
    # The supplier itself said the quota is spent: the day is closed whatever our count says.
    spent_by_supplier = models.BooleanField(
        _("поставщик сообщил, что лимит исчерпан"), default=False
    )

    class Meta:
        verbose_name = _("запросы к поставщику за день")
        verbose_name_plural = _("запросы к поставщикам по дням")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "day"], name="one_request_count_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} {self.day}: {self.requests}"


class SupplierDiscount(models.Model):
    """A discount for one brand and/or quality tier, overriding the supplier's own."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="discounts")
    brand = models.CharField(_("бренд"), max_length=60, blank=True)
    quality = models.CharField(_("качество"), max_length=20, choices=Quality.choices, blank=True)
    discount_pct = models.DecimalField(_("скидка, %"), **PCT)

    class Meta:
        verbose_name = _("скидка по бренду или качеству")
        verbose_name_plural = _("скидки по бренду или качеству")

    def __str__(self) -> str:
        return f"{self.brand or '*'} / {self.quality or '*'}: {self.discount_pct} %"


class PriceListRow(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="pricelist")
    brand = models.CharField(max_length=60)
    number_raw = models.CharField(max_length=60)
    number_key = models.CharField(max_length=60, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    price_rub = models.DecimalField(**MONEY)
    qty = models.IntegerField(null=True, blank=True)
    delivery_days = models.PositiveSmallIntegerField(default=0)
    warehouse = models.CharField(max_length=120, blank=True)
    warranty_months = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("строка прайса поставщика")
        verbose_name_plural = _("строки прайсов поставщиков")

    def __str__(self) -> str:
        return f"{self.brand} {self.number_raw}"


class PricingSettings(models.Model):
    """How a shop turns purchase prices into customer prices, and its search rules."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="parts_pricing")
    round_to_rub = models.PositiveIntegerField(_("округлять до, ₽"), default=10)
    allow_below_purchase = models.BooleanField(_("разрешить цену ниже закупки"), default=False)
    search_deadline_s = models.DecimalField(
        _("ждать поставщиков не дольше, с"), default=4, max_digits=4, decimal_places=1
    )
    recommend_threshold_pct = models.PositiveSmallIntegerField(
        _("рекомендовать лучшее, если дороже самого дешёвого не больше чем на, %"), default=30
    )
    offer_valid_days = models.PositiveSmallIntegerField(_("предложение действует, дней"), default=3)
    order_price_tolerance_pct = models.DecimalField(
        _("предупреждать, если поставщик изменил цену заказа больше чем на, %"),
        default=5,
        **PCT,
    )
    allow_used_parts = models.BooleanField(
        _("предлагать б/у и уценённые детали наравне с новыми"),
        default=False,
        help_text=_(
            "Выключено: б/у и уценка видны в результатах поиска с пометкой, но не попадают "
            "в предложение клиенту и не участвуют в выборе самого дешёвого и рекомендуемого."
        ),
    )
    show_supplier_prices_to_drivers = models.BooleanField(
        _("показывать водителю цены поставщиков"),
        default=False,
        help_text=_(
            "В калькуляторе у деталей с номером OEM водитель видит цену из ответов ваших "
            "поставщиков не старше суток, с вашей наценкой и датой. Нет такого ответа — "
            "цена из вашего прайса, затем справочная."
        ),
    )

    class Meta:
        verbose_name = _("правила цен на запчасти")
        verbose_name_plural = _("правила цен на запчасти")

    def __str__(self) -> str:
        return str(self.shop)


class MarkupRule(models.Model):
    """Markup by the supplier's list price band and quality tier (empty tier: any)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="markup_rules")
    quality = models.CharField(_("качество"), max_length=20, choices=Quality.choices, blank=True)
    price_from_rub = models.DecimalField(_("цена от, ₽"), default=0, **MONEY)
    markup_pct = models.DecimalField(_("наценка, %"), **PCT)

    class Meta:
        verbose_name = _("правило наценки")
        verbose_name_plural = _("правила наценки")
        ordering = ["shop", "quality", "price_from_rub"]

    def __str__(self) -> str:
        return _("%(quality)s от %(price)s: %(pct)s %%") % {
            "quality": self.quality or "*",
            "price": self.price_from_rub,
            "pct": self.markup_pct,
        }


class BrandRating(models.Model):
    """What the platform knows of a brand, for the recommendation: data, not code."""

    brand = models.CharField(_("бренд"), max_length=60, unique=True)
    rating = models.PositiveSmallIntegerField(_("оценка, 1–5"), default=3)
    warranty_months = models.PositiveSmallIntegerField(_("гарантия производителя, мес."), default=0)
    certified = models.BooleanField(_("есть сертификат соответствия"), default=False)
    material_note = models.CharField(_("материал и исполнение"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("рейтинг бренда")
        verbose_name_plural = _("рейтинги брендов")
        ordering = ["-rating", "brand"]

    def __str__(self) -> str:
        return f"{self.brand} ({self.rating})"


class SafetyKeyword(models.Model):
    """A word in a part's name that makes it safety-relevant (фара, тормоз, ремень…)."""

    keyword = models.CharField(_("слово в названии"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("признак детали, важной для безопасности")
        verbose_name_plural = _("признаки деталей, важных для безопасности")

    def __str__(self) -> str:
        return self.keyword


class CrossReference(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="cross_references"
    )
    number_key = models.CharField(_("номер"), max_length=60, db_index=True)
    analogue_brand = models.CharField(_("бренд аналога"), max_length=60)
    analogue_key = models.CharField(_("номер аналога"), max_length=60)

    class Meta:
        verbose_name = _("кросс-номер")
        verbose_name_plural = _("кросс-номера")

    def __str__(self) -> str:
        return f"{self.number_key} → {self.analogue_brand} {self.analogue_key}"


class Search(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="part_searches")
    created_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True)
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True)
    numbers = models.JSONField(_("номера"))
    # Cross numbers from the shop's (or the platform's) table, asked too: analogue → number.
    crosses = models.JSONField(_("кросс-номера"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("поиск запчастей")
        verbose_name_plural = _("поиски запчастей")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return ", ".join(self.numbers[:3])


class SupplierAnswer(models.Model):
    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="answers")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    number_key = models.CharField(max_length=60)
    state = models.CharField(max_length=20)
    message = models.CharField(max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    from_cache = models.BooleanField(default=False)
    fetched_at = models.DateTimeField(default=timezone.now)
    offers = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["search", "supplier", "number_key"], name="one_answer_per_supplier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} {self.number_key}: {self.state}"


class KnownPrice(models.Model):
    """A supplier's last answer for one number, kept for the calculator's live prices (the
    5-minute cache of searches is too short for them): filled by every search and by the
    daily refresh of the catalogue's OEM numbers. Each offer keeps its own `fetched_at`."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="known_prices")
    number_key = models.CharField(max_length=60)
    fetched_at = models.DateTimeField()
    offers = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supplier", "number_key"], name="known_price_unique")
        ]
        indexes = [models.Index(fields=["number_key", "fetched_at"], name="known_price_number")]

    def __str__(self) -> str:
        return f"{self.supplier_id} {self.number_key} ({self.fetched_at:%Y-%m-%d %H:%M})"


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("черновик")
    SENT = "sent", _("отправлено")
    ACCEPTED = "accepted", _("принято")
    EXPIRED = "expired", _("истекло")
    WITHDRAWN = "withdrawn", _("отозвано")


def _token() -> str:
    return secrets.token_urlsafe(24)


class CustomerOffer(models.Model):
    """An offer to the driver: labour lines and parts positions with up to three options.
    Every revision is a new version; the link always opens the latest."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_offers")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="customer_offers")
    token = models.CharField(max_length=40, unique=True, default=_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("предложение клиенту")
        verbose_name_plural = _("предложения клиентам")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"№{self.lead.number}"


class OfferVersion(models.Model):
    offer = models.ForeignKey(CustomerOffer, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=OfferStatus.choices, default=OfferStatus.DRAFT)
    author = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="+")
    # The search whose stored answers the builder picks from: a revision reuses them, so
    # changing the offer never asks the suppliers again.
    search = models.ForeignKey(
        Search, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    labour = models.JSONField(_("работы"), default=list)
    positions = models.JSONField(_("позиции с вариантами"), default=list)
    valid_until = models.DateField(_("действует до"), null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_choice = models.JSONField(default=dict, blank=True)
    accepted_total_rub = models.DecimalField(null=True, blank=True, **MONEY)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    accepted_user_agent = models.CharField(max_length=400, blank=True)
    question = models.TextField(blank=True)
    recheck = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offer", "number"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "number"], name="offer_version_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.get_status_display()})"


class DeliveryRecord(models.Model):
    """One part ordered from a supplier for an accepted offer, and what really happened:
    the source of the supplier's measured reliability."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="deliveries")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="deliveries")
    version = models.ForeignKey(
        OfferVersion, on_delete=models.SET_NULL, null=True, related_name="deliveries"
    )
    brand = models.CharField(_("бренд"), max_length=60)
    number = models.CharField(_("номер"), max_length=60)
    promised_on = models.DateField(_("обещано к"))
    claimed_in_stock = models.BooleanField(_("было «в наличии»"), default=False)
    arrived_on = models.DateField(_("пришло"), null=True, blank=True)
    not_delivered = models.BooleanField(_("не пришло"), default=False)
    was_in_stock = models.BooleanField(_("наличие подтвердилось"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("поставка")
        verbose_name_plural = _("поставки")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["supplier", "created_at"], name="delivery_supplier_idx")]

    def __str__(self) -> str:
        return f"{self.brand} {self.number} ← {self.supplier}"

    @property
    def is_marked(self) -> bool:
        return self.arrived_on is not None or self.not_delivered


# Supplier orders live in their own module; imported here so that Django sees the models.
from .ordering_models import (  # noqa: E402, F401
    OrderLineStatus,
    OrderStatus,
    SupplierOrder,
    SupplierOrderLine,
)
