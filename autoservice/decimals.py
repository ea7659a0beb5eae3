"""Decimal inputs as a Russian user types them: «1,5» and «1.5» are the same number, «2 600»
may carry spaces between thousands, and the value comes back shown with a comma (the page's
locale). Used by every staff settings form with rates, discounts, percentages and hours."""

from __future__ import annotations

import re

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

_SPACES = re.compile(r"[\s\u00a0\u202f]")


class CommaDecimalField(forms.DecimalField):
    """A DecimalField in a text box (a number box shows nothing for «1,5» in most browsers)
    with the decimal keypad on phones."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _("Введите число, например 1,5 (запятая или точка)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.setdefault("inputmode", "decimal")
        return attrs

    def to_python(self, value):
        if isinstance(value, str):
            value = _SPACES.sub("", value).replace(",", ".")
            if value.count(".") > 1:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def comma_decimal_formfield(db_field: models.Field, **kwargs) -> forms.Field | None:
    """`formfield_callback` for model forms: every decimal column takes a comma."""
    if isinstance(db_field, models.DecimalField):
        kwargs.setdefault("form_class", CommaDecimalField)
    return db_field.formfield(**kwargs)
