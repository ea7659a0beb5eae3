from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.forms import DriverContactForm
from leads.services import LeadInput


class PhotoRequestForm(DriverContactForm):
    """The driver's photo request: the shared contact fields plus the car's make and model.
    Photos are handled beside it (uploaded one by one with JavaScript, or as the plain
    `photos` files) so that a form error never loses them."""

    vehicle_make = forms.CharField(
        label=_("Марка"), max_length=60, widget=forms.TextInput(attrs={"placeholder": "Kia"})
    )
    vehicle_model = forms.CharField(
        label=_("Модель"), max_length=60, widget=forms.TextInput(attrs={"placeholder": "Rio"})
    )

    field_order = [
        "description",
        "vehicle_make",
        "vehicle_model",
        "vehicle_year",
        "plate",
        "customer_name",
        "phone",
        "email",
        "preferred_contact",
        "consent",
    ]

    def lead_input(self) -> LeadInput:
        return self.contact(
            vehicle_make=self.cleaned_data["vehicle_make"],
            vehicle_model=self.cleaned_data["vehicle_model"],
        )
