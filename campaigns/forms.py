from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Campaign, ReminderRule

_DAY_MONTH = re.compile(r"^\d{2}\.\d{2}$")


def _check_placeholders(text: str) -> str:
    unknown = {p for p in re.findall(r"\{[^{}]*\}", text)} - {"{имя}", "{авто}", "{ссылка}"}
    if unknown:
        raise forms.ValidationError(
            _("Неизвестная вставка %(p)s: можно {имя}, {авто} и {ссылка}.")
            % {"p": ", ".join(sorted(unknown))}
        )
    return text


class ReminderRuleForm(forms.ModelForm):
    class Meta:
        model = ReminderRule
        fields = [
            "name",
            "kind",
            "enabled",
            "interval_months",
            "warranty_months",
            "days_before",
            "spring_date",
            "autumn_date",
            "mileage_step_km",
            "text",
        ]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def clean_text(self) -> str:
        return _check_placeholders(self.cleaned_data["text"])

    def _clean_day_month(self, name: str) -> str:
        value = self.cleaned_data[name].strip()
        import datetime as dt

        try:
            if not _DAY_MONTH.match(value):
                raise ValueError
            day, month = (int(p) for p in value.split("."))
            dt.date(2024, month, day)
        except ValueError:
            raise forms.ValidationError(
                _("Дата в виде ДД.ММ, например 01.04 для 1 апреля.")
            ) from None
        return value

    def clean_spring_date(self) -> str:
        return self._clean_day_month("spring_date")

    def clean_autumn_date(self) -> str:
        return self._clean_day_month("autumn_date")


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "make", "model", "not_seen_months", "text"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "make": forms.TextInput(attrs={"placeholder": "Kia"}),
            "model": forms.TextInput(attrs={"placeholder": "Rio"}),
        }
        help_texts = {
            "text": _(
                "Можно вставить {имя}, {авто} и {ссылка} (ссылка на бесплатную диагностику); "
                "ссылка отписки добавляется сама."
            ),
            "not_seen_months": _("Пусто — все, кто давал согласие на рекламу."),
        }

    def clean_text(self) -> str:
        return _check_placeholders(self.cleaned_data["text"])
