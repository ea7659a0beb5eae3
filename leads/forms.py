"""The leads app's forms: the inbox's, and the public pieces every driver's request form is
built from (the photo form in photoportal, the calculator's last step in smartcalc): the
signed form token, the contact and consent fields, and DriverRequestPage around them."""

from __future__ import annotations

import functools
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autoservice import pagecache
from autoservice.consent import (
    MARKETING_CONSENT_TEXT,
    client_ip,
    consent_text_current,
    marketing_consent_source,
)
from autoservice.events import MARKETING_CONSENT_GIVEN, event_emit
from autoservice.models import Membership, Shop
from autoservice.phones import normalize_phone
from autoservice.plates import normalize_plate

from .models import Channel, Lead, LeadPhoto, PreferredContact, Status
from .selectors import InboxFilters, lead_by_submission_key, photos_waiting
from .services import (
    MAX_PHOTOS_PER_LEAD,
    Attach,
    DriverRequest,
    DriverRequestLimited,
    LeadInput,
    PhotoUploadHandler,
    driver_request_submit,
    photo_max_bytes,
    photo_upload_quota_take,
    photo_uploads_store_many,
)

# Fields only the contact step of a driver's form posts: with them, a post without its form
# token is the driver's typed request (kept and refused), not a step that asks for one.
_CONTACT_FIELDS = ("customer_name", "phone", "email", "consent")


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Поиск"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Телефон, имя или госномер")}),
    )
    status = forms.ChoiceField(
        label=_("Статус"), required=False, choices=[("", _("Все статусы")), *Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Канал"), required=False, choices=[("", _("Все каналы")), *Channel.choices]
    )
    assignee = forms.ChoiceField(label=_("Ответственный"), required=False)
    period = forms.ChoiceField(
        label=_("Период"),
        required=False,
        choices=[
            ("", _("За всё время")),
            ("today", _("Сегодня")),
            ("7d", _("7 дней")),
            ("30d", _("30 дней")),
        ],
    )

    def __init__(self, *args, staff: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Все")),
            ("none", _("Не назначен")),
            *[(str(m.pk), m.display_name) for m in staff],
        ]
        for name, field in self.fields.items():
            css = "form-control" if name == "q" else "form-select"
            field.widget.attrs["class"] = css

    def filters(self) -> InboxFilters:
        if not self.is_valid():
            return InboxFilters(q=self.data.get("q", "")[:100])
        return InboxFilters(**{k: v or "" for k, v in self.cleaned_data.items()})


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Ответственный"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("— не назначен —"),
    )

    def __init__(self, *args, lead: Lead, staff, **kwargs):
        kwargs.setdefault("initial", {"assignee": lead.assignee_id})
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff
        # The shop is the advisor's own: the list names people, not «name (role, shop)».
        self.fields["assignee"].label_from_instance = lambda member: member.display_name


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Статус"))
    reason = forms.CharField(
        label=_("Причина отказа"),
        required=False,
        max_length=300,
        help_text=_("Обязательна для статуса «отказ»: дорого, долго, уехал к конкурентам…"),
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault("initial", {"status": lead.status})
        super().__init__(*args, **kwargs)
        # The current status comes first and is what the dropdown shows: a next status
        # preselected would be one tap away from a change nobody meant.
        current = (
            lead.status,
            gettext("%(status)s (сейчас)") % {"status": Status(lead.status).label},
        )
        self.fields["status"].choices = [
            current,
            *[(s, Status(s).label) for s in lead.allowed_statuses()],
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Status.LOST and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Укажите причину отказа: она нужна для отчёта по потерям."))
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Заметка"),
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("Что выяснили, о чём договорились")}
        ),
        error_messages={"required": _("Заметка пустая: напишите, что произошло.")},
    )


class ContactedForm(forms.Form):
    note = forms.CharField(
        label=_("Итог разговора"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": _("Например: записал на завтра 10:00")}),
    )


# --- the driver's request form ---------------------------------------------------------

# The salt predates this module (the photo form had it first); keeping it keeps the forms
# drivers have open valid across a release.
FORM_TOKEN_SALT = "photoportal.form"
FORM_TOKEN_MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class DriverFormToken:
    """One driver's form: `signed` goes into the page, `upload_token` is the key its photos
    wait under, `submission_key` makes sending it twice return the first lead."""

    signed: str
    upload_token: str
    submission_key: uuid.UUID


def form_token_issue(shop_id: int) -> DriverFormToken:
    signed = signing.dumps(
        {"s": shop_id, "u": secrets.token_urlsafe(24), "k": str(uuid.uuid4())},
        salt=FORM_TOKEN_SALT,
    )
    token = form_token_read(signed, shop_id)
    assert token is not None
    return token


def form_token_read(signed: str, shop_id: int) -> DriverFormToken | None:
    """The token of a posted form; None when it is forged, expired or another shop's."""
    try:
        data = signing.loads(signed or "", salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
        if data.get("s") != shop_id:
            return None
        return DriverFormToken(
            signed=signed, upload_token=str(data["u"]), submission_key=uuid.UUID(data["k"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None


class DriverContactForm(forms.Form):
    """Who the driver is, how to answer, the car's year and plate, a comment, and the
    consent: the fields both driver forms share. Each form adds what it asks besides (the
    photo form the make and model; the calculator knows the car already)."""

    description = forms.CharField(
        label=_("Что случилось"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Например: задел столб, вмятина на задней двери")}
        ),
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

    # A separate consent to advertising (152-FZ since 1 Sep 2025): never ticked for the
    # driver, never required to send a request.
    marketing_consent = forms.BooleanField(
        label=MARKETING_CONSENT_TEXT, required=False, initial=False
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

    def contact(self, *, vehicle_make: str, vehicle_model: str) -> LeadInput:
        data = self.cleaned_data
        return LeadInput(
            customer_name=data["customer_name"].strip(),
            phone=data["phone"],
            email=data["email"],
            preferred_contact=data["preferred_contact"],
            vehicle_make=vehicle_make.strip(),
            vehicle_model=vehicle_model.strip(),
            vehicle_year=data["vehicle_year"],
            plate=data["plate"],
            description=data["description"].strip(),
        )


class DriverRequestPage:
    """What the photo form and the calculator's last step do around their own fields: read
    (or issue) the form token, keep the plain form's photo files (no JavaScript) under it,
    send through driver_request_submit with the driver's address and browser, and render
    the page again with everything the driver entered when something is wrong.

    `errors` are about the whole form, `photo_errors` name refused files (both Russian).
    """

    @staticmethod
    def prepare(request: HttpRequest) -> None:
        """Call first in the view, before request.POST is read: a post's files past the
        per-post cap or the size cap are then dropped as they arrive, never stored."""
        PhotoUploadHandler.install(request)

    def __init__(self, request: HttpRequest, shop: Shop, *, token_required: bool) -> None:
        self.request = request
        self.shop = shop
        self.errors: list[str] = []
        self.photo_errors: list[str] = []
        self.retry_after_s: int | None = None
        # Issued for this very page: no photo can be stored under it yet.
        self.token_new = False
        posted = request.POST.get("form_token", "") if request.method == "POST" else ""
        token = form_token_read(posted, shop.pk) if posted else None
        contact_posted = request.method == "POST" and any(
            request.POST.get(name) for name in _CONTACT_FIELDS
        )
        # The driver posted this form's fields (its token came back, good or not, or it
        # went missing on the way while the fields came).
        self.has_input = bool(posted) or contact_posted
        # The driver sends this form with a good token (not when the page is first shown).
        self.is_sent = token is not None
        if token is not None:
            self.token = token
        elif posted or contact_posted or (request.method == "POST" and token_required):
            self.renew()
        else:
            self.token = form_token_issue(shop.pk)
            self.token_new = True

    @functools.cached_property
    def consent_text(self):
        return consent_text_current(self.shop)

    def renew(self) -> None:
        """A new token: the posted one is expired, forged or was spent on another form."""
        self.token = form_token_issue(self.shop.pk)
        self.is_sent = False
        self.errors.append(gettext("Форма устарела: проверьте поля и добавьте фото ещё раз."))

    @property
    def is_valid(self) -> bool:
        return not self.errors and not self.photo_errors

    def sent_lead(self) -> Lead | None:
        """The lead this very form made already (a double tap, a refresh, a retry)."""
        if not self.is_sent:
            return None
        return lead_by_submission_key(shop=self.shop, submission_key=self.token.submission_key)

    def receive_photos(self) -> None:
        """The photos of a plain multipart form, stored under the token before anything else
        is checked, so that a mistake in a field never makes the driver pick them again."""
        files = self.request.FILES.getlist("photos")
        self.photo_errors += PhotoUploadHandler.refused_of(self.request)
        quota = photo_upload_quota_take(
            ip=client_ip(self.request), filenames=[upload.name for upload in files]
        )
        files = files[: quota.allowed]
        self.photo_errors += quota.refused
        if quota.retry_after_s is not None:
            self.retry_after_s = quota.retry_after_s
        if files:
            _stored, refused = photo_uploads_store_many(
                shop=self.shop,
                upload_token=self.token.upload_token,
                uploads=[(upload.name, upload.chunks()) for upload in files],
            )
            self.photo_errors += refused

    def photos(self) -> list[LeadPhoto]:
        if self.token_new:
            return []
        return photos_waiting(shop=self.shop, upload_token=self.token.upload_token)

    def submit(
        self,
        *,
        channel: str,
        contact: LeadInput,
        attach: Attach | None = None,
        marketing_consent: bool = False,
    ) -> DriverRequest | None:
        """The lead (made now or by an earlier send of this form), or None when the driver
        is over a limit: the page then explains it and answers 429 with Retry-After.
        `marketing_consent`: the driver ticked the advertising consent; it is told in the
        lead's own transaction (`marketing.consent_given`) and recorded on the customer."""
        if marketing_consent:
            attach = _with_marketing_consent(attach, channel=channel, phone=contact.phone)
        try:
            return driver_request_submit(
                shop=self.shop,
                channel=channel,
                contact=contact,
                consent_text=self.consent_text,
                submission_key=self.token.submission_key,
                upload_token=self.token.upload_token,
                ip=client_ip(self.request),
                user_agent=self.request.META.get("HTTP_USER_AGENT", ""),
                attach=attach,
                # The browser says the page was in a frame: the shop's own website.
                embedded=self.request.headers.get("Sec-Fetch-Dest") == "iframe",
            )
        except DriverRequestLimited as limited:
            self.errors.append(limited.message)
            self.retry_after_s = limited.retry_after_s
            return None

    def render(
        self,
        template: str,
        context: dict,
        *,
        status: int,
        cache_parts: tuple | None = None,
    ) -> HttpResponse:
        """The page; a first look at it (a GET with a new token and nothing to report) comes
        from the page cache when the view names what else the page shows (`cache_parts`)."""
        pristine = (
            cache_parts is not None
            and self.request.method == "GET"
            and self.token_new
            and self.is_valid
            and self.retry_after_s is None
        )
        if not pristine:
            return self._render(template, context, status=status, form_token=self.token.signed)
        return pagecache.cached_page(
            self.request,
            shop=self.shop,
            parts=(template, *cache_parts),
            render=lambda: self._render(
                template,
                {**context, "csrf_token": pagecache.CSRF_TOKEN},
                status=status,
                form_token=pagecache.FORM_TOKEN,
            ),
            form_token=self.token.signed,
        )

    def _render(self, template: str, context: dict, *, status: int, form_token: str):
        response = render(
            self.request,
            template,
            {
                **context,
                "form_token": form_token,
                "request_errors": self.errors,
                "photo_errors": self.photo_errors,
                "photos": self.photos(),
                "consent_text": self.consent_text,
                "max_photos": MAX_PHOTOS_PER_LEAD,
                "max_mb": photo_max_bytes() // (1024 * 1024),
            },
            status=429 if self.retry_after_s is not None else status,
        )
        if self.retry_after_s is not None:
            response["Retry-After"] = str(self.retry_after_s)
        return response


def _with_marketing_consent(attach: Attach | None, *, channel: str, phone: str) -> Attach:
    def attach_and_tell(lead: Lead) -> Any:
        attached = attach(lead) if attach is not None else None
        where = _("заявка №%(n)s, %(channel)s") % {
            "n": lead.number,
            "channel": Channel(channel).label,
        }
        event_emit(
            shop=lead.shop,
            type=MARKETING_CONSENT_GIVEN,
            subject=f"lead:{lead.pk}",
            data={
                "phone": phone,
                "source": marketing_consent_source(str(where)),
                "given_at": lead.created_at.isoformat(),
                "lead_id": lead.pk,
            },
        )
        return attached

    return attach_and_tell
