"""E-mails of intake, through the outbox: the signed act to the customer, the daily head of
the chain of seals to the managers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from autoservice.mail import send_templated
from autoservice.models import Membership, OutboxMessage, Role
from autoservice.outbox import register_handler
from customers.links import driver_page_url_for
from leads.models import EventKind
from leads.services import lead_event_add

from .act import act_pdf_bytes, act_withdrawal_url
from .models import IntakeRecord
from .services import NOTIFY_ACT, NOTIFY_SEAL_DIGEST


@register_handler(NOTIFY_ACT)
def send_act_to_customer(message: OutboxMessage) -> None:
    record = IntakeRecord.objects.select_related("shop", "lead").get(
        pk=message.payload["record_id"]
    )
    if not record.customer_email:
        return
    link = settings.SITE_URL + reverse(
        "intake:intake_public_act", args=[record.shop.slug, record.public_token]
    )
    send_templated(
        template="intake/email/act",
        context={
            "record": record,
            "shop": record.shop,
            "link": link,
            "withdraw_url": act_withdrawal_url(record),
            "page_url": driver_page_url_for(record.lead),
        },
        shop=record.shop,
        to=[record.customer_email],
        message_id=f"intake-act-{record.pk}",
        attachments=[(f"akt-{record.number}.pdf", act_pdf_bytes(record), "application/pdf")],
    )
    if record.lead_id:
        lead_event_add(
            lead=record.lead,
            kind=EventKind.NOTIFIED,
            text=_("Акт приёма-передачи №%(n)s отправлен клиенту на %(to)s")
            % {"n": record.number, "to": record.customer_email},
        )


@register_handler(NOTIFY_SEAL_DIGEST)
def send_seal_digest(message: OutboxMessage) -> None:
    """The head as it was when the digest was queued (the payload), to the managers now."""
    shop = message.shop
    to = sorted(
        {
            email
            for email in Membership.objects.filter(
                shop=shop, role=Role.MANAGER, user__is_active=True
            ).values_list("user__email", flat=True)
            if email
        }
    )
    if not to:
        return
    payload = message.payload
    send_templated(
        template="intake/email/seal_digest",
        context={
            "shop": shop,
            "day": dt.date.fromisoformat(payload["day"]).strftime("%d.%m.%Y"),
            "index": payload["index"],
            "seal": payload["seal"],
            "number": payload.get("number"),
            "key_id": payload.get("key_id"),
            "sealed_at": (
                dt.datetime.fromisoformat(payload["sealed_at"])
                if payload.get("sealed_at")
                else None
            ),
        },
        shop=shop,
        to=to,
        message_id=f"intake-seal-digest-{shop.pk}-{payload['day']}",
    )
