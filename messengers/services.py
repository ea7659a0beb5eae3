"""Messenger notifications for staff: the shop's bots, linking a chat with a one-time code,
and the outbox rows a new lead, an escalation or an accepted offer writes.

Delivery is the outbox's (autoservice.outbox): one row per recipient per messenger, with a
dedupe key naming the cause and the chat link, so a cause is written once however often it
is told. The sending is in `delivery`.
"""

from __future__ import annotations

import logging
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import Membership, Role, Shop
from autoservice.outbox import outbox_put
from leads.models import Lead

from .clients import MessengerError, client_for
from .models import LINK_CODE_TTL, ChatLink, LinkCode, LinkState, MessengerBot

log = logging.getLogger(__name__)

SEND = "messengers.send"
# What a message is about (the payload's "about"): the handler words it.
ABOUT_NEW_LEAD = "lead_new"
ABOUT_ESCALATION = "lead_escalated"
ABOUT_OFFER_ACCEPTED = "offer_accepted"
ABOUT_BOOKING = "booking"
# Unambiguous letters and digits: a code is read off a screen and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def bot_for(shop: Shop, kind: str) -> MessengerBot:
    """The shop's bot of this messenger, or an unsaved empty one (a GET writes nothing)."""
    return MessengerBot.objects.filter(shop=shop, kind=kind).first() or MessengerBot(
        shop=shop, kind=kind
    )


def bot_save(*, shop: Shop, kind: str, token: str | None, enabled: bool) -> MessengerBot:
    """Save a bot's settings; `token` None keeps the saved one (the page never shows it)."""
    bot = bot_for(shop, kind)
    if token is not None and token != bot.token:
        bot.token = token
        bot.bot_username = ""
        bot.checked_at = None
        bot.updates_marker = None
    bot.enabled = enabled
    bot.save()
    return bot


def bot_check(bot: MessengerBot) -> str:
    """Ask the messenger who the bot is (Telegram getMe, MAX GET /me); returns its name.
    Raises MessengerError with the messenger's own reason."""
    if not bot.token:
        raise MessengerError(_("Сначала сохраните токен бота."))
    me = client_for(bot.kind, bot.token).get_me() or {}
    bot.bot_username = str(me.get("username") or me.get("first_name") or "")
    bot.checked_at = timezone.now()
    if bot.pk:
        bot.save(update_fields=["bot_username", "checked_at"])
    return bot.bot_username


def link_code_create(*, membership: Membership, kind: str) -> LinkCode:
    """A fresh one-time code for this person and messenger (earlier unused ones stop)."""
    now = timezone.now()
    with transaction.atomic():
        LinkCode.objects.filter(membership=membership, kind=kind, used_at__isnull=True).update(
            expires_at=now
        )
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        return LinkCode.objects.create(
            membership=membership, kind=kind, code=code, expires_at=now + LINK_CODE_TTL
        )


def link_unlink(*, membership: Membership, kind: str) -> int:
    deleted, _rows = ChatLink.objects.filter(membership=membership, kind=kind).delete()
    return deleted


def link_set_on_duty(*, membership: Membership, kind: str, on_duty: bool) -> int:
    return ChatLink.objects.filter(membership=membership, kind=kind).update(on_duty=on_duty)


def _code_in(text: str) -> str | None:
    """The code in what was sent: "/start CODE" (Telegram deep link), the MAX start
    payload, or the code typed alone; any case, spaces ignored."""
    words = text.replace("/start", " ").split()
    for word in words:
        candidate = word.strip().upper()
        if len(candidate) == CODE_LENGTH and all(c in CODE_ALPHABET for c in candidate):
            return candidate
    return None


def link_by_code(*, bot: MessengerBot, chat_id: str, name: str, text: str) -> ChatLink | None:
    """Someone wrote to the shop's bot: if it is a valid code of this shop and messenger,
    their chat is linked to the code's staff member (the code is used up)."""
    code = _code_in(text)
    if code is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        found = (
            LinkCode.objects.select_for_update()
            .select_related("membership")
            .filter(
                code=code,
                kind=bot.kind,
                membership__shop=bot.shop_id,
                used_at__isnull=True,
                expires_at__gt=now,
            )
            .first()
        )
        if found is None:
            return None
        found.used_at = now
        found.save(update_fields=["used_at"])
        link, _created = ChatLink.objects.update_or_create(
            membership=found.membership,
            kind=bot.kind,
            defaults={
                "chat_id": chat_id,
                "chat_name": name[:150],
                "state": LinkState.ACTIVE,
                "broken_reason": "",
                "broken_at": None,
                "linked_at": now,
            },
        )
    return link


def bot_poll(bot: MessengerBot) -> int:
    """Read what people wrote to the bot since the last poll, link chats by their codes and
    answer them; returns how many were linked."""
    client = client_for(bot.kind, bot.token)
    updates = client.get_updates(bot.updates_marker)
    linked = 0
    for incoming in updates.items:
        link = link_by_code(
            bot=bot, chat_id=incoming.chat_id, name=incoming.name, text=incoming.text
        )
        if link is None:
            continue
        linked += 1
        try:
            client.send_message(
                incoming.chat_id,
                _("Готово: %(name)s, сюда будут приходить уведомления автосервиса «%(shop)s».")
                % {"name": link.membership.display_name, "shop": bot.shop.name},
            )
        except MessengerError as exc:  # the link is made; the greeting is a courtesy
            log.info("messenger greeting not sent: %s", exc)
    if updates.marker != bot.updates_marker:
        MessengerBot.objects.filter(pk=bot.pk).update(updates_marker=updates.marker)
    return linked


def bots_poll() -> int:
    linked = 0
    for bot in MessengerBot.objects.filter(enabled=True).exclude(token="").select_related("shop"):
        try:
            linked += bot_poll(bot)
        except MessengerError as exc:
            log.warning("messenger %s of shop %s not polled: %s", bot.kind, bot.shop_id, exc)
    return linked


# --- who gets what ---------------------------------------------------------------------------


def _live_links(shop: Shop):
    kinds = [b.kind for b in MessengerBot.objects.filter(shop=shop, enabled=True).exclude(token="")]
    return (
        ChatLink.objects.filter(
            membership__shop=shop,
            membership__user__is_active=True,
            state=LinkState.ACTIVE,
            kind__in=kinds,
        )
        .select_related("membership__user")
        .order_by("pk")
    )


def _put(*, shop: Shop, link: ChatLink, about: str, key: str, lead_id: int, **extra) -> None:
    outbox_put(
        shop=shop,
        kind=SEND,
        dedupe_key=f"messenger:{about}:{key}:{link.pk}",
        payload={"link_id": link.pk, "about": about, "lead_id": lead_id, **extra},
    )


def notify_new_lead(*, shop: Shop, lead_id: int) -> int:
    """Each on-duty advisor (and manager) with a linked chat gets the new lead."""
    links = [link for link in _live_links(shop) if link.on_duty]
    for link in links:
        _put(shop=shop, link=link, about=ABOUT_NEW_LEAD, key=str(lead_id), lead_id=lead_id)
    return len(links)


def _manager_links(shop: Shop) -> list[ChatLink]:
    return [link for link in _live_links(shop) if link.membership.role == Role.MANAGER]


def notify_escalation(*, shop: Shop, lead_id: int) -> int:
    links = _manager_links(shop)
    for link in links:
        _put(shop=shop, link=link, about=ABOUT_ESCALATION, key=str(lead_id), lead_id=lead_id)
    return len(links)


def notify_offer_accepted(*, shop: Shop, lead_id: int, offer_id: int, version: int, total: str):
    links = _manager_links(shop)
    for link in links:
        _put(
            shop=shop,
            link=link,
            about=ABOUT_OFFER_ACCEPTED,
            key=f"{offer_id}:{version}",
            lead_id=lead_id,
            total_rub=total,
        )
    return len(links)


def notify_booking(*, shop: Shop, lead_id: int, event_id: str, data: dict, action: str) -> int:
    """A visit booked, moved or cancelled: the lead's assignee if they linked a chat, else
    every on-duty advisor. Whoever did it on the phone is not told what they just did."""
    links = list(_live_links(shop))
    assignee = (
        Lead.objects.filter(pk=lead_id, shop=shop).values_list("assignee_id", flat=True).first()
    )
    theirs = [link for link in links if assignee and link.membership_id == assignee]
    chosen = theirs or [link for link in links if link.on_duty]
    chosen = [link for link in chosen if link.membership_id != data.get("by_membership_id")]
    for link in chosen:
        _put(
            shop=shop,
            link=link,
            about=ABOUT_BOOKING,
            key=event_id,
            lead_id=lead_id,
            action=action,
            booking_id=data.get("booking_id"),
            starts_at=data.get("starts_at"),
            old_starts_at=data.get("old_starts_at"),
            post=data.get("post"),
            by=data.get("by"),
        )
    return len(chosen)
