"""Withdrawal of consent to personal-data processing (152-FZ art. 9 p. 2), by the link that
every page and e-mail the driver gets carries.

The link is a signed token bound to this purpose (its own salt) that names the shop and the
subject: their consent record(s), or the lead when a lead has none (a request taken by
phone). It does not expire: withdrawal must stay possible for as long as the shop holds the
data. The phone is never in the link; it is read from the named rows.

Withdrawing marks every consent of that phone in the shop withdrawn, freezes their leads
(contacts hidden from advisors, status fixed, a timeline line), cancels what the outbox
still had to send them; `outbox_put` then refuses new messages to them. The retention run
destroys their data within 30 days (art. 21 p. 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.consent import consent_withdraw_records, consent_withdrawn
from autoservice.models import ConsentRecord, Shop
from autoservice.outbox import outbox_cancel_for_subject

from .models import EventKind, Lead, LeadEvent

SALT = "leads.consent-withdrawal.v1"


def withdrawal_token(*, shop: Shop, consent_ids: Iterable[int | None] = (), lead_id=None) -> str:
    ids = sorted({pk for pk in consent_ids if pk})
    payload: dict = {"s": shop.pk}
    if ids:
        payload["c"] = ids
    elif lead_id:
        payload["l"] = lead_id
    else:
        return ""
    # No timestamp: the same subject always gets the same link, and it never expires.
    return signing.Signer(salt=SALT).sign_object(payload, compress=True)


def withdrawal_path(
    *, shop: Shop, consent_ids: Iterable[int | None] = (), lead_id: int | None = None
) -> str:
    """The page's path, or "" when there is no subject to name."""
    token = withdrawal_token(shop=shop, consent_ids=consent_ids, lead_id=lead_id)
    if not token:
        return ""
    return reverse("leads:consent_withdraw", args=[shop.slug, token])


def withdrawal_url(
    *, shop: Shop, consent_ids: Iterable[int | None] = (), lead_id: int | None = None
) -> str:
    """The full link, for e-mails and PDFs."""
    path = withdrawal_path(shop=shop, consent_ids=consent_ids, lead_id=lead_id)
    return settings.SITE_URL + path if path else ""


def withdrawal_path_for_lead(lead: Lead) -> str:
    return withdrawal_path(shop=lead.shop, consent_ids=[lead.consent_id], lead_id=lead.pk)


def withdrawal_url_for_lead(lead: Lead) -> str:
    return withdrawal_url(shop=lead.shop, consent_ids=[lead.consent_id], lead_id=lead.pk)


@dataclass(frozen=True)
class Subject:
    shop: Shop
    phone: str
    name: str


def withdrawal_subject(*, shop: Shop, token: str) -> Subject | None:
    """Whom the link names, or None for a forged, altered or foreign link."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("s") != shop.pk:
        return None
    ids = payload.get("c") or []
    if ids and isinstance(ids, list) and all(isinstance(pk, int) for pk in ids):
        consent = ConsentRecord.objects.filter(shop=shop, pk__in=ids).order_by("-id").first()
        if consent is not None and consent.subject_phone:
            return Subject(shop=shop, phone=consent.subject_phone, name=consent.subject_name)
    lead_id = payload.get("l")
    if isinstance(lead_id, int):
        lead = Lead.objects.filter(shop=shop, pk=lead_id).only("phone", "customer_name").first()
        if lead is not None and lead.phone:
            return Subject(shop=shop, phone=lead.phone, name=lead.customer_name)
    return None


def subject_withdrawn(subject: Subject) -> bool:
    if consent_withdrawn(shop=subject.shop, phone=subject.phone):
        return True
    leads = Lead.objects.filter(shop=subject.shop, phone=subject.phone)
    return leads.exists() and not leads.filter(consent_withdrawn_at__isnull=True).exists()


@transaction.atomic
def consent_withdraw(*, subject: Subject) -> int:
    """Withdraw this person's consent in this shop; the number of their leads frozen now.
    Running it again changes nothing."""
    now = timezone.now()
    shop, phone = subject.shop, subject.phone
    consent_withdraw_records(shop=shop, phone=phone, now=now)
    leads = list(
        Lead.objects.select_for_update()
        .filter(shop=shop, phone=phone, consent_withdrawn_at__isnull=True)
        .order_by("pk")
    )
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(consent_withdrawn_at=now)
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead=lead,
            kind=EventKind.CONSENT_WITHDRAWN,
            text=_(
                "Клиент отозвал согласие на обработку персональных данных по ссылке. "
                "Обработка остановлена: контакты скрыты, статус заморожен, сообщения клиенту "
                "не отправляются. Данные будут уничтожены в течение 30 дней."
            ),
            created_at=now,
        )
        for lead in leads
    )
    outbox_cancel_for_subject(shop=shop, phone=phone)
    return len(leads)
