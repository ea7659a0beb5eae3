"""The reminder e-mail the day before a visit, delivered through the outbox."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from autoservice.mail import send_templated
from autoservice.models import OutboxMessage
from autoservice.outbox import register_handler
from customers.links import driver_page_url_for
from leads.models import EventKind
from leads.services import lead_event_add

from .ics import booking_ics
from .models import Booking
from .services import REMIND_BOOKING


def booking_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse("booking:visit", args=[booking.shop.slug, booking.token])


@register_handler(REMIND_BOOKING)
def send_booking_reminder(message: OutboxMessage) -> None:
    booking = Booking.objects.select_related("shop", "lead").get(pk=message.payload["booking_id"])
    lead = booking.lead
    if not booking.is_active or not lead.email:
        return
    url = booking_url(booking)
    send_templated(
        template="booking/email/reminder",
        context={
            "booking": booking,
            "shop": booking.shop,
            "lead": lead,
            "url": url,
            "page_url": driver_page_url_for(lead),
        },
        shop=booking.shop,
        to=[lead.email],
        message_id=f"booking-remind-{booking.pk}-{booking.starts_at:%Y%m%d%H%M}",
        attachments=[("visit.ics", booking_ics(booking, url=url), "text/calendar")],
    )
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTIFIED,
        text=_("Напоминание о визите отправлено: %(to)s") % {"to": lead.email},
        booking=booking.pk,
    )
