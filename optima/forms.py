from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autoservice.decimals import CommaDecimalField, comma_decimal_formfield
from autoservice.outbound import outbound_url_validator

from .models import MarkupRule, PricingSettings, Supplier, SupplierDiscount, SupplierKind
from .services import NumbersError, SupplierSecretRequired, numbers_parse
from .suppliers.rossko import DEFAULT_BASE_URL as ROSSKO_BASE_URL


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
        help_text=_(
            "Для Автоевро можно оставить пустым (https://api.autoeuro.ru/api/v2/json); "
            "для Parts-Soft — адрес сайта поставщика."
        ),
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
    autoeuro_delivery_key = forms.CharField(
        label=_("Автоевро: способ получения (delivery_key)"),
        required=False,
        max_length=200,
        help_text=_(
            "Ключ способа доставки или пункта выдачи из личного кабинета shop.autoeuro.ru "
            "(список get_deliveries). Без него Автоевро не отвечает на поиск."
        ),
    )
    autoeuro_payer_key = forms.CharField(
        label=_("Автоевро: плательщик (payer_key)"),
        required=False,
        max_length=200,
        help_text=_(
            "Ключ плательщика из личного кабинета (список get_payers). Нужен для заказов "
            "через API; без него детали Автоевро заказываются на сайте поставщика."
        ),
    )
    partssoft_api_path = forms.ChoiceField(
        label=_("Parts-Soft: путь к API на сайте поставщика"),
        required=False,
        choices=[
            ("", _("определить самим")),
            ("/api/v1/search", "/api/v1/search"),
            ("/backend/price_items/api/v1/search", "/backend/price_items/api/v1/search"),
        ],
        help_text=_("Оставьте «определить самим», если поставщик не назвал путь."),
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
    # Rossko: KEY1 goes in the login field, KEY2 in the secret; these are the checkout's
    # settings. Once loaded from Rossko (GetCheckoutDetails) they become lists to choose from.
    rossko_delivery_id = forms.CharField(
        label=_("Росско: способ получения (delivery_id)"),
        required=False,
        max_length=20,
        help_text=_(
            "KEY1 Росско впишите в поле «Логин», KEY2 — в поле «Пароль или ключ», сохраните и "
            "нажмите «Загрузить способы доставки»: способы и адреса появятся списком."
        ),
    )
    rossko_address_id = forms.CharField(
        label=_("Росско: адрес доставки (address_id)"),
        required=False,
        max_length=20,
        help_text=_("Пусто — самовывоз со склада Росско."),
    )
    rossko_payment_id = forms.CharField(
        label=_("Росско: способ оплаты заказов (payment_id)"), required=False, max_length=20
    )
    rossko_requisite_id = forms.CharField(
        label=_("Росско: организация-плательщик (requisite_id)"), required=False, max_length=20
    )
    rossko_contact_name = forms.CharField(
        label=_("Росско: контакт для заказов — имя"), required=False, max_length=80
    )
    rossko_contact_phone = forms.CharField(
        label=_("Росско: контакт для заказов — телефон"), required=False, max_length=30
    )
    OPTION_FIELDS = (
        "kunnr_za",
        "incoterms",
        "use_online_stocks",
        "batch",
        "autoeuro_delivery_key",
        "autoeuro_payer_key",
        "partssoft_api_path",
        "daily_request_limit",
        "rossko_delivery_id",
        "rossko_address_id",
        "rossko_payment_id",
        "rossko_requisite_id",
        "rossko_contact_name",
        "rossko_contact_phone",
    )
    OPTION_KEYS = {
        "kunnr_za": "KUNNR_ZA",
        "incoterms": "INCOTERMS",
        "use_online_stocks": "use_online_stocks",
        "batch": "batch",
        "autoeuro_delivery_key": "delivery_key",
        "autoeuro_payer_key": "payer_key",
        "partssoft_api_path": "api_path",
        "daily_request_limit": "daily_request_limit",
        "rossko_delivery_id": "delivery_id",
        "rossko_address_id": "address_id",
        "rossko_payment_id": "payment_id",
        "rossko_requisite_id": "requisite_id",
        "rossko_contact_name": "contact_name",
        "rossko_contact_phone": "contact_phone",
    }
    ROSSKO_CHOICES = {
        "rossko_delivery_id": "deliveries",
        "rossko_address_id": "addresses",
        "rossko_payment_id": "payments",
        "rossko_requisite_id": "companies",
    }
    # Option fields that belong to one kind only: dropped from the options of the others.
    OPTION_KIND = {
        "kunnr_za": SupplierKind.ARMTEK,
        "incoterms": SupplierKind.ARMTEK,
        "use_online_stocks": SupplierKind.ABCP,
        "batch": SupplierKind.ABCP,
        "autoeuro_delivery_key": SupplierKind.AUTOEURO,
        "autoeuro_payer_key": SupplierKind.AUTOEURO,
        "partssoft_api_path": SupplierKind.PARTSSOFT,
        **{name: SupplierKind.ROSSKO for name in OPTION_KEYS if name.startswith("rossko_")},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = self.instance.options or {}
        for name, key in self.OPTION_KEYS.items():
            if key in options:
                self.initial[name] = options[key]
        if "use_online_stocks" not in options:
            self.initial["use_online_stocks"] = True
        if "rossko_choices" in options:
            # What Rossko listed is kept apart from the options the manager edits by hand.
            self.initial["options"] = {k: v for k, v in options.items() if k != "rossko_choices"}
        loaded = (
            options.get("rossko_choices") if self.instance.kind == SupplierKind.ROSSKO else None
        )
        if isinstance(loaded, dict):
            for name, key in self.ROSSKO_CHOICES.items():
                rows = [row for row in loaded.get(key) or [] if isinstance(row, list) and row]
                if not rows:
                    continue
                empty = _("самовывоз (без адреса)") if key == "addresses" else _("— не выбрано —")
                field = self.fields[name]
                self.fields[name] = forms.ChoiceField(
                    label=field.label,
                    help_text=field.help_text,
                    required=False,
                    choices=[("", empty)] + [(str(row[0]), str(row[1])) for row in rows],
                )

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
            "autoeuro_delivery_key",
            "autoeuro_payer_key",
            "partssoft_api_path",
            "daily_request_limit",
            "rossko_delivery_id",
            "rossko_address_id",
            "rossko_payment_id",
            "rossko_requisite_id",
            "rossko_contact_name",
            "rossko_contact_phone",
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
        if kind == SupplierKind.PARTSSOFT and not cleaned.get("base_url"):
            self.add_error(
                "base_url",
                _("Для Parts-Soft нужен адрес сайта поставщика, например https://zapchasti.ru"),
            )
        if kind == SupplierKind.AUTOEURO:
            self._clean_autoeuro(cleaned)
        if kind in (SupplierKind.AUTOEURO, SupplierKind.PARTSSOFT) and not (
            cleaned.get("secret") or self.instance.secret
        ):
            self.add_error(
                "secret",
                _("Укажите API-ключ из личного кабинета на сайте поставщика."),
            )
        if kind == SupplierKind.ROSSKO:
            if "base_url" in cleaned and not cleaned["base_url"]:
                cleaned["base_url"] = ROSSKO_BASE_URL
            self._check_rossko_address(cleaned)
        discount = cleaned.get("discount_pct")
        if discount is not None and not 0 <= discount < 100:
            self.add_error("discount_pct", _("Скидка — от 0 до 99 %."))
        options = cleaned.get("options")
        if isinstance(options, dict):
            options = dict(options)
            only_for = self.OPTION_KIND
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
            loaded = (self.instance.options or {}).get("rossko_choices")
            if kind == SupplierKind.ROSSKO and loaded and "rossko_choices" not in options:
                options["rossko_choices"] = loaded
            cleaned["options"] = options
        return cleaned

    def _clean_autoeuro(self, cleaned: dict) -> None:
        if not (cleaned.get("autoeuro_delivery_key") or "").strip():
            self.add_error(
                "autoeuro_delivery_key",
                _(
                    "Для Автоевро укажите способ получения (delivery_key) из личного кабинета "
                    "shop.autoeuro.ru."
                ),
            )
        key = cleaned.get("secret") or ""
        if key and (not key.isascii() or any(ch.isspace() for ch in key.strip())):
            self.add_error(
                "secret",
                _(
                    "Ключ API Автоевро состоит из латинских букв и цифр без пробелов: "
                    "скопируйте его из письма или личного кабинета ещё раз."
                ),
            )

    def _check_rossko_address(self, cleaned: dict) -> None:
        """A delivery address takes only the delivery types Rossko listed for it."""
        loaded = (self.instance.options or {}).get("rossko_choices") or {}
        address, delivery = cleaned.get("rossko_address_id"), cleaned.get("rossko_delivery_id")
        for row in loaded.get("addresses") or []:
            allowed = row[2] if len(row) > 2 else []
            if address and str(row[0]) == address and allowed and delivery not in allowed:
                self.add_error(
                    "rossko_delivery_id",
                    _(
                        "К этому адресу Росско так не доставляет: выберите другой способ "
                        "получения или другой адрес."
                    ),
                )

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
            "show_supplier_prices_to_drivers",
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
