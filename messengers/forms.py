from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Messenger, MessengerBot

# Telegram: "<bot id>:<35 characters>" as @BotFather gives it.
TELEGRAM_TOKEN = re.compile(r"^\d{5,15}:[A-Za-z0-9_-]{30,60}$")
BAD_TOKEN = {
    Messenger.TELEGRAM: _(
        "Это не токен Telegram-бота. Он выглядит так: 123456789:AAH…, его выдаёт @BotFather "
        "командой /newbot или /token."
    ),
    Messenger.MAX: _(
        "Это не токен бота MAX: скопируйте его на платформе MAX для партнёров — "
        "Чат-боты → ⋮ → Настройки."
    ),
}


class BotForm(forms.Form):
    """The token is a secret: it is never shown back once saved; an empty field keeps it."""

    token = forms.CharField(
        label=_("Токен бота"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    enabled = forms.BooleanField(label=_("Присылать уведомления сотрудникам"), required=False)

    def __init__(self, *args, bot: MessengerBot, **kwargs):
        super().__init__(*args, **kwargs)
        self.bot = bot
        if bot.token:
            self.fields["token"].help_text = _(
                "Токен сохранён. Оставьте поле пустым, чтобы не менять его."
            )
        if not self.is_bound:
            self.initial["enabled"] = bot.enabled

    def clean_token(self) -> str | None:
        token = "".join(self.cleaned_data["token"].split())
        if not token:
            return None
        valid = (
            TELEGRAM_TOKEN.match(token)
            if self.bot.kind == Messenger.TELEGRAM
            else re.fullmatch(r"[A-Za-z0-9_\-.:]{16,300}", token)
        )
        if not valid:
            raise ValidationError(BAD_TOKEN[Messenger(self.bot.kind)], code="bad_token")
        return token

    def clean(self) -> dict:
        data = super().clean()
        if "token" in self.errors:
            return data  # one message about the token is enough
        if data.get("enabled") and not (data.get("token") or self.bot.token):
            self.add_error("token", _("Чтобы включить уведомления, укажите токен бота."))
        return data
