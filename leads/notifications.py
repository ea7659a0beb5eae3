"""E-mails about leads, delivered through the outbox (see autoservice.outbox)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from autoservice.mail import send_templated
from autoservice.models import OutboxMessage
from autoservice.outbox import register_handler

from .models import EventKind, Lead, LeadEvent, PhotoState
from .photos import photo_signed_url
from .services import NOTIFY_ESCALATION, NOTIFY_NEW_LEAD


def _lead_context(lead: Lead) -> dict:
    photos = [
        {"thumb": photo_signed_url(p, "thumb"), "web": photo_signed_url(p, "web")}
        for p in lead.photos.all()
        if p.state == PhotoState.READY
    ]
    return {
        "lead": lead,
        "shop": lead.shop,
        "photos": photos,
        "photo_count": lead.photos.count(),
        "lead_url": settings.SITE_URL + reverse("leads:lead_detail", args=[lead.pk]),
    }


@register_handler(NOTIFY_NEW_LEAD)
def send_new_lead_email(message: OutboxMessage) -> None:
    lead = Lead.objects.select_related("shop").get(pk=message.payload["lead_id"])
    to = lead.shop.notification_email_list
    if not to:
        return
    send_templated(
        template="leads/email/new_lead",
        context=_lead_context(lead),
        shop=lead.shop,
        to=to,
        message_id=f"lead-new-{lead.pk}",
    )
    LeadEvent.objects.create(
        lead=lead,
        kind=EventKind.NOTIFIED,
        text=_("Письмо о новой заявке доставлено: %(to)s") % {"to": ", ".join(to)},
        data={"outbox": message.pk},
    )


@register_handler(NOTIFY_ESCALATION)
def send_escalation_email(message: OutboxMessage) -> None:
    lead = Lead.objects.select_related("shop", "assignee__user").get(pk=message.payload["lead_id"])
    to = message.payload["to"]
    send_templated(
        template="leads/email/escalation",
        context=_lead_context(lead),
        shop=lead.shop,
        to=to,
        message_id=f"lead-escalated-{lead.pk}",
    )
    LeadEvent.objects.create(
        lead=lead,
        kind=EventKind.NOTIFIED,
        text=_("Руководителю отправлено письмо о просрочке: %(to)s") % {"to": ", ".join(to)},
        data={"outbox": message.pk},
    )
