"""The signed act sent to the customer by e-mail, through the outbox."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from autoservice.models import OutboxMessage
from autoservice.outbox import register_handler
from leads.models import EventKind, LeadEvent

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
        "intake_public_act", args=[record.shop.slug, record.public_token]
    )
    context = {"record": record, "shop": record.shop, "link": link}
    with translation.override("ru"), timezone.override(record.shop.tzinfo):
        subject = " ".join(render_to_string("intake/email/act_subject.txt", context).split())
        body = render_to_string("intake/email/act.txt", context)
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    email = EmailMessage(
        subject=subject,
        body=body,
        to=[record.customer_email],
        headers={"Message-ID": f"<intake-act-{record.pk}@{domain}>"},
    )
    email.attach(f"akt-{record.number}.pdf", act_pdf_bytes(record), "application/pdf")
    email.send()
    if record.lead_id:
        LeadEvent.objects.create(
            lead=record.lead,
            kind=EventKind.NOTIFIED,
            text=_("Акт приёма-передачи №%(n)s отправлен клиенту на %(to)s")
            % {"n": record.number, "to": record.customer_email},
        )
