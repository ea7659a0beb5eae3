from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership

from .models import Channel, Lead, Status
from .selectors import InboxFilters


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Поиск"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Телефон, имя или госномер")}),
    )
    status = forms.ChoiceField(
        label=_("Статус"), required=False, choices=[("", _("Все статусы")), *Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Канал"), required=False, choices=[("", _("Все каналы")), *Channel.choices]
    )
    assignee = forms.ChoiceField(label=_("Ответственный"), required=False)
    period = forms.ChoiceField(
        label=_("Период"),
        required=False,
        choices=[
            ("", _("За всё время")),
            ("today", _("Сегодня")),
            ("7d", _("7 дней")),
            ("30d", _("30 дней")),
        ],
    )

    def __init__(self, *args, staff: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Все")),
            ("none", _("Не назначен")),
            *[(str(m.pk), m.display_name) for m in staff],
        ]

    def filters(self) -> InboxFilters:
        if not self.is_valid():
            return InboxFilters(q=self.data.get("q", "")[:100])
        return InboxFilters(**{k: v or "" for k, v in self.cleaned_data.items()})


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Ответственный"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("— не назначен —"),
    )

    def __init__(self, *args, lead: Lead, staff, **kwargs):
        kwargs.setdefault("initial", {"assignee": lead.assignee_id})
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Новый статус"))
    reason = forms.CharField(
        label=_("Причина отказа"),
        required=False,
        max_length=300,
        help_text=_("Обязательна для статуса «отказ»: дорого, долго, уехал к конкурентам…"),
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, Status(s).label) for s in lead.allowed_statuses()]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Status.LOST and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Укажите причину отказа: она нужна для отчёта по потерям."))
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Заметка"),
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("Что выяснили, о чём договорились")}
        ),
        error_messages={"required": _("Заметка пустая: напишите, что произошло.")},
    )


class ContactedForm(forms.Form):
    note = forms.CharField(
        label=_("Итог разговора"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": _("Например: записал на завтра 10:00")}),
    )
