"""The visit as an iCalendar file (RFC 5545) the driver adds to their phone's calendar."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Booking


def _text(value: str) -> str:
    """TEXT escaping, RFC 5545 section 3.3.11."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded with CRLF and a space (section 3.1),
    never inside a UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def booking_ics(booking: Booking, *, url: str = "", now: dt.datetime | None = None) -> bytes:
    shop = booking.shop
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    summary = _("%(kind)s: %(shop)s") % {"kind": booking.get_kind_display(), "shop": shop.name}
    description = _("Запись №%(number)s. Перенести или отменить: %(url)s") % {
        "number": booking.lead.number,
        "url": url,
    }
    method = "CANCEL" if not booking.is_active else "PUBLISH"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cifrovaya stoika avtoservisa//booking//RU",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:booking-{booking.pk}-{booking.token}@{domain}",
        f"DTSTAMP:{_utc(now or timezone.now())}",
        f"DTSTART:{_utc(booking.starts_at)}",
        f"DTEND:{_utc(booking.ends_at)}",
        f"SUMMARY:{_text(summary)}",
        f"LOCATION:{_text(shop.address or shop.name)}",
        f"DESCRIPTION:{_text(description)}",
        f"STATUS:{'CONFIRMED' if booking.is_active else 'CANCELLED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
