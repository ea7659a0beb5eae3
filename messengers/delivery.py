"""The outbox handler: one message to one linked chat, then a line on the lead's timeline.

Outcomes (the outbox records them): sent → the timeline says so, in the same transaction as
the `sent` mark; 429 → retried no earlier than the messenger's `retry_after`; 403 (the person
blocked the bot) → the link is marked broken, shown on their profile, and the row parked, not
retried; a refusing or failing messenger (it answered, or was never reached) → retried with
the outbox's backoff.

At most once, never a blind second copy: neither Telegram nor MAX takes an idempotency key,
so a mark (`messengers:inflight:<outbox id>`, in Redis) is set right before the request goes
out and cleared once the answer is recorded or the messenger certainly did not take it. A
request that timed out, a connection cut while waiting, or a worker killed mid-request leave
the mark: the next attempt finds it and records «неизвестно, дошло ли» on the lead's timeline
instead of sending again. Timeline of the one case exactly once cannot cover:
  t0 claim (row `sending`, lease) → t1 mark set → t2 request out → t3 messenger delivers →
  [worker dies] → t4 lease over, row queued again → t5 mark found: not sent, noted.
A death between t1 and t2 (mark set, nothing sent) loses that one message the same way; the
lead is in the inbox anyway and its SLA escalation still reaches the managers. A Redis that
lost the mark (restart without persistence) makes the retry send again (at least once).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import PurePath

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from autoservice.models import OutboxMessage
from autoservice.money import format_rub
from autoservice.outbox import OutboxParked, register_handler
from leads.models import EventKind, Lead, LeadPhoto, PhotoState
from leads.services import lead_event_add, photo_signed_url
from smartcalc.selectors import estimate_latest_for_lead

from .clients import (
    MessengerBlocked,
    MessengerError,
    MessengerUncertain,
    TelegramClient,
    client_for,
)
from .models import ChatLink, LinkState, Messenger, MessengerBot
from .services import ABOUT_BOOKING, ABOUT_ESCALATION, ABOUT_NEW_LEAD, ABOUT_OFFER_ACCEPTED, SEND

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
# The in-flight mark outlives any lease and any retry schedule of the outbox.
INFLIGHT_TTL_S = 7 * 24 * 3600


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


def _when(lead: Lead, iso: str | None) -> str:
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso).astimezone(lead.shop.tzinfo)
    return date_format(moment, "j E, D, H:i")


def _booking_head(lead: Lead, payload: dict) -> str:
    words = {
        "n": lead.number,
        "when": _when(lead, payload.get("starts_at")),
        "old": _when(lead, payload.get("old_starts_at")),
        "post": payload.get("post"),
        "who": _("клиент по ссылке") if payload.get("by") == "driver" else _("сотрудник"),
    }
    action = payload.get("action")
    if action == "moved":
        return _(
            "Визит по заявке №%(n)s перенесён: %(old)s → %(when)s, пост %(post)s (%(who)s)"
        ) % (words)
    if action == "cancelled":
        return _("Запись по заявке №%(n)s на %(when)s отменена (%(who)s)") % words
    return _("Запись по заявке №%(n)s: %(when)s, пост %(post)s (%(who)s)") % words


def message_text(lead: Lead, payload: dict) -> str:
    about = payload.get("about")
    url = settings.SITE_URL + reverse("leads:lead_detail", kwargs={"lead_id": lead.pk})
    if about == ABOUT_BOOKING:
        board = settings.SITE_URL + reverse("booking:board")
        if payload.get("starts_at"):
            day = dt.datetime.fromisoformat(payload["starts_at"]).astimezone(lead.shop.tzinfo)
            board += f"?day={day.date().isoformat()}"
        return "\n".join([_booking_head(lead, payload), _car(lead), url, board])[:TEXT_CHARS]
    if about == ABOUT_ESCALATION:
        head = _("Заявка №%(n)s без ответа дольше срока (%(sla)s мин.)") % {
            "n": lead.number,
            "sla": lead.shop.sla_minutes,
        }
    elif about == ABOUT_OFFER_ACCEPTED:
        head = _("Клиент принял предложение по заявке №%(n)s") % {"n": lead.number}
        if payload.get("total_rub"):
            head += "\n" + _("Сумма: %(total)s") % {"total": format_rub(payload["total_rub"])}
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


def inflight_key(message: OutboxMessage) -> str:
    return f"messengers:inflight:{message.pk}"


def _uncertain(message: OutboxMessage, link: ChatLink, lead: Lead, why: str) -> None:
    """The message may have reached the chat: it is NOT sent again (neither messenger can
    be asked whether it has it, and a second copy of every new lead would teach staff to
    ignore the bot). The timeline says so; the lead stays in the inbox and its SLA
    escalation still goes to the managers if nobody answers."""
    messenger = Messenger(link.kind).label
    note = _(
        "уведомление в %(messenger)s для %(name)s: неизвестно, дошло ли (%(why)s); "
        "повторно не отправляли, чтобы не было дубля"
    ) % {"messenger": messenger, "name": link.membership.display_name, "why": why}
    lead_event_add(
        lead=lead, kind=EventKind.NOTIFY_FAILED, text=note, outbox=message.pk, messenger=link.kind
    )
    OutboxMessage.objects.filter(pk=message.pk).update(last_error=f"uncertain: {why}"[:2000])
    key = inflight_key(message)
    transaction.on_commit(lambda: cache.delete(key))


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
    marker = inflight_key(message)
    if cache.get(marker):
        # An earlier attempt handed this message to the messenger and died (or timed out)
        # before it could record the answer.
        _uncertain(message, link, lead, _("сбой во время отправки"))
        return
    # Written before the request goes out, so that whoever retries knows it went out.
    cache.set(marker, 1, timeout=INFLIGHT_TTL_S)
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
    except MessengerUncertain as exc:
        _uncertain(message, link, lead, str(exc))
        return
    except MessengerBlocked as blocked:
        cache.delete(marker)
        raise OutboxParked(str(blocked), then=_mark_broken(link, lead, str(blocked))) from None
    except MessengerError:
        cache.delete(marker)  # the messenger answered "no": safe to send again later
        raise
    transaction.on_commit(lambda: cache.delete(marker))
    messenger = Messenger(link.kind).label
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTIFIED,
        text=_("уведомление в %(messenger)s отправлено: %(name)s")
        % {"messenger": messenger, "name": link.membership.display_name},
        outbox=message.pk,
        messenger=link.kind,
    )
