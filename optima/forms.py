from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autoservice.decimals import CommaDecimalField, comma_decimal_formfield
from autoservice.outbound import outbound_url_validator

from .models import MarkupRule, PricingSettings, Supplier, SupplierDiscount, SupplierKind
from .services import NumbersError, SupplierSecretRequired, numbers_parse


class SearchForm(forms.Form):
    numbers = forms.CharField(
        label=_("Номера деталей (OEM)"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "86511-4L000\n6RU807221"}),
        help_text=_("По одному в строке или через запятую; пробелы, дефисы и точки не важны."),
        error_messages={
            "required": _("Вставьте хотя бы один номер детали (OEM), по одному в строке.")
        },
    )
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_numbers(self) -> list[str]:
        try:
            return numbers_parse(self.cleaned_data["numbers"])
        except NumbersError as exc:
            raise forms.ValidationError(exc.message) from None


class SupplierForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("Адрес API"),
        required=False,
        assume_scheme="https",
        validators=[outbound_url_validator],
    )
    pricelist_url = forms.URLField(
        label=_("Адрес прайса для загрузки по расписанию"),
        required=False,
        assume_scheme="https",
        validators=[outbound_url_validator],
    )
    secret = forms.CharField(
        label=_("Пароль или ключ"),
        required=False,
        max_length=255,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Оставьте пустым, чтобы не менять. Мы не показываем его целиком. "
            "Если меняете адрес API или логин, введите пароль ещё раз."
        ),
    )

    # Connection settings kept in the supplier's options, with a field each (the options
    # JSON below stays for anything else). Empty: the API's default.
    kunnr_za = forms.CharField(
        label=_("Armtek: адрес доставки или пункт выдачи (KUNNR_ZA)"),
        required=False,
        max_length=20,
        help_text=_(
            "Код из «Структуры клиента» в личном кабинете Армтек; без него некоторые "
            "договоры в России не получают предложений."
        ),
    )
    incoterms = forms.ChoiceField(
        label=_("Armtek: как получаем (INCOTERMS)"),
        required=False,
        choices=[("", _("как в договоре")), ("0", _("доставка")), ("1", _("самовывоз"))],
    )
    use_online_stocks = forms.BooleanField(
        label=_("ABCP: искать и на online-складах поставщика"),
        required=False,
        initial=True,
        help_text=_("Медленнее, но без этого часть складов поставщика не видна."),
    )
    batch = forms.BooleanField(
        label=_("ABCP: поставщик разрешает пакетный поиск (search/batch)"),
        required=False,
    )
    daily_request_limit = forms.IntegerField(
        label=_("Лимит запросов к API в сутки"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        error_messages={
            "min_value": _("Лимит — целое число от 0 (без лимита) до 1 000 000."),
            "max_value": _("Лимит — целое число от 0 (без лимита) до 1 000 000."),
            "invalid": _("Лимит — целое число от 0 (без лимита) до 1 000 000."),
        },
        help_text=_(
            "У Армтек по умолчанию 1000 запросов поиска в сутки. Пусто — как принято у "
            "этого типа поставщика, 0 — без лимита."
        ),
    )
    OPTION_FIELDS = ("kunnr_za", "incoterms", "use_online_stocks", "batch", "daily_request_limit")
    OPTION_KEYS = {
        "kunnr_za": "KUNNR_ZA",
        "incoterms": "INCOTERMS",
        "use_online_stocks": "use_online_stocks",
        "batch": "batch",
        "daily_request_limit": "daily_request_limit",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = self.instance.options or {}
        for name, key in self.OPTION_KEYS.items():
            if key in options:
                self.initial[name] = options[key]
        if "use_online_stocks" not in options:
            self.initial["use_online_stocks"] = True

    class Meta:
        model = Supplier
        fields = [
            "name",
            "kind",
            "base_url",
            "login",
            "secret",
            "options",
            "kunnr_za",
            "incoterms",
            "use_online_stocks",
            "batch",
            "daily_request_limit",
            "discount_pct",
            "cutoff_time",
            "transit_days",
            "timeout_s",
            "pricelist_url",
            "order_email",
            "order_test_mode",
            "is_active",
        ]
        widgets = {"cutoff_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
        formfield_callback = comma_decimal_formfield

    def clean_secret(self) -> str:
        # base_url and login come before secret, so they are cleaned by now; an address that
        # failed its own check is reported there.
        secret = self.cleaned_data.get("secret") or ""
        if not secret and "base_url" in self.cleaned_data:
            reason = self.instance.secret_reentry_reason(
                base_url=self.cleaned_data["base_url"], login=self.cleaned_data.get("login", "")
            )
            if reason is not None:
                raise forms.ValidationError(SupplierSecretRequired(reason).message)
        return secret

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in (SupplierKind.ABCP, SupplierKind.ARMTEK) and not cleaned.get("base_url"):
            self.add_error(
                "base_url", _("Для API нужен адрес, например https://id123.public.api.abcp.ru")
            )
        discount = cleaned.get("discount_pct")
        if discount is not None and not 0 <= discount < 100:
            self.add_error("discount_pct", _("Скидка — от 0 до 99 %."))
        options = cleaned.get("options")
        if isinstance(options, dict):
            options = dict(options)
            only_for = {
                "kunnr_za": SupplierKind.ARMTEK,
                "incoterms": SupplierKind.ARMTEK,
                "use_online_stocks": SupplierKind.ABCP,
                "batch": SupplierKind.ABCP,
            }
            for name, key in self.OPTION_KEYS.items():
                value = cleaned.get(name)
                if only_for.get(name, kind) != kind:
                    options.pop(key, None)
                elif name in ("use_online_stocks", "batch"):
                    options[key] = bool(value)
                elif value in (None, ""):
                    options.pop(key, None)
                else:
                    options[key] = value.strip() if isinstance(value, str) else value
            cleaned["options"] = options
        return cleaned

    def save(self, commit: bool = True) -> Supplier:
        supplier = super().save(commit=False)
        if not self.cleaned_data.get("secret") and self.instance.pk:
            supplier.secret = Supplier.objects.get(pk=self.instance.pk).secret
        if commit:
            supplier.save()
        return supplier


class PricingSettingsForm(forms.ModelForm):
    class Meta:
        model = PricingSettings
        fields = [
            "round_to_rub",
            "allow_below_purchase",
            "search_deadline_s",
            "recommend_threshold_pct",
            "offer_valid_days",
            "order_price_tolerance_pct",
            "allow_used_parts",
        ]
        formfield_callback = comma_decimal_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty (or absent from an older form), the tolerance stays what it was.
        self.fields["order_price_tolerance_pct"].required = False

    def clean_order_price_tolerance_pct(self):
        value = self.cleaned_data.get("order_price_tolerance_pct")
        if value is None:
            return self.instance.order_price_tolerance_pct
        if not 0 <= value <= 100:
            raise forms.ValidationError(_("От 0 до 100 %."))
        return value

    def clean_search_deadline_s(self):
        value = self.cleaned_data["search_deadline_s"]
        if not 1 <= value <= 30:
            raise forms.ValidationError(_("От 1 до 30 секунд."))
        return value


MarkupFormSet = forms.modelformset_factory(
    MarkupRule,
    fields=["quality", "price_from_rub", "markup_pct"],
    extra=2,
    can_delete=True,
    formfield_callback=comma_decimal_formfield,
)


class PriceListUploadForm(forms.Form):
    file = forms.FileField(label=_("Прайс поставщика (CSV или XLSX)"))


class LabourLineForm(forms.Form):
    name = forms.CharField(label=_("Работа"), max_length=200, required=False)
    # The estimate line an edited line came from ("estimate:<n>"), so that the builder keeps
    # the edit instead of adding the line again.
    source = forms.RegexField(regex=r"^estimate:\d{1,4}$", required=False, widget=forms.HiddenInput)
    price_rub = CommaDecimalField(
        label=_("Цена, ₽"), min_value=0, max_digits=12, decimal_places=2, required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("name") and cleaned.get("price_rub") is None:
            self.add_error("price_rub", _("Укажите цену работы."))
        return cleaned


LabourFormSet = forms.formset_factory(LabourLineForm, extra=2, max_num=40)


class DeliveryMarkForm(forms.Form):
    OUTCOMES = [
        ("arrived", _("пришло")),
        ("not_delivered", _("не пришло")),
    ]
    record = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Итог"), choices=OUTCOMES)
    arrived_on = forms.DateField(
        label=_("Дата"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    was_in_stock = forms.ChoiceField(
        label=_("Наличие подтвердилось"),
        choices=[("", _("не знаю")), ("yes", _("да")), ("no", _("нет"))],
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == "arrived" and not cleaned.get("arrived_on"):
            self.add_error("arrived_on", _("Укажите, когда деталь пришла."))
        return cleaned


SupplierDiscountFormSet = forms.inlineformset_factory(
    Supplier,
    SupplierDiscount,
    fields=["brand", "quality", "discount_pct"],
    extra=1,
    can_delete=True,
    formfield_callback=comma_decimal_formfield,
)
