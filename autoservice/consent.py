"""Consent to personal-data processing (152-FZ): the current text and the records."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .models import ConsentRecord, ConsentText, Shop

DEFAULT_TITLE = "Согласие на обработку персональных данных"

# Consent to advertising messages (38-FZ art. 18; since 1 Sep 2025 152-FZ art. 9 wants it as
# a document of its own, never bundled with the processing consent): a separate checkbox,
# unticked by default. The words are versioned here; a change of wording is a new version,
# and every recorded consent names the version the driver saw.
MARKETING_CONSENT_VERSION = 1
MARKETING_CONSENT_TEXT = gettext_lazy(
    "Согласен получать рекламные сообщения автосервиса по SMS и e-mail: напоминания о ТО, "
    "сезонной замене шин и гарантии, акции. Согласие можно отозвать в любой момент по ссылке "
    "в каждом сообщении."
)


def marketing_consent_source(where: str) -> str:
    """What the customer's record says about how the consent was given."""
    return f"{where}; текст согласия на рекламу v{MARKETING_CONSENT_VERSION}"


def consent_text_current(shop: Shop) -> ConsentText:
    """The shop's newest text, else the platform's newest default."""
    text = ConsentText.objects.filter(shop=shop).order_by("-version").first()
    if text is None:
        text = ConsentText.objects.filter(shop__isnull=True).order_by("-version").first()
    if text is None:
        raise ConsentText.DoesNotExist("no platform consent text: run migrations")
    return text


@transaction.atomic
def consent_text_publish(*, shop: Shop, title: str, body: str) -> ConsentText:
    """A changed text becomes a new version; the old one stays for the records that cite it."""
    current = consent_text_current(shop)
    if current.title == title and current.body == body:
        return current
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    last = ConsentText.objects.filter(shop=shop).aggregate(v=Max("version"))["v"] or 0
    return ConsentText.objects.create(shop=shop, version=last + 1, title=title, body=body)


def client_ip(request: HttpRequest) -> str | None:
    """The driver's address; behind PROXY_COUNT proxies, taken from X-Forwarded-For."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT or 0
    forwarded = [ip.strip() for ip in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [ip for ip in forwarded if ip]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def consent_record_create(
    *, shop: Shop, text: ConsentText, name: str, phone: str, request: HttpRequest
) -> ConsentRecord:
    return consent_record_make(
        shop=shop,
        text=text,
        name=name,
        phone=phone,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def consent_record_make(
    *,
    shop: Shop,
    text: ConsentText,
    name: str,
    phone: str,
    ip: str | None,
    user_agent: str,
    accepted_at: dt.datetime | None = None,
) -> ConsentRecord:
    """The record itself, for services that are handed the address and the browser rather
    than the request (so that they can run inside their own transaction)."""
    return ConsentRecord.objects.create(
        shop=shop,
        text=text,
        subject_name=name,
        subject_phone=phone,
        accepted_at=accepted_at or timezone.now(),
        ip_address=ip or None,
        user_agent=(user_agent or "")[:400],
    )


def consent_withdrawn(*, shop: Shop | int, phone: str) -> bool:
    """Whether this person's newest consent in the shop is withdrawn: then nothing more is
    processed or sent for them. A request sent later with fresh consent starts anew."""
    if not phone:
        return False
    newest = (
        ConsentRecord.objects.filter(shop=shop, subject_phone=phone)
        .order_by("-accepted_at", "-id")
        .values_list("withdrawn_at", flat=True)
        .first()
    )
    return newest is not None


def consent_withdraw_records(*, shop: Shop, phone: str, now: dt.datetime) -> int:
    """Mark every consent of this person in the shop withdrawn (the earliest moment stays)."""
    return ConsentRecord.objects.filter(
        shop=shop, subject_phone=phone, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
