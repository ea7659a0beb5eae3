from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from autoservice.decimals import CommaDecimalField, comma_decimal_formfield
from leads.forms import DriverContactForm
from leads.services import LeadInput

from . import engine
from .models import Generation, ShopPartPrice, ShopRates, TaxRegime, VehicleModel
from .parts import DamageKind, DamageSize, Operation, PaintType, parts_for_body


def parse_damages(data, body_type: str) -> tuple[list[engine.Damage], dict[str, str]]:
    """The picker's selects (kind_<part>, size_<part>) as damages, and a Russian error per
    part that is half filled or tampered with. Unknown fields are ignored."""
    damages: list[engine.Damage] = []
    errors: dict[str, str] = {}
    for part in parts_for_body(body_type):
        kind = (data.get(f"kind_{part.code}") or "").strip()
        size = (data.get(f"size_{part.code}") or "").strip()
        operation = (data.get(f"op_{part.code}") or "").strip()
        if not kind and not size:
            continue
        if kind not in DamageKind.values:
            errors[part.code] = _("Выберите вид повреждения из списка.")
        elif kind == DamageKind.BROKEN and size in ("", *DamageSize.values):
            # A broken or missing part is replaced whatever its size: no size is needed,
            # and one given by the list view is dropped so that the line does not speak of it.
            damages.append(engine.Damage(part.code, kind, "", operation))
        elif size not in DamageSize.values:
            errors[part.code] = _("Укажите размер повреждения в ладонях.")
        elif operation and operation not in Operation.values:
            errors[part.code] = _("Такой операции нет: выберите из списка.")
        else:
            damages.append(engine.Damage(part.code, kind, size, operation))
    return damages, errors


def parse_paint_type(data) -> str:
    """The paint the driver chose; anything else (or nothing) is «не знаю»."""
    value = (data.get("paint_type") or "").strip()
    return value if value in PaintType.values else PaintType.UNKNOWN


def picker_rows(body_type: str, damages: list[engine.Damage]) -> list[dict]:
    chosen = {d.part: d for d in damages}
    return [
        {
            "code": part.code,
            "name": part.name,
            "kind": chosen[part.code].kind if part.code in chosen else "",
            "size": chosen[part.code].size if part.code in chosen else "",
            "operation": chosen[part.code].operation if part.code in chosen else "",
        }
        for part in parts_for_body(body_type)
    ]


class ExtraItemForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Работа или деталь"), max_length=200, required=False)
    labour_hours = CommaDecimalField(
        label=gettext_lazy("Н/ч кузовных"),
        min_value=0,
        max_digits=6,
        decimal_places=2,
        required=False,
    )
    paint_hours = CommaDecimalField(
        label=gettext_lazy("Н/ч окраски"),
        min_value=0,
        max_digits=6,
        decimal_places=2,
        required=False,
    )
    part_rub = CommaDecimalField(
        label=gettext_lazy("Деталь, ₽"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
    )

    def item(self) -> engine.ExtraItem | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return engine.ExtraItem(
            name=data["name"],
            labour_hours=data.get("labour_hours") or Decimal("0"),
            paint_hours=data.get("paint_hours") or Decimal("0"),
            part_rub=data.get("part_rub") or Decimal("0"),
        )


ExtraItemFormSet = forms.formset_factory(ExtraItemForm, extra=2, max_num=20)


class RevisionNoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Что изменилось после осмотра"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("Например: скрытая трещина усилителя")}
        ),
        error_messages={
            "required": gettext_lazy("Напишите, что изменилось: клиент увидит это в истории.")
        },
    )


class ShopRatesForm(forms.ModelForm):
    class Meta:
        model = ShopRates
        fields = [
            "body_rate_rub",
            "paint_rate_rub",
            "material_unit_rub",
            "tax_regime",
            "rates_include_vat",
            "price_list_includes_vat",
            "supplier_prices_include_vat",
            "vat_rounding",
            "price_valid_days",
            "replace_threshold_pct",
            "blend_policy",
        ]
        widgets = {"vat_rounding": forms.RadioSelect, "blend_policy": forms.RadioSelect}
        formfield_callback = comma_decimal_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        regime = self.fields["tax_regime"]
        regime.required = True
        regime.error_messages["required"] = _(
            "Выберите налоговый режим: от него зависит, как считается НДС в расчётах."
        )
        regime.choices = [("", _("— выберите режим —")), *TaxRegime.choices]

    def clean_replace_threshold_pct(self) -> int:
        value = self.cleaned_data["replace_threshold_pct"]
        if not 30 <= value <= 100:
            raise forms.ValidationError(_("Порог замены — от 30 до 100 %."))
        return value

    def clean(self):
        cleaned = super().clean()
        for field in ("body_rate_rub", "paint_rate_rub", "material_unit_rub"):
            value = cleaned.get(field)
            if value is not None and value <= 0:
                self.add_error(field, _("Ставка должна быть больше нуля."))
        return cleaned


class PriceImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Файл прайса (CSV или XLSX)"),
        help_text=gettext_lazy("Колонки: марка, модель, деталь, номер OEM, оригинал ₽, аналог ₽."),
    )


class ShopPartPriceForm(forms.ModelForm):
    vehicle_model = forms.ModelChoiceField(
        label=gettext_lazy("Модель"), queryset=VehicleModel.objects.select_related("make")
    )

    class Meta:
        model = ShopPartPrice
        fields = ["vehicle_model", "part", "oem_number", "original_rub", "alternative_rub"]
        formfield_callback = comma_decimal_formfield


class CalcContactForm(DriverContactForm):
    """The driver's contact and consent, as on the photo form; the vehicle is already known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].label = gettext_lazy("Комментарий")
        self.fields["description"].widget.attrs["placeholder"] = gettext_lazy(
            "Например: удобно приехать в субботу"
        )

    def lead_input(self, generation: Generation) -> LeadInput:
        return self.contact(
            vehicle_make=generation.model.make.name,
            vehicle_model=f"{generation.model.name} {generation.name}",
        )
