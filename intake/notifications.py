"""The signed act sent to the customer by e-mail, through the outbox."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from autoservice.mail import send_templated
from autoservice.models import OutboxMessage
from autoservice.outbox import register_handler
from leads.models import EventKind
from leads.services import lead_event_add

from .act import act_pdf_bytes
from .models import IntakeRecord
from .services import NOTIFY_ACT


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
        context={"record": record, "shop": record.shop, "link": link},
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
