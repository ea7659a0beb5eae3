from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.models import OPEN_STATUSES, Lead

from .models import BookingSettings, JobKind


def _parse_day(text: str) -> dt.date | None:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


class CapacityForm(forms.ModelForm):
    holidays_text = forms.CharField(
        label=_("Нерабочие дни"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("По одной дате в строке или через запятую, например 01.01.2027"),
    )

    class Meta:
        model = BookingSettings
        fields = ["posts", "inspection_minutes", "repair_minutes", "horizon_days", "notice_minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["holidays_text"] = "\n".join(
                day.strftime("%d.%m.%Y") for day in sorted(self.instance.holiday_dates)
            )

    def clean_holidays_text(self) -> list[str]:
        items = [item for item in re.split(r"[\s,;]+", self.cleaned_data["holidays_text"]) if item]
        days, bad = set(), []
        for item in items:
            day = _parse_day(item)
            if day is None:
                bad.append(item)
            else:
                days.add(day)
        if bad:
            raise forms.ValidationError(
                _("Не понятны даты: %(bad)s. Пишите как 01.01.2027.") % {"bad": ", ".join(bad)}
            )
        return sorted(day.isoformat() for day in days)

    def save(self, commit: bool = True) -> BookingSettings:
        self.instance.holidays = self.cleaned_data["holidays_text"]
        return super().save(commit)


class VisitTimeForm(forms.Form):
    day = forms.DateField(
        label=_("День"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    time = forms.TimeField(
        label=_("Время"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    post = forms.TypedChoiceField(label=_("Пост"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, posts: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].choices = [("", _("любой свободный"))] + [
            (n, str(n)) for n in range(1, posts + 1)
        ]

    def start(self, tzinfo) -> dt.datetime:
        return dt.datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"], tzinfo)


class StaffBookingForm(VisitTimeForm):
    lead = forms.ModelChoiceField(label=_("Заявка"), queryset=Lead.objects.none())
    kind = forms.ChoiceField(label=_("Что делаем"), choices=JobKind.choices)
    field_order = ["lead", "kind", "day", "time", "post"]

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = Lead.objects.filter(
            shop=shop, status__in=OPEN_STATUSES, consent_withdrawn_at__isnull=True
        ).order_by("-created_at")
