"""Rollups the analytics page reads: one row of facts per lead, per accepted offer line, per
revised estimate (and its parts) and per supplier and day. They are derived from the other
apps' rows by `analytics.services.facts_refresh` (Celery beat, every few minutes) and never
edited by hand; the page aggregates them in the database instead of walking timelines and
offer JSON on every request."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership, Shop
from leads.models import Lead
from optima.models import Supplier
from smartcalc.models import Estimate

MONEY = {"max_digits": 12, "decimal_places": 2}
PCT = {"max_digits": 9, "decimal_places": 2}


class Stage(models.IntegerChoices):
    """The funnel's steps; a lead counts in every step up to the furthest it reached."""

    LEAD = 0, _("заявка")
    CONTACTED = 1, _("связались")
    OFFER_SENT = 2, _("расчёт или предложение отправлено")
    ACCEPTED = 3, _("предложение принято")
    BOOKED = 4, _("записан")
    CAR_IN = 5, _("машина принята")
    WON = 6, _("выполнена")


class Source(models.TextChoices):
    """Where a request came from: the lead's channel, the shop's own website (a driver's form
    sent from a frame there), or the shop's CRM through the API."""

    PHOTO = "photo", _("фото")
    CALCULATOR = "calculator", _("калькулятор")
    EMBEDDED = "embedded", _("форма на сайте сервиса")
    API = "api", _("API (CRM)")
    PHONE = "phone", _("звонок")
    WALK_IN = "walk_in", _("визит")
    MESSENGER = "messenger", _("мессенджер")
    CAMPAIGN = "campaign", _("рассылка")


class PickKind(models.TextChoices):
    RECOMMENDED = "recommended", _("рекомендуемый")
    ORIGINAL = "original", _("оригинал")
    CHEAPEST = "cheapest", _("самый выгодный")
    OTHER = "other", _("другой вариант")


class LeadFact(models.Model):
    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, primary_key=True, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    # In the shop's time zone: the period picker, the hour and the weekday the driver wrote.
    local_date = models.DateField()
    local_hour = models.PositiveSmallIntegerField()
    local_weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    source = models.CharField(max_length=20, choices=Source.choices)
    after_hours = models.BooleanField(default=False)
    response_s = models.PositiveIntegerField(null=True)  # None: not answered yet
    # None while an unanswered lead's deadline is still ahead; else whether it was met.
    in_sla = models.BooleanField(null=True)
    stage = models.PositiveSmallIntegerField(choices=Stage.choices, default=Stage.LEAD)
    lost = models.BooleanField(default=False)
    lost_reason = models.CharField(max_length=300, blank=True)
    offer_sent_rub = models.DecimalField(null=True, **MONEY)
    offer_accepted_rub = models.DecimalField(null=True, **MONEY)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("показатели заявки")
        verbose_name_plural = _("показатели заявок")
        indexes = [models.Index(fields=["shop", "local_date"], name="lead_fact_period_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id}"


class OfferPick(models.Model):
    """One part position of an accepted offer: what the driver picked among the options."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="+")
    version_id = models.PositiveBigIntegerField()
    position = models.PositiveSmallIntegerField()
    local_date = models.DateField()  # the day of acceptance, in the shop's time zone
    kind = models.CharField(max_length=12, choices=PickKind.choices)
    recommended_offered = models.BooleanField(default=False)
    recommended_picked = models.BooleanField(default=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.SET_NULL, null=True, related_name="+")
    supplier_name = models.CharField(max_length=120, blank=True)
    quality = models.CharField(max_length=20, blank=True)
    # What the customer pays for the part without the VAT the shop adds on top, and what it
    # costs the shop: the margin as the offer builder shows it.
    sale_rub = models.DecimalField(**MONEY)
    purchase_rub = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("выбор клиента в предложении")
        verbose_name_plural = _("выборы клиентов в предложениях")
        constraints = [
            models.UniqueConstraint(fields=["version_id", "position"], name="offer_pick_once")
        ]
        indexes = [models.Index(fields=["shop", "local_date"], name="offer_pick_period_idx")]

    def __str__(self) -> str:
        return f"{self.version_id}/{self.position}: {self.kind}"


class EstimateCheck(models.Model):
    """The driver's promised hidden-damage range against what inspection found, for a whole
    estimate (part blank) and for each part in both the first and the last version."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    estimate = models.ForeignKey(Estimate, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()  # the day of the last revision
    model_name = models.CharField(max_length=120)
    part = models.CharField(max_length=30, blank=True)
    part_name = models.CharField(max_length=120, blank=True)
    promised_low_pct = models.DecimalField(**PCT)
    promised_high_pct = models.DecimalField(**PCT)
    found_pct = models.DecimalField(**PCT)

    class Meta:
        verbose_name = _("проверка расчёта осмотром")
        verbose_name_plural = _("проверки расчётов осмотром")
        constraints = [
            models.UniqueConstraint(fields=["estimate", "part"], name="estimate_check_once")
        ]
        indexes = [models.Index(fields=["shop", "local_date"], name="estimate_check_period_idx")]

    def __str__(self) -> str:
        return f"{self.estimate_id} {self.part or '*'}"


class SupplierDay(models.Model):
    """A supplier's answers of one day (shop's time zone): how fast, how often it failed,
    where its price stood against the other suppliers asked for the same number, and how
    the parts ordered that day arrived."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    answers = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)  # answered or "no stock": it worked
    timeouts = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    answered_ms_sum = models.PositiveBigIntegerField(default=0)
    # Numbers this supplier priced that another supplier priced in the same search too.
    compared = models.PositiveIntegerField(default=0)
    cheapest = models.PositiveIntegerField(default=0)
    above_cheapest_pct_sum = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Deliveries ordered that day and marked since: on time, and whether "in stock" was true.
    marked = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    stock_claims = models.PositiveIntegerField(default=0)
    stock_true = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("поставщик за день")
        verbose_name_plural = _("поставщики по дням")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "day"], name="supplier_day_once")
        ]
        indexes = [models.Index(fields=["shop", "day"], name="supplier_day_period_idx")]

    def __str__(self) -> str:
        return f"{self.supplier_id} {self.day}"


class RefreshState(models.Model):
    """When a shop's rollups were last brought up to date (the page says so)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("обновление аналитики")
        verbose_name_plural = _("обновления аналитики")

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.refreshed_at}"
