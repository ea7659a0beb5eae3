from __future__ import annotations

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from autoservice.models import Membership
from autoservice.phones import normalize_phone

from .models import Channel

PHONE_SALT = "customers.code-phone"


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Поиск"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Телефон, имя, госномер или VIN")}
        ),
    )


class ContactsForm(forms.Form):
    name = forms.CharField(label=_("Имя"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    preferred_channel = forms.ChoiceField(
        label=_("Предпочтительный канал"), choices=Channel.choices
    )
    manager = forms.ModelChoiceField(
        label=_("Персональный менеджер"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("— не назначен —"),
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = staff
        self.fields["manager"].label_from_instance = lambda m: m.display_name


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Заметка"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Напишите текст заметки.")},
    )


class LinkRequestForm(forms.Form):
    phone = forms.CharField(
        label=_("Телефон"),
        max_length=30,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "+7 912 345-67-89",
            }
        ),
    )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class CodeForm(forms.Form):
    """The code the SMS brought; the phone rides along signed (never in the URL)."""

    code = forms.CharField(
        label=_("Код из SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "placeholder": "123456"}
        ),
        error_messages={"required": _("Введите 6 цифр из SMS.")},
    )
    phone_signed = forms.CharField(widget=forms.HiddenInput)

    @staticmethod
    def sign_phone(phone: str) -> str:
        return signing.dumps(phone, salt=PHONE_SALT)

    def clean_phone_signed(self) -> str:
        try:
            return signing.loads(
                self.cleaned_data["phone_signed"], salt=PHONE_SALT, max_age=15 * 60
            )
        except signing.BadSignature:
            return ""

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("phone_signed"):
            # Shown above the form (the field itself is hidden).
            raise forms.ValidationError(_("Форма устарела: запросите код ещё раз."), code="stale")
        return data

    def clean_code(self) -> str:
        code = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if len(code) != 6:
            raise forms.ValidationError(_("В коде 6 цифр: введите его из SMS."))
        return code
