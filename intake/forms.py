from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.phones import normalize_phone
from autoservice.plates import normalize_plate
from smartcalc.selectors import body_type_choices

from .models import FuelLevel, ShotTemplate, WarningLamp

VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def normalize_vin(raw: str) -> str:
    vin = re.sub(r"[\s\-]", "", (raw or "").upper())
    if not VIN_RE.match(vin):
        raise forms.ValidationError(
            _("VIN — 17 знаков: латинские буквы и цифры, без I, O и Q. Проверьте табличку или СТС.")
        )
    return vin


class StartForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Шаблон съёмки"), queryset=ShotTemplate.objects.none()
    )
    plate = forms.CharField(label=_("Госномер"), max_length=15, required=False)
    vin = forms.CharField(label=_("VIN"), max_length=25, required=False)
    make = forms.CharField(label=_("Марка"), max_length=60, required=False)
    model = forms.CharField(label=_("Модель"), max_length=60, required=False)
    year = forms.IntegerField(label=_("Год выпуска"), required=False)
    body_type = forms.ChoiceField(label=_("Кузов"), choices=body_type_choices, initial="sedan")
    customer_name = forms.CharField(label=_("Клиент"), max_length=150)
    customer_phone = forms.CharField(label=_("Телефон"), max_length=30)
    customer_email = forms.EmailField(label=_("E-mail"), required=False)
    consent = forms.BooleanField(
        label=_("Клиент согласен на обработку персональных данных"),
        error_messages={"required": _("Без согласия клиента акт оформить нельзя.")},
    )
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = ShotTemplate.objects.filter(
            pk__in=[t.pk for t in templates]
        )

    def clean_plate(self) -> str:
        plate = self.cleaned_data["plate"]
        return normalize_plate(plate) if plate.strip() else ""

    def clean_vin(self) -> str:
        vin = self.cleaned_data["vin"]
        return normalize_vin(vin) if vin.strip() else ""

    def clean_customer_phone(self) -> str:
        return normalize_phone(self.cleaned_data["customer_phone"])

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is not None and not 1960 <= year <= timezone.now().year + 1:
            raise forms.ValidationError(_("Год выпуска — от 1960 до следующего года."))
        return year

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("plate")
            and not cleaned.get("vin")
            and not self.errors.get("plate")
            and not self.errors.get("vin")
        ):
            raise forms.ValidationError(_("Укажите госномер или VIN: по ним акт найдут потом."))
        return cleaned


class DetailsForm(forms.Form):
    odometer_km = forms.IntegerField(
        label=_("Пробег, км"), min_value=0, max_value=3_000_000, required=False
    )
    fuel_level = forms.TypedChoiceField(
        label=_("Топливо"),
        choices=[("", "—"), *FuelLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    warning_lamps = forms.MultipleChoiceField(
        label=_("Горящие индикаторы"),
        choices=WarningLamp.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    belongings = forms.CharField(
        label=_("Вещи в машине"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("Видеорегистратор, детское кресло…")}
        ),
    )
    complaint = forms.CharField(
        label=_("Жалоба клиента"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SkipForm(forms.Form):
    spec = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Почему кадр не снят"),
        max_length=300,
        error_messages={"required": _("Напишите, почему кадр не снят: причина попадёт в акт.")},
    )
