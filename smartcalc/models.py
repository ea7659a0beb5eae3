"""Vehicle catalogue, repair-technology data (versioned), europrotocol limits, shop rates
and prices, and the estimates drivers saw."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership, Shop
from leads.models import Lead

from .parts import PARTS, BodyType, Operation

PART_CHOICES = [(code, part.name) for code, part in PARTS.items()]
MONEY = {"max_digits": 12, "decimal_places": 2}
HOURS = {"max_digits": 6, "decimal_places": 2}


class VehicleClass(models.TextChoices):
    B = "B", _("B: Granta, Logan, Solaris, Rio, Polo")
    C = "C", _("C: Vesta, Rapid, Octavia")
    D = "D", _("D: Camry")
    SUV = "SUV", _("кроссовер: Jolion, Coolray, Tiggo 7 Pro, RAV4")


class VehicleMake(models.Model):
    name = models.CharField(_("марка"), max_length=60, unique=True)
    popular = models.BooleanField(_("популярная"), default=False)

    class Meta:
        verbose_name = _("марка")
        verbose_name_plural = _("марки")
        ordering = ["-popular", "name"]

    def __str__(self) -> str:
        return self.name


class VehicleModel(models.Model):
    make = models.ForeignKey(
        VehicleMake, on_delete=models.CASCADE, related_name="models", verbose_name=_("марка")
    )
    name = models.CharField(_("модель"), max_length=60)
    vehicle_class = models.CharField(_("класс"), max_length=4, choices=VehicleClass.choices)
    popular = models.BooleanField(_("популярная"), default=False)
    popularity_rank = models.PositiveSmallIntegerField(
        _("место по частоте ремонта"),
        null=True,
        blank=True,
        help_text=_("1 — чаще всех приезжает в ремонт; пусто — модели нет в списке популярных"),
    )
    popularity_source = models.CharField(_("источник места"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("модель")
        verbose_name_plural = _("модели")
        ordering = ["make__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["make", "name"], name="vehicle_model_unique")
        ]

    def __str__(self) -> str:
        return f"{self.make.name} {self.name}"


class Generation(models.Model):
    model = models.ForeignKey(
        VehicleModel, on_delete=models.CASCADE, related_name="generations", verbose_name=_("модель")
    )
    name = models.CharField(_("поколение"), max_length=60)
    year_from = models.PositiveSmallIntegerField(_("год начала"))
    year_to = models.PositiveSmallIntegerField(_("год окончания"), null=True, blank=True)
    body_types = models.JSONField(_("кузова"), default=list)
    popular = models.BooleanField(_("популярное"), default=False)

    class Meta:
        verbose_name = _("поколение")
        verbose_name_plural = _("поколения")
        ordering = ["model__make__name", "model__name", "-year_from"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="generation_unique")]

    def __str__(self) -> str:
        return f"{self.model} {self.name} ({self.years})"

    @property
    def years(self) -> str:
        return f"{self.year_from}–{self.year_to or ''}"

    def body_choices(self) -> list[tuple[str, str]]:
        return [(code, BodyType(code).label) for code in self.body_types if code in BodyType.values]


class DataVersion(models.Model):
    """One load of the shipped repair-technology data. Estimates name the version they used."""

    label = models.CharField(_("версия"), max_length=40, unique=True)
    sha256 = models.CharField(_("SHA-256 файлов"), max_length=64)
    loaded_at = models.DateTimeField(_("загружена"), default=timezone.now)
    is_current = models.BooleanField(_("действующая"), default=False)

    class Meta:
        verbose_name = _("версия данных ремонта")
        verbose_name_plural = _("версии данных ремонта")
        ordering = ["-loaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="one_current_data"
            )
        ]

    def __str__(self) -> str:
        return self.label


class ClassFactor(models.Model):
    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="factors")
    vehicle_class = models.CharField(_("класс"), max_length=4, choices=VehicleClass.choices)
    body_factor = models.DecimalField(
        _("коэффициент кузовных работ"), max_digits=4, decimal_places=2
    )
    paint_factor = models.DecimalField(_("коэффициент окраски"), max_digits=4, decimal_places=2)
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("поправка по классу")
        verbose_name_plural = _("поправки по классу")
        constraints = [
            models.UniqueConstraint(fields=["version", "vehicle_class"], name="class_factor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_class}: {self.body_factor}/{self.paint_factor}"


class LabourNorm(models.Model):
    """Norm-hours of one part for the base class; a row with a model overrides it."""

    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="norms")
    part = models.CharField(_("деталь"), max_length=30, choices=PART_CHOICES)
    vehicle_model = models.ForeignKey(
        VehicleModel, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("модель")
    )
    remove_refit_h = models.DecimalField(_("снятие/установка, н/ч"), null=True, blank=True, **HOURS)
    replace_h = models.DecimalField(_("замена, н/ч"), null=True, blank=True, **HOURS)
    repair_r1_h = models.DecimalField(_("ремонт Р1, н/ч"), null=True, blank=True, **HOURS)
    repair_r2_h = models.DecimalField(_("ремонт Р2, н/ч"), null=True, blank=True, **HOURS)
    repair_r3_h = models.DecimalField(_("ремонт Р3, н/ч"), null=True, blank=True, **HOURS)
    paint_new_h = models.DecimalField(_("окраска новой, н/ч"), null=True, blank=True, **HOURS)
    paint_repair_small_h = models.DecimalField(
        _("окраска ремонтной ≤50 %, н/ч"), null=True, blank=True, **HOURS
    )
    paint_repair_large_h = models.DecimalField(
        _("окраска ремонтной >50 %, н/ч"), null=True, blank=True, **HOURS
    )
    polish_h = models.DecimalField(_("полировка, н/ч"), null=True, blank=True, **HOURS)
    spot_repair_h = models.DecimalField(
        _("локальный (спот) ремонт, н/ч окраски"), null=True, blank=True, **HOURS
    )
    paint_material_spot = models.DecimalField(
        _("ЛКМ на локальный ремонт, ед."), null=True, blank=True, **HOURS
    )
    paint_material_new = models.DecimalField(_("ЛКМ на новую, ед."), null=True, blank=True, **HOURS)
    paint_material_repair_small = models.DecimalField(
        _("ЛКМ на ремонтную ≤50 %, ед."), null=True, blank=True, **HOURS
    )
    paint_material_repair_large = models.DecimalField(
        _("ЛКМ на ремонтную >50 %, ед."), null=True, blank=True, **HOURS
    )
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("норма времени")
        verbose_name_plural = _("нормы времени")
        ordering = ["version", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "part"],
                condition=models.Q(vehicle_model__isnull=True),
                name="labour_norm_base_unique",
            ),
            models.UniqueConstraint(
                fields=["version", "part", "vehicle_model"], name="labour_norm_model_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_part_display()} ({self.vehicle_model or _('база')})"


class Dependency(models.Model):
    class Applies(models.TextChoices):
        REPAIR = "repair", _("при ремонте")
        REPLACE = "replace", _("при замене")
        PAINT = "paint", _("при окраске")

    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="dependencies")
    part = models.CharField(_("деталь"), max_length=30, choices=PART_CHOICES)
    operation = models.CharField(_("когда"), max_length=10, choices=Applies.choices)
    item = models.CharField(_("сопутствующая работа"), max_length=200)
    hours = models.DecimalField(_("н/ч"), **HOURS)
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("сопутствующая работа")
        verbose_name_plural = _("сопутствующие работы")
        ordering = ["version", "part", "operation"]

    def __str__(self) -> str:
        return self.item


class HiddenDamageRange(models.Model):
    class Severity(models.TextChoices):
        LIGHT = "light", _("лёгкое")
        MEDIUM = "medium", _("среднее")
        HEAVY = "heavy", _("тяжёлое")

    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="hidden")
    part = models.CharField(_("деталь"), max_length=30, choices=PART_CHOICES)
    severity = models.CharField(_("тяжесть"), max_length=10, choices=Severity.choices)
    low_pct = models.DecimalField(_("от, %"), max_digits=5, decimal_places=1)
    high_pct = models.DecimalField(_("до, %"), max_digits=5, decimal_places=1)
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("диапазон скрытых повреждений")
        verbose_name_plural = _("диапазоны скрытых повреждений")
        constraints = [
            models.UniqueConstraint(fields=["version", "part", "severity"], name="hidden_unique"),
            models.CheckConstraint(
                condition=models.Q(low_pct__lte=models.F("high_pct")), name="hidden_low_le_high"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_part_display()} {self.severity}: {self.low_pct}–{self.high_pct} %"


class ReferencePrice(models.Model):
    """Platform prices shown as «ориентировочная» when a shop has none of its own."""

    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="prices")
    vehicle_model = models.ForeignKey(VehicleModel, on_delete=models.CASCADE)
    generation = models.ForeignKey(
        Generation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("поколение"),
        help_text=_("пусто — для всех поколений модели"),
    )
    part = models.CharField(_("деталь"), max_length=30, choices=PART_CHOICES)
    oem_number = models.CharField(_("номер OEM"), max_length=40, blank=True)
    original_rub = models.DecimalField(_("оригинал, ₽"), **MONEY)
    alternative_rub = models.DecimalField(_("аналог, ₽"), null=True, blank=True, **MONEY)
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("справочная цена детали")
        verbose_name_plural = _("справочные цены деталей")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "vehicle_model", "part"],
                condition=models.Q(generation__isnull=True),
                name="reference_price_unique",
            ),
            models.UniqueConstraint(
                fields=["version", "vehicle_model", "part", "generation"],
                name="reference_price_generation_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_model} {self.get_part_display()}"


class EuroprotocolCondition(models.TextChoices):
    PAPER = "paper", _("бумажный бланк")
    APP_DISAGREEMENT = "app_disagreement", _("через приложение, есть разногласия")
    APP_NO_DISAGREEMENT = "app_no_disagreement", _("через приложение, без разногласий")


class EuroprotocolLimit(models.Model):
    """A payout limit for an accident documented without police, as a dated rule."""

    region = models.CharField(
        _("регион"), max_length=100, blank=True, help_text=_("пусто — вся Россия")
    )
    condition = models.CharField(_("условие"), max_length=30, choices=EuroprotocolCondition.choices)
    amount_rub = models.DecimalField(_("лимит, ₽"), **MONEY)
    valid_from = models.DateField(_("действует с"))
    valid_to = models.DateField(_("действует по"), null=True, blank=True)
    title = models.CharField(_("название"), max_length=200)
    conditions_text = models.TextField(_("условия для водителя"))
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("лимит европротокола")
        verbose_name_plural = _("лимиты европротокола")
        ordering = ["amount_rub", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.title}: {self.amount_rub} ₽ с {self.valid_from:%d.%m.%Y}"


class Wmi(models.Model):
    code = models.CharField(_("WMI"), max_length=3)
    make = models.ForeignKey(VehicleMake, on_delete=models.CASCADE, null=True, blank=True)
    models_text = models.CharField(_("модели"), max_length=200, blank=True)
    confirmed = models.BooleanField(_("подтверждён"), default=False)
    source = models.CharField(_("источник"), max_length=300)

    class Meta:
        verbose_name = _("код изготовителя (WMI)")
        verbose_name_plural = _("коды изготовителей (WMI)")
        constraints = [models.UniqueConstraint(fields=["code", "make"], name="wmi_unique")]

    def __str__(self) -> str:
        return self.code


class TaxRegime(models.TextChoices):
    """The shop's tax regime as far as the customer's price is concerned (Russia, 2026).

    Rates and thresholds (НК РФ ст. 145 and 164 as amended by 176-ФЗ of 2024, which brought
    VAT at 5 %/7 % to УСН from 2025, and 425-ФЗ of 2025, which raised the general rate and
    lowered the exemption threshold from 2026): the general VAT rate is 22 % from
    01.01.2026; a shop on УСН is exempt from VAT while its revenue of the previous year is
    at most 20 million ₽ (60 million in 2025; the further steps to 15 and 10 million in
    2027–2028 are from memory, not from the source below); above that it pays VAT at 5 %
    (revenue up to 272.5 million ₽ in 2026) or 7 % (up to 490.5 million ₽) without input
    VAT deduction, or chooses the general 22 % with deduction. Source: dzen.ru/a/
    aTltV9nHfXzd1flS (a 2026 summary of the changes). Thresholds are indexed yearly, so the
    shop chooses its regime; the code does not guess it from revenue."""

    OSN_VAT_22 = "osn_22", _("ОСН, НДС 22 %")
    USN_VAT_5 = "usn_5", _("УСН с НДС 5 %")
    USN_VAT_7 = "usn_7", _("УСН с НДС 7 %")
    USN_NO_VAT = "usn_none", _("УСН без НДС (освобождение)")

    @property
    def vat_percent(self) -> int | None:
        return {"osn_22": 22, "usn_5": 5, "usn_7": 7}.get(self.value)


class VatRounding(models.TextChoices):
    PER_LINE = "line", _("в каждой строке")
    ON_TOTAL = "total", _("один раз на итог")


class BlendPolicy(models.TextChoices):
    ALWAYS = "always", _("всегда")
    METALLIC = "metallic", _("только для металлика и перламутра")
    NEVER = "never", _("никогда")


class ShopRates(models.Model):
    """The shop's own prices of work: what the calculator multiplies hours by."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="calc_rates")
    body_rate_rub = models.DecimalField(_("нормо-час кузовных работ, ₽"), default=2500, **MONEY)
    paint_rate_rub = models.DecimalField(_("нормо-час малярных работ, ₽"), default=2500, **MONEY)
    material_unit_rub = models.DecimalField(
        _("ЛКМ на час окраски, ₽"),
        default=2150,
        help_text=_("Стоимость лакокрасочных материалов на один нормо-час окраски"),
        **MONEY,
    )
    # Empty until the manager chooses: no silent default (a wrong regime misprices every
    # estimate); until then drivers see prices «без учёта налогов» and staff a banner.
    tax_regime = models.CharField(
        _("налоговый режим"),
        max_length=10,
        choices=TaxRegime.choices,
        blank=True,
        help_text=_(
            "С 2026 года: НДС 22 %; на УСН освобождение при доходе до 20 млн ₽ за прошлый "
            "год, выше — НДС 5 % (до 272,5 млн ₽) или 7 % (до 490,5 млн ₽) без вычетов."
        ),
    )
    rates_include_vat = models.BooleanField(
        _("ставки нормо-часа и ЛКМ уже включают НДС"),
        default=True,
        help_text=_("Снимите, если НДС добавляется к ставкам сверху."),
    )
    price_list_includes_vat = models.BooleanField(
        _("цены вашего прайса деталей включают НДС"), default=True
    )
    supplier_prices_include_vat = models.BooleanField(
        _("цены поставщиков включают НДС"), default=True
    )
    vat_rounding = models.CharField(
        _("округление НДС"),
        max_length=5,
        choices=VatRounding.choices,
        default=VatRounding.PER_LINE,
    )
    price_valid_days = models.PositiveSmallIntegerField(_("цена действует, дней"), default=7)
    replace_threshold_pct = models.PositiveSmallIntegerField(
        _("порог замены, % от стоимости замены"), default=75
    )
    blend_policy = models.CharField(
        _("окраска соседних деталей «в переход»"),
        max_length=10,
        choices=BlendPolicy.choices,
        default=BlendPolicy.METALLIC,
        help_text=_(
            "Переход на соседнюю деталь прячет разницу оттенка; у неметаллика его обычно "
            "не делают. Локальный (спот) ремонт переход не требует."
        ),
    )

    class Meta:
        verbose_name = _("ставки калькулятора")
        verbose_name_plural = _("ставки калькулятора")

    def __str__(self) -> str:
        return str(self.shop)


class ShopPartPrice(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="part_prices")
    vehicle_model = models.ForeignKey(
        VehicleModel, on_delete=models.CASCADE, verbose_name=_("модель")
    )
    part = models.CharField(_("деталь"), max_length=30, choices=PART_CHOICES)
    oem_number = models.CharField(_("номер OEM"), max_length=40, blank=True)
    original_rub = models.DecimalField(_("оригинал, ₽"), **MONEY)
    alternative_rub = models.DecimalField(_("аналог, ₽"), null=True, blank=True, **MONEY)
    updated_at = models.DateTimeField(_("обновлено"), auto_now=True)

    class Meta:
        verbose_name = _("цена детали сервиса")
        verbose_name_plural = _("цены деталей сервиса")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "vehicle_model", "part"], name="shop_price_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(original_rub__gt=0), name="shop_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_model} {self.get_part_display()}"


def _token() -> str:
    return secrets.token_urlsafe(18)


class Estimate(models.Model):
    """A driver's calculation; its versions keep exactly what each person saw."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="estimates")
    lead = models.OneToOneField(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="estimate"
    )
    public_token = models.CharField(max_length=32, unique=True, default=_token)
    generation = models.ForeignKey(
        Generation, on_delete=models.PROTECT, verbose_name=_("автомобиль")
    )
    body_type = models.CharField(_("кузов"), max_length=20, choices=BodyType.choices)
    created_at = models.DateTimeField(_("создана"), default=timezone.now)

    class Meta:
        verbose_name = _("расчёт")
        verbose_name_plural = _("расчёты")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.generation.model} — {self.created_at:%d.%m.%Y}"


class EstimateVersion(models.Model):
    estimate = models.ForeignKey(Estimate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("версия"))
    author = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("кто изменил")
    )
    note = models.CharField(_("что изменено"), max_length=300, blank=True)
    inputs = models.JSONField(_("исходные данные"))
    result = models.JSONField(_("строки и итоги"))
    data_version = models.CharField(_("версия данных"), max_length=40)
    total_rub = models.DecimalField(_("итого, ₽"), **MONEY)
    created_at = models.DateTimeField(_("создана"), default=timezone.now)

    class Meta:
        verbose_name = _("версия расчёта")
        verbose_name_plural = _("версии расчёта")
        ordering = ["estimate", "number"]
        constraints = [
            models.UniqueConstraint(fields=["estimate", "number"], name="estimate_version_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.number}"


OPERATION_LABELS = dict(Operation.choices)
