"""E-mails about customer offers, delivered through the outbox."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from autoservice.mail import send_templated
from autoservice.models import OutboxMessage
from autoservice.money import format_rub
from autoservice.outbox import register_handler
from customers.links import driver_page_url_for
from leads.models import EventKind
from leads.services import lead_event_add, withdrawal_url_for_lead

from .models import OfferVersion
from .offers import NOTIFY_OFFER_ACCEPTED, NOTIFY_OFFER_SENT


@register_handler(NOTIFY_OFFER_SENT)
def send_offer_to_driver(message: OutboxMessage) -> None:
    version = OfferVersion.objects.select_related("offer__lead", "offer__shop").get(
        pk=message.payload["version_id"]
    )
    lead = version.offer.lead
    if not lead.email:
        return
    context = {
        "shop": version.offer.shop,
        "lead": lead,
        "version": version,
        "link": settings.SITE_URL
        + reverse("optima:offer_public", args=[version.offer.shop.slug, version.offer.token]),
        "withdraw_url": withdrawal_url_for_lead(lead),
        "page_url": driver_page_url_for(lead),
    }
    send_templated(
        template="optima/email/offer_sent",
        context=context,
        shop=version.offer.shop,
        to=[lead.email],
        message_id=f"offer-sent-{version.pk}",
    )
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTIFIED,
        text=_("Предложение отправлено клиенту на %(to)s") % {"to": lead.email},
    )


@register_handler(NOTIFY_OFFER_ACCEPTED)
def tell_shop_about_the_answer(message: OutboxMessage) -> None:
    version = OfferVersion.objects.select_related("offer__lead", "offer__shop").get(
        pk=message.payload["version_id"]
    )
    lead, shop = version.offer.lead, version.offer.shop
    question = message.payload.get("question", False)
    to = shop.notification_email_list
    context = {
        "shop": shop,
        "lead": lead,
        "version": version,
        "question": question,
        "link": settings.SITE_URL + reverse("optima:offer_detail", args=[version.pk]),
    }
    if to:
        send_templated(
            template="optima/email/offer_answer",
            context=context,
            shop=shop,
            to=to,
            message_id=f"offer-answer-{message.pk}",
        )
    text = (
        _("Клиент задал вопрос по предложению")
        if question
        else _("Клиент принял предложение на %(total)s")
        % {"total": format_rub(version.accepted_total_rub)}
    )
    lead_event_add(lead=lead, kind=EventKind.NOTIFIED, text=text)
