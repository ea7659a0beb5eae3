from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from autoservice.phones import normalize_phone

from .models import Gateway, SmsSettings

SECRET_KEPT = _("Сохранён. Оставьте поле пустым, чтобы не менять его.")


class SmsSettingsForm(forms.ModelForm):
    """Secrets are write-only: never rendered back; an empty field keeps the saved one."""

    api_key = forms.CharField(label=_("API-ключ SMS.ru (api_id)"), required=False, max_length=200)
    password = forms.CharField(
        label=_("Пароль SMSC (или API-ключ)"), required=False, max_length=200
    )

    class Meta:
        model = SmsSettings
        fields = [
            "gateway",
            "api_key",
            "login",
            "password",
            "sender",
            "cost_per_message",
            "daily_limit",
            "enabled",
        ]
        # «4,50 ₽» as a Russian manager types it (and «4.50» too).
        localized_fields = ["cost_per_message"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        saved = self.instance
        self._saved_secrets = {"api_key": saved.api_key, "password": saved.password}
        self.initial["api_key"] = ""
        self.initial["password"] = ""
        if saved.api_key:
            self.fields["api_key"].help_text = SECRET_KEPT
        if saved.password:
            self.fields["password"].help_text = SECRET_KEPT
        self.fields["sender"].help_text = _(
            "До 11 латинских букв и цифр, согласованное в шлюзе; пусто — имя шлюза по умолчанию."
        )

    def clean_sender(self) -> str:
        sender = self.cleaned_data["sender"].strip()
        if sender and not re.fullmatch(r"[A-Za-z0-9 ._\-]{2,11}", sender):
            raise ValidationError(
                _("Имя отправителя: от 2 до 11 латинских букв, цифр, точки, дефиса."),
                code="bad_sender",
            )
        return sender

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("enabled"):
            return data
        gateway = data.get("gateway")
        saved = self._saved_secrets
        if gateway == Gateway.SMSRU and not (data.get("api_key") or saved["api_key"]):
            self.add_error("api_key", _("Вставьте API-ключ SMS.ru, чтобы включить отправку."))
        if gateway == Gateway.SMSC:
            if not data.get("login"):
                self.add_error("login", _("Укажите логин SMSC, чтобы включить отправку."))
            if not (data.get("password") or saved["password"]):
                self.add_error("password", _("Укажите пароль SMSC, чтобы включить отправку."))
        return data

    def save(self, commit: bool = True) -> SmsSettings:
        conf = super().save(commit=False)
        for secret in ("api_key", "password"):
            value = (self.cleaned_data.get(secret) or "").strip()
            setattr(conf, secret, value or self._saved_secrets[secret])
        if commit:
            conf.save()
        return conf


class TestSmsForm(forms.Form):
    phone = forms.CharField(label=_("Номер для тестового SMS"), max_length=30)

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])
