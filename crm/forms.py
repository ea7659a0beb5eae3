from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from autoservice.outbound import outbound_url_validator

from .clients import amo_base_url, bitrix_webhook_ok
from .models import CrmConnection

BAD_WEBHOOK = _(
    "Это не адрес входящего вебхука Битрикс24. Нужен адрес вида "
    "https://портал.bitrix24.ru/rest/1/код/ — в Битрикс24: Разработчикам → Другое → "
    "Входящий вебхук, право «CRM»."
)


class Bitrix24Form(forms.Form):
    """The webhook's address holds its secret code: it is never shown back once saved; an
    empty field keeps the saved one."""

    webhook_url = forms.CharField(
        label=_("Адрес входящего вебхука"),
        required=False,
        max_length=500,
        widget=forms.TextInput(
            attrs={
                "placeholder": "https://portal.bitrix24.ru/rest/1/abc123/",
                "autocomplete": "off",
            }
        ),
    )
    enabled = forms.BooleanField(label=_("Передавать заявки в Битрикс24"), required=False)

    def __init__(self, *args, connection: CrmConnection, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection.webhook_url:
            # The portal's host is no secret (the code after /rest/<user>/ is).
            self.fields["webhook_url"].help_text = _(
                "Сохранён вебхук портала %(host)s. Оставьте поле пустым, чтобы не менять его."
            ) % {"host": urlsplit(connection.webhook_url).netloc}
        if not self.is_bound:
            self.initial["enabled"] = connection.enabled

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if not url:
            return ""
        if not bitrix_webhook_ok(url):
            raise ValidationError(BAD_WEBHOOK, code="bad_webhook")
        outbound_url_validator(url)
        return url if url.endswith("/") else url + "/"

    def clean(self) -> dict:
        data = super().clean()
        missing = not (data.get("webhook_url") or self.connection.webhook_url)
        if data.get("enabled") and missing and "webhook_url" not in self.errors:
            self.add_error(
                "webhook_url", _("Вставьте адрес входящего вебхука, чтобы включить передачу.")
            )
        return data

    def apply(self) -> bool:
        """Put the cleaned values on the connection; True when the secret changed."""
        connection = self.connection
        connection.enabled = self.cleaned_data["enabled"]
        url = self.cleaned_data["webhook_url"]
        if url and url != connection.webhook_url:
            connection.webhook_url = url
            return True
        return False


class AmoCrmForm(forms.Form):
    base_url = forms.CharField(
        label=_("Адрес аккаунта amoCRM"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "https://sto.amocrm.ru"}),
        help_text=_("Можно ввести только поддомен, например «sto»."),
    )
    token = forms.CharField(
        label=_("Долгосрочный токен"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )
    stage = forms.ChoiceField(label=_("Воронка и этап для новых заявок"), required=False)
    enabled = forms.BooleanField(label=_("Передавать заявки в amoCRM"), required=False)

    def __init__(self, *args, connection: CrmConnection, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        groups: list = [("", "—")]
        for pipeline in connection.pipelines or []:
            groups.append(
                (
                    pipeline["name"],
                    [
                        (f"{pipeline['id']}:{status['id']}", status["name"])
                        for status in pipeline.get("statuses", [])
                    ],
                )
            )
        self.fields["stage"].choices = groups
        if connection.token:
            self.fields["token"].help_text = _(
                "Токен сохранён. Оставьте поле пустым, чтобы не менять его."
            )
        else:
            self.fields["token"].help_text = _(
                "amoCRM → Настройки → Интеграции → ваша внешняя интеграция → Ключи и доступы → "
                "Долгосрочный токен."
            )
        if not self.is_bound:
            self.initial.update(
                base_url=connection.base_url,
                enabled=connection.enabled,
                stage=(
                    f"{connection.pipeline_id}:{connection.status_id}"
                    if connection.status_id
                    else ""
                ),
            )

    @property
    def stage_groups(self) -> list:
        return [group for group in self.fields["stage"].choices if group[0]]

    def clean_base_url(self) -> str:
        raw = self.cleaned_data["base_url"].strip()
        if not raw:
            return ""
        url = amo_base_url(raw)
        try:
            outbound_url_validator(url)
        except ValidationError:
            raise ValidationError(
                _(
                    "Адрес аккаунта amoCRM не подходит: нужен вид https://поддомен.amocrm.ru "
                    "(или только поддомен)."
                ),
                code="bad_amo_url",
            ) from None
        return url

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if token and (len(token) < 20 or not token.isascii()):
            raise ValidationError(
                _("Это не похоже на токен amoCRM: скопируйте долгосрочный токен целиком."),
                code="bad_token",
            )
        return token

    def clean_stage(self) -> tuple[int, int] | None:
        value = self.cleaned_data["stage"]
        if not value:
            return None
        pipeline, _sep, status = value.partition(":")
        return int(pipeline), int(status)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("enabled"):
            if not (data.get("base_url") or self.connection.base_url):
                self.add_error("base_url", _("Укажите адрес аккаунта amoCRM."))
            if not (data.get("token") or self.connection.token):
                self.add_error("token", _("Вставьте долгосрочный токен."))
            if not data.get("stage") and "stage" not in self.errors:
                self.add_error(
                    "stage", _("Нажмите «Проверить», затем выберите этап для новых заявок.")
                )
        return data

    def apply(self) -> bool:
        connection = self.connection
        data = self.cleaned_data
        changed = False
        connection.enabled = data["enabled"]
        if data["stage"]:
            connection.pipeline_id, connection.status_id = data["stage"]
        if data["base_url"] and data["base_url"] != connection.base_url:
            # Another account has other pipelines: until «Проверить» loads them and the
            # manager picks a stage, amoCRM puts new leads in its main pipeline's first stage.
            connection.base_url = data["base_url"]
            connection.pipelines = []
            connection.pipeline_id = connection.status_id = None
            changed = True
        if data["token"] and data["token"] != connection.token:
            connection.token = data["token"]
            changed = True
        return changed
