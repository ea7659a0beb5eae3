"""The outbox handler: one message to one linked chat, then a line on the lead's timeline.

Outcomes (the outbox records them): sent → the timeline says so, in the same transaction as
the `sent` mark; 429 → retried no earlier than the messenger's `retry_after`; 403 (the person
blocked the bot) → the link is marked broken, shown on their profile, and the row parked, not
retried; a slow, refusing or failing messenger → retried with the outbox's backoff.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import PurePath

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import OutboxMessage
from autoservice.money import format_rub
from autoservice.outbox import OutboxParked, register_handler
from leads.models import EventKind, Lead, LeadPhoto, PhotoState
from leads.services import lead_event_add, photo_signed_url
from smartcalc.selectors import estimate_latest_for_lead

from .clients import MessengerBlocked, TelegramClient, client_for
from .models import ChatLink, LinkState, Messenger, MessengerBot
from .services import ABOUT_ESCALATION, ABOUT_NEW_LEAD, ABOUT_OFFER_ACCEPTED, SEND

log = logging.getLogger(__name__)

# Telegram caps a photo caption at 1024 characters and a message at 4096.
CAPTION_CHARS = 1024
TEXT_CHARS = 4000
# Telegram takes uploaded photos up to 10 MB; the web rendition is far below.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
# A photo sent with the form is still being made into its web rendition when the lead is
# committed (a fraction of a second, see benchmarks/bench_photo_pipeline.py): the message
# waits for it a little, in steps, then goes without the photo rather than late.
PHOTO_WAIT = dt.timedelta(seconds=4)
PHOTO_WAIT_STEP_S = 1
# MAX downloads the photo when the message is sent; the link need not live longer.
PHOTO_LINK_SECONDS = 3600


class PhotoNotReady(Exception):  # noqa: N818 - a state, not an error
    """The first photo's rendition is being made: try again in a second (the outbox waits
    `retry_after_seconds` before the row can be taken again)."""

    retry_after_seconds = PHOTO_WAIT_STEP_S


def _car(lead: Lead) -> str:
    car = " ".join(p for p in (lead.vehicle_make, lead.vehicle_model) if p)
    if lead.vehicle_year:
        car = f"{car} {lead.vehicle_year}".strip()
    if lead.plate:
        car = f"{car}, {lead.plate}".strip(", ")
    return car or _("автомобиль не указан")


def _summary(lead: Lead) -> str:
    """What happened, in the driver's words (cut short), and the estimate's total if the
    driver made one in the calculator."""
    description = (lead.description or "").strip()
    if len(description) > 300:
        description = description[:299] + "…"
    lines = [description] if description else []
    version = estimate_latest_for_lead(lead)
    if version is not None:
        lines.append(
            _("Предварительная смета: %(total)s") % {"total": format_rub(version.total_rub)}
        )
    return "\n".join(lines) or _("Описание не заполнено")


def message_text(lead: Lead, payload: dict) -> str:
    about = payload.get("about")
    url = settings.SITE_URL + reverse("leads:lead_detail", kwargs={"lead_id": lead.pk})
    if about == ABOUT_ESCALATION:
        head = _("Заявка №%(n)s без ответа дольше срока (%(sla)s мин.)") % {
            "n": lead.number,
            "sla": lead.shop.sla_minutes,
        }
    elif about == ABOUT_OFFER_ACCEPTED:
        head = _("Клиент принял предложение по заявке №%(n)s") % {"n": lead.number}
        if payload.get("total_rub"):
            head += "\n" + _("Сумма: %(total)s") % {"total": format_rub(payload["total_rub"])}
    elif payload.get("personal"):
        head = _("Новая заявка №%(n)s от вашего клиента") % {"n": lead.number}
    else:
        head = _("Новая заявка №%(n)s") % {"n": lead.number}
    return "\n".join([head, _car(lead), _summary(lead), url])[:TEXT_CHARS]


def _first_photo(lead: Lead) -> LeadPhoto | None:
    """The first photo whose web rendition (no metadata) is made; never the original."""
    photo = lead.photos.exclude(state=PhotoState.FAILED).order_by("position", "pk").first()
    if photo is not None and (photo.state != PhotoState.READY or not photo.web):
        if timezone.now() - lead.created_at < PHOTO_WAIT:
            raise PhotoNotReady(_("первое фото ещё обрабатывается"))
        return None  # waited enough: the message goes without it
    return photo


def _photo_bytes(photo: LeadPhoto) -> tuple[bytes, str] | None:
    """The web rendition's bytes, for Telegram's upload."""
    try:
        with photo.web.open("rb") as handle:
            data = handle.read(PHOTO_MAX_BYTES + 1)
    except OSError:
        log.warning("lead photo %s: web rendition missing", photo.pk)
        return None
    if len(data) > PHOTO_MAX_BYTES:
        return None
    return data, PurePath(photo.web.name).name


def _mark_broken(link: ChatLink, lead: Lead, reason: str):
    def then() -> None:
        ChatLink.objects.filter(pk=link.pk).update(
            state=LinkState.BROKEN, broken_reason=reason[:300], broken_at=timezone.now()
        )
        lead_event_add(
            lead=lead,
            kind=EventKind.NOTIFY_FAILED,
            text=_("уведомление в %(messenger)s не доставлено: %(name)s заблокировал(а) бота")
            % {"messenger": Messenger(link.kind).label, "name": link.membership.display_name},
            messenger=link.kind,
        )

    return then


@register_handler(SEND)
def send_to_chat(message: OutboxMessage) -> None:
    payload = message.payload
    link = (
        ChatLink.objects.select_related("membership__user")
        .filter(pk=payload["link_id"], membership__shop=message.shop_id)
        .first()
    )
    if link is None or link.state != LinkState.ACTIVE:
        return  # unlinked or blocked since: nobody to tell
    bot = MessengerBot.objects.filter(shop=message.shop_id, kind=link.kind).first()
    if bot is None or not bot.ready:
        return  # the shop switched the bot off
    lead = Lead.objects.select_related("shop").filter(pk=payload["lead_id"], shop=message.shop_id)
    lead = lead.first()
    if lead is None:
        return  # the lead was destroyed (retention, withdrawn consent) before it was told
    text = message_text(lead, payload)
    client = client_for(bot.kind, bot.token)
    photo = _first_photo(lead) if payload.get("about") == ABOUT_NEW_LEAD else None
    try:
        if isinstance(client, TelegramClient):
            upload = _photo_bytes(photo) if photo is not None else None
            if upload is not None and len(text) <= CAPTION_CHARS:
                client.send_photo(link.chat_id, upload[0], text, upload[1])
            else:
                client.send_message(link.chat_id, text)
        else:
            # MAX fetches an image by its URL (an image attachment's `payload.url`): a
            # short-lived signed link to the web rendition.
            attachments = None
            if photo is not None:
                url = photo_signed_url(photo, "web", max_age_s=PHOTO_LINK_SECONDS)
                attachments = [{"type": "image", "payload": {"url": url}}]
            client.send_message(link.chat_id, text, attachments)
    except MessengerBlocked as blocked:
        raise OutboxParked(str(blocked), then=_mark_broken(link, lead, str(blocked))) from None
    messenger = Messenger(link.kind).label
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTIFIED,
        text=_("уведомление в %(messenger)s отправлено: %(name)s")
        % {"messenger": messenger, "name": link.membership.display_name},
        outbox=message.pk,
        messenger=link.kind,
    )
