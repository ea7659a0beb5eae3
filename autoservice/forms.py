from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, validate_email
from django.utils.translation import gettext_lazy as _

from .models import (
    WEEKDAY_NAMES,
    WEEKDAYS,
    AccessAction,
    ApiScope,
    ConsentText,
    Membership,
    PersonalDataPolicy,
    Role,
    Shop,
    split_list,
)


class ShopProfileForm(forms.ModelForm):
    class Meta:
        model = Shop
        fields = [
            "name",
            "kind",
            "region",
            "address",
            "phone",
            "email",
            "timezone",
            "brand_color",
            "logo",
        ]
        widgets = {"brand_color": forms.TextInput(attrs={"type": "color"})}


ORIGIN_RE = r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$"


class LeadSettingsForm(forms.ModelForm):
    """How requests reach the shop: response time, who is notified, where the form is embedded."""

    consent_title = forms.CharField(label=_("Заголовок согласия"), max_length=200)
    consent_body = forms.CharField(
        label=_("Текст согласия на обработку персональных данных"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Изменённый текст сохраняется новой версией; прежние согласия ссылаются на свою."
        ),
    )

    class Meta:
        model = Shop
        fields = ["sla_minutes", "notification_emails", "embed_origins"]
        widgets = {
            "notification_emails": forms.Textarea(attrs={"rows": 2}),
            "embed_origins": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, consent: ConsentText, **kwargs):
        kwargs.setdefault("initial", {"consent_title": consent.title, "consent_body": consent.body})
        super().__init__(*args, **kwargs)

    def clean_sla_minutes(self) -> int:
        minutes = self.cleaned_data["sla_minutes"]
        if not 1 <= minutes <= 24 * 60:
            raise forms.ValidationError(_("Время ответа — от 1 минуты до 24 часов."))
        return minutes

    def clean_notification_emails(self) -> str:
        emails = split_list(self.cleaned_data["notification_emails"])
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except forms.ValidationError:
                bad.append(email)
        if bad:
            raise forms.ValidationError(_("Проверьте адреса: %(bad)s") % {"bad": ", ".join(bad)})
        return "\n".join(emails)

    def clean_embed_origins(self) -> str:
        origins = [o.rstrip("/").lower() for o in split_list(self.cleaned_data["embed_origins"])]
        bad = [o for o in origins if not re.match(ORIGIN_RE, o)]
        if bad:
            raise forms.ValidationError(
                _("Укажите адрес сайта без пути, например https://mysto.ru. Не подходит: %(bad)s")
                % {"bad": ", ".join(bad)}
            )
        return "\n".join(origins)


class WorkingHoursForm(forms.Form):
    """Seven rows of opening and closing time; both empty means a day off."""

    def __init__(self, *args, shop: Shop, **kwargs):
        initial = {}
        for day in WEEKDAYS:
            span = (shop.working_hours or {}).get(day)
            initial[f"{day}_open"] = span[0] if span else None
            initial[f"{day}_close"] = span[1] if span else None
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            name = WEEKDAY_NAMES[day]
            self.fields[f"{day}_open"] = forms.TimeField(
                label=_("%(day)s, открытие") % {"day": name},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            self.fields[f"{day}_close"] = forms.TimeField(
                label=_("%(day)s, закрытие") % {"day": name},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )

    def clean(self):
        cleaned = super().clean()
        hours: dict[str, list[str] | None] = {}
        for day in WEEKDAYS:
            opens: dt.time | None = cleaned.get(f"{day}_open")
            closes: dt.time | None = cleaned.get(f"{day}_close")
            if opens is None and closes is None:
                hours[day] = None
            elif opens is None or closes is None:
                self.add_error(
                    f"{day}_open" if opens is None else f"{day}_close",
                    _("Укажите и открытие, и закрытие, или оставьте оба поля пустыми (выходной)."),
                )
            elif opens >= closes:
                self.add_error(f"{day}_close", _("Закрытие должно быть позже открытия."))
            else:
                hours[day] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
        cleaned["working_hours"] = hours
        return cleaned

    def rows(self):
        return [(WEEKDAY_NAMES[d], self[f"{d}_open"], self[f"{d}_close"]) for d in WEEKDAYS]


class MemberCreateForm(forms.Form):
    first_name = forms.CharField(label=_("Имя"), max_length=150)
    last_name = forms.CharField(label=_("Фамилия"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail"), help_text=_("На него придёт приглашение задать пароль.")
    )
    role = forms.ChoiceField(label=_("Роль"), choices=Role.choices, initial=Role.ADVISOR)

    def __init__(self, *args, shop: Shop, **kwargs):
        super().__init__(*args, **kwargs)
        self.shop = shop

    def clean_email(self) -> str:
        # Only the shop's own team is checked here: an address another shop uses gets the
        # same answer as a new one (see member_invite), so the form tells nobody which
        # addresses have accounts.
        email = self.cleaned_data["email"].lower()
        if Membership.objects.filter(shop=self.shop, user__username=email).exists():
            raise forms.ValidationError(_("Сотрудник с таким e-mail уже есть."))
        return email


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(label=_("Роль"), choices=Role.choices)
    is_active = forms.BooleanField(
        label=_("Может входить в систему"),
        required=False,
        help_text=_("Снимите, когда сотрудник уволился: его заявки и история сохранятся."),
    )

    def __init__(self, *args, membership: Membership, acting: Membership, **kwargs):
        kwargs.setdefault(
            "initial", {"role": membership.role, "is_active": membership.user.is_active}
        )
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.acting = acting

    def clean(self):
        cleaned = super().clean()
        if self.membership.pk == self.acting.pk and (
            cleaned.get("role") != Role.MANAGER or not cleaned.get("is_active")
        ):
            raise forms.ValidationError(
                _(
                    "Нельзя снять с себя роль руководителя или отключить себя: "
                    "попросите другого руководителя."
                )
            )
        return cleaned


class ApiTokenForm(forms.Form):
    """A new token for the shop's CRM: what it is for, what it may do, how long it lives."""

    EXPIRY_DAYS = (
        ("30", _("30 дней")),
        ("90", _("90 дней")),
        ("365", _("1 год")),
        ("", _("бессрочно")),
    )

    name = forms.CharField(
        label=_("Для чего"),
        max_length=120,
        error_messages={"required": _("Назовите токен: например, «amoCRM» или «1С».")},
        widget=forms.TextInput(attrs={"placeholder": _("Для чего: amoCRM, 1С…")}),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Права"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Отметьте хотя бы одно право: что токену можно делать.")},
    )
    expires_in_days = forms.ChoiceField(
        label=_("Срок действия"),
        choices=EXPIRY_DAYS,
        required=False,
        initial="90",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def expires_at(self, now: dt.datetime) -> dt.datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return now + dt.timedelta(days=int(days)) if days else None


class LoginForm(AuthenticationForm):
    """Django's login form, which sets the username's max_length after the field is built
    and so never checks it: a 10 000-character login reached the lockout log (a 255-character
    column) as a 500. Here a too-long login is a form error and no login attempt at all."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 254))
        # Staff log in with their e-mail (it is the username): the field says so.
        field.label = _("E-mail")
        field.widget.input_type = "email"
        field.widget.attrs.update({"autocomplete": "email", "inputmode": "email"})


class AccessLogFilterForm(forms.Form):
    """Filters of the audit log of access to personal data (the manager's page)."""

    user = forms.TypedChoiceField(
        label=_("Сотрудник"), required=False, coerce=int, empty_value=None
    )
    action = forms.ChoiceField(label=_("Действие"), required=False)
    date_from = forms.DateField(
        label=_("С"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("По"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lead_number = forms.IntegerField(
        label=_("Заявка №"),
        required=False,
        min_value=1,
        max_value=2_147_483_647,
        error_messages={"invalid": _("Номер заявки — целое число, например 1024.")},
    )

    def __init__(self, *args, members: list[Membership], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("все"))] + [
            (m.user_id, m.display_name) for m in members
        ]
        self.fields["action"].choices = [("", _("все"))] + list(AccessAction.choices)

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Дата «по» раньше даты «с»: поменяйте их местами."))
        return data


class SubjectSearchForm(forms.Form):
    """A person by phone or e-mail, as the manager types them (normalised on clean)."""

    phone = forms.CharField(label=_("Телефон"), max_length=40, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)

    def clean(self):
        from .personal_data import subject_parse

        data = super().clean()
        try:
            self.phones, self.emails = subject_parse(
                phone=data.get("phone", ""), email=data.get("email", "")
            )
        except ValidationError as error:
            field = {"invalid_phone": "phone", "invalid_email": "email"}.get(error.code)
            self.add_error(field, error)
        return data


class SubjectEraseForm(SubjectSearchForm):
    confirm = forms.CharField(
        label=_("Для подтверждения введите телефон или e-mail ещё раз"),
        max_length=254,
        required=False,
    )

    def clean(self):
        from .phones import normalize_phone

        data = super().clean()
        if self.errors:
            return data
        typed = (data.get("confirm") or "").strip()
        try:
            value = normalize_phone(typed) if "@" not in typed else typed.lower()
        except ValidationError:
            value = typed
        if not typed or value not in (*self.phones, *self.emails):
            self.add_error(
                "confirm",
                _(
                    "Введите тот же телефон или e-mail, что и в поиске: "
                    "так вы подтверждаете удаление."
                ),
            )
        return data


class PersonalDataPolicyForm(forms.ModelForm):
    class Meta:
        model = PersonalDataPolicy
        fields = ["lost_lead_months", "claim_period_years", "intake_hold_years"]

    def _bounded(self, name: str, low: int, high: int) -> int:
        value = self.cleaned_data[name]
        if not low <= value <= high:
            raise ValidationError(
                _("Укажите число от %(low)s до %(high)s.") % {"low": low, "high": high}
            )
        return value

    def clean_lost_lead_months(self) -> int:
        return self._bounded("lost_lead_months", 1, 120)

    def clean_claim_period_years(self) -> int:
        return self._bounded("claim_period_years", 1, 10)

    def clean_intake_hold_years(self) -> int:
        return self._bounded("intake_hold_years", 1, 10)
