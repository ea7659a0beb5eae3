"""Vehicle intake: shot-list templates, intake records with their shots, signatures, the
sealed manifest chained per shop, and addenda after sealing."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import ConsentRecord, Membership, Shop
from leads.models import Lead


class ShotTemplate(models.Model):
    """A shot list. Platform templates have no shop; a shop edits its own copies. Every
    change is a new version (a new row); records keep the version they used."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="shot_templates"
    )
    name = models.CharField(_("название"), max_length=120)
    family = models.CharField(_("шаблон"), max_length=40, help_text=_("общий код версий"))
    version = models.PositiveIntegerField(_("версия"), default=1)
    is_current = models.BooleanField(_("действующая версия"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("шаблон съёмки")
        verbose_name_plural = _("шаблоны съёмки")
        ordering = ["shop_id", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "family", "version"], name="shot_template_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ShotSpec(models.Model):
    template = models.ForeignKey(ShotTemplate, on_delete=models.CASCADE, related_name="specs")
    position = models.PositiveSmallIntegerField(_("порядок"))
    code = models.CharField(_("код"), max_length=40)
    name = models.CharField(_("кадр"), max_length=120)
    instruction = models.CharField(_("как снимать"), max_length=300)
    guide = models.CharField(_("контур-подсказка"), max_length=40, blank=True)
    required = models.BooleanField(_("обязательный"), default=True)
    min_count = models.PositiveSmallIntegerField(_("сколько кадров минимум"), default=1)
    is_damage = models.BooleanField(_("крупный план повреждения"), default=False)

    class Meta:
        verbose_name = _("кадр шаблона")
        verbose_name_plural = _("кадры шаблона")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="shot_spec_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class FuelLevel(models.IntegerChoices):
    EMPTY = 0, _("пусто")
    QUARTER = 2, _("1/4")
    HALF = 4, _("1/2")
    THREE_QUARTERS = 6, _("3/4")
    FULL = 8, _("полный")


class WarningLamp(models.TextChoices):
    """Lamps lit on the dashboard at intake, named as the act prints them."""

    CHECK_ENGINE = "check_engine", _("неисправность двигателя (Check Engine)")
    ABS = "abs", _("ABS (антиблокировочная система)")
    AIRBAG = "airbag", _("подушки безопасности")
    OIL = "oil", _("давление масла")
    BATTERY = "battery", _("заряд аккумулятора")
    BRAKE = "brake", _("тормозная система")
    TPMS = "tpms", _("давление в шинах")
    COOLANT = "coolant", _("температура двигателя")


class RecordKind(models.TextChoices):
    INTAKE = "intake", _("приёмка")
    RETURN = "return", _("выдача")


class SealKind(models.TextChoices):
    # Records sealed before keyed seals: verified as before, anyone could have recomputed them.
    SHA256 = "sha256", _("SHA-256 без ключа (до ключевых печатей)")
    HMAC = "hmac-sha256", _("HMAC-SHA256 с ключом")


def _token() -> str:
    return secrets.token_urlsafe(24)


class IntakeRecord(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="intake_records")
    number = models.PositiveIntegerField(_("номер акта"))
    kind = models.CharField(_("вид"), max_length=10, choices=RecordKind.choices, default="intake")
    return_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="return_record"
    )
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True)
    template = models.ForeignKey(ShotTemplate, on_delete=models.PROTECT, verbose_name=_("шаблон"))
    public_token = models.CharField(max_length=40, unique=True, default=_token)
    plate = models.CharField(_("госномер"), max_length=12, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    make = models.CharField(_("марка"), max_length=60, blank=True)
    model = models.CharField(_("модель"), max_length=60, blank=True)
    year = models.PositiveSmallIntegerField(_("год выпуска"), null=True, blank=True)
    customer_name = models.CharField(_("клиент"), max_length=150)
    customer_phone = models.CharField(_("телефон"), max_length=16)
    customer_email = models.EmailField(_("e-mail"), blank=True)
    consent = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, null=True, blank=True)
    odometer_km = models.PositiveIntegerField(_("пробег, км"), null=True, blank=True)
    fuel_level = models.PositiveSmallIntegerField(
        _("топливо"), choices=FuelLevel.choices, null=True, blank=True
    )
    warning_lamps = models.JSONField(_("горящие индикаторы"), default=list, blank=True)
    belongings = models.TextField(_("вещи в машине"), blank=True)
    complaint = models.TextField(_("жалоба клиента"), blank=True)
    damages = models.JSONField(_("имеющиеся повреждения"), default=list, blank=True)
    body_type = models.CharField(_("кузов"), max_length=20, default="sedan")
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    customer_signature = models.FileField(_("подпись клиента"), blank=True, max_length=300)
    advisor_signature = models.FileField(_("подпись мастера"), blank=True, max_length=300)
    sealed_at = models.DateTimeField(_("опечатан"), null=True, blank=True)
    sealed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    manifest = models.JSONField(_("манифест"), null=True, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    previous_seal = models.CharField(max_length=64, blank=True)
    seal_sha256 = models.CharField(max_length=64, blank=True)
    seal_index = models.PositiveIntegerField(null=True, blank=True)
    seal_kind = models.CharField(
        _("вид печати"), max_length=12, choices=SealKind.choices, blank=True
    )
    seal_key_id = models.CharField(_("ключ печати"), max_length=40, blank=True)
    # A signed act is evidence in a dispute about damage: kept, under a legal hold, until this
    # date even when its customer asks for erasure (152-FZ art. 21 p. 5 allows it while
    # another law or a claim needs it); after it the retention run erases it.
    legal_hold_until = models.DateField(_("хранится до"), null=True, blank=True)
    legal_hold_reason = models.CharField(_("основание хранения"), max_length=300, blank=True)
    personal_data_erased_at = models.DateTimeField(
        _("персональные данные удалены"), null=True, blank=True
    )

    # What sealing writes, and nothing else may: the admin shows them read-only.
    SEAL_FIELDS = (
        "manifest",
        "manifest_sha256",
        "previous_seal",
        "seal_sha256",
        "seal_index",
        "seal_kind",
        "seal_key_id",
        "sealed_at",
        "sealed_by",
    )

    class Meta:
        verbose_name = _("акт приёма-передачи")
        verbose_name_plural = _("акты приёма-передачи")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="intake_number_per_shop"),
            models.UniqueConstraint(
                fields=["shop", "seal_index"],
                condition=models.Q(seal_index__isnull=False),
                name="intake_seal_index_unique",
            ),
            # One intake being shot per lead; after signing, the next visit starts afresh.
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(lead__isnull=False, kind="intake", sealed_at__isnull=True),
                name="intake_one_draft_per_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"№{self.number} {self.plate or self.vin}"

    @property
    def is_sealed(self) -> bool:
        return self.sealed_at is not None

    def warning_lamp_labels(self) -> list[str]:
        """The lit lamps in Russian, as the act and the signing screen name them."""
        return [
            WarningLamp(code).label if code in WarningLamp.values else code
            for code in self.warning_lamps
        ]

    @property
    def personal_data_hidden(self) -> bool:
        """Staff no longer read its personal data: erased, or its hold date has passed
        and the retention run has not come yet."""
        if self.personal_data_erased_at is not None:
            return True
        return self.legal_hold_until is not None and self.legal_hold_until < timezone.localdate()


class IntakeShot(models.Model):
    record = models.ForeignKey(IntakeRecord, on_delete=models.CASCADE, related_name="shots")
    spec = models.ForeignKey(ShotSpec, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField()
    file = models.FileField(max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now)
    captured_at = models.DateTimeField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True)
    quality = models.JSONField(default=dict)
    accepted = models.BooleanField(default=True)
    damage_part = models.CharField(max_length=30, blank=True)
    web = models.FileField(max_length=300, blank=True)
    thumb = models.FileField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("кадр приёмки")
        verbose_name_plural = _("кадры приёмки")
        ordering = ["record", "spec__position", "received_at"]
        constraints = [
            models.UniqueConstraint(fields=["record", "client_id"], name="intake_shot_once")
        ]

    def __str__(self) -> str:
        return f"{self.spec.name} ({self.record})"


class ShotSkip(models.Model):
    record = models.ForeignKey(IntakeRecord, on_delete=models.CASCADE, related_name="skips")
    spec = models.ForeignKey(ShotSpec, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("почему не снят"), max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("пропущенный кадр")
        verbose_name_plural = _("пропущенные кадры")
        constraints = [models.UniqueConstraint(fields=["record", "spec"], name="intake_skip_once")]

    def __str__(self) -> str:
        return f"{self.spec.name}: {self.reason}"


class Addendum(models.Model):
    """A correction after sealing: the record stays as signed; this is added beside it."""

    record = models.ForeignKey(IntakeRecord, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(_("дополнение"))
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sha256 = models.CharField(max_length=64)
    # The key of its HMAC digest; empty for addenda digested with plain SHA-256 before keys.
    key_id = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("дополнение к акту")
        verbose_name_plural = _("дополнения к актам")
        ordering = ["record", "created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class SealHead(models.Model):
    """The latest seal of a shop's chain: deleting the newest sealed record is detectable too."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="intake_seal_head")
    index = models.PositiveIntegerField()
    seal_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("последняя печать")
        verbose_name_plural = _("последние печати")

    def __str__(self) -> str:
        return f"{self.shop}: {self.index}"
