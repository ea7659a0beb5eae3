from __future__ import annotations

import secrets
import uuid

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.phones import normalize_phone
from autoservice.plates import normalize_plate
from leads.models import PreferredContact
from leads.services import LeadInput

FORM_TOKEN_SALT = "photoportal.form"
FORM_TOKEN_MAX_AGE = 24 * 3600


def form_token_issue(shop_id: int) -> str:
    """A signed token for one form: the key its photos wait under and its submission key."""
    return signing.dumps(
        {"s": shop_id, "u": secrets.token_urlsafe(24), "k": str(uuid.uuid4())},
        salt=FORM_TOKEN_SALT,
    )


def form_token_read(token: str, shop_id: int) -> dict | None:
    try:
        data = signing.loads(token or "", salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("s") != shop_id:
        return None
    return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotoRequestForm(forms.Form):
    """The driver's request. Photos are handled beside it (uploaded one by one with
    JavaScript, or as the plain `photos` files) so that a form error never loses them."""

    description = forms.CharField(
        label=_("Что случилось"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Например: задел столб, вмятина на задней двери")}
        ),
    )
    vehicle_make = forms.CharField(
        label=_("Марка"), max_length=60, widget=forms.TextInput(attrs={"placeholder": "Kia"})
    )
    vehicle_model = forms.CharField(
        label=_("Модель"), max_length=60, widget=forms.TextInput(attrs={"placeholder": "Rio"})
    )
    vehicle_year = forms.IntegerField(
        label=_("Год выпуска"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "2018"}),
    )
    plate = forms.CharField(
        label=_("Госномер"),
        max_length=15,
        required=False,
        help_text=_("Необязательно"),
        widget=forms.TextInput(attrs={"placeholder": "А123ВС77", "autocapitalize": "characters"}),
    )
    customer_name = forms.CharField(
        label=_("Ваше имя"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
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
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Необязательно"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    preferred_contact = forms.ChoiceField(
        label=_("Как с вами связаться"),
        choices=PreferredContact.choices,
        initial=PreferredContact.CALL,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_("Согласен на обработку персональных данных"),
        error_messages={
            "required": _("Без согласия на обработку персональных данных заявку отправить нельзя.")
        },
    )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean_plate(self) -> str:
        plate = self.cleaned_data["plate"]
        return normalize_plate(plate) if plate.strip() else ""

    def clean_vehicle_year(self) -> int | None:
        year = self.cleaned_data["vehicle_year"]
        this_year = timezone.now().year
        if year is not None and not 1960 <= year <= this_year + 1:
            raise forms.ValidationError(
                _("Год выпуска — от 1960 до %(max)s.") % {"max": this_year + 1}
            )
        return year

    def lead_input(self) -> LeadInput:
        data = self.cleaned_data
        return LeadInput(
            customer_name=data["customer_name"].strip(),
            phone=data["phone"],
            email=data["email"],
            preferred_contact=data["preferred_contact"],
            vehicle_make=data["vehicle_make"].strip(),
            vehicle_model=data["vehicle_model"].strip(),
            vehicle_year=data["vehicle_year"],
            plate=data["plate"],
            description=data["description"].strip(),
        )
