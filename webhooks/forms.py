from django import forms
from django.utils.translation import gettext_lazy as _

from autoservice.events import EVENT_TYPES
from autoservice.outbound import outbound_url_validator


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Адрес приёмника"),
        max_length=500,
        validators=[outbound_url_validator],
        error_messages={"required": _("Укажите адрес, на который отправлять события.")},
    )
    description = forms.CharField(label=_("Описание"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("События"),
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Отметьте хотя бы одно событие.")},
    )

    def clean_url(self) -> str:
        return self.cleaned_data["url"].strip()
