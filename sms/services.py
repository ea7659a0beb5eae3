"""SMS to drivers: what is written when, how it goes out, and what the shop sees.

`sms_send` writes an `SmsMessage` and its outbox row (`sms.send`) in the caller's
transaction; shop events (the offer sent, the car booked or ready) do so through the
listener below. The outbox delivers after commit and retries. The handler:

- sends nothing when SMS are switched off, and refuses past the shop's daily limit (a line on
  the lead's timeline says so, in Russian);
- marks the attempt in Redis right before the gateway call (`sms:inflight:<id>`), and clears
  the mark when the gateway certainly did not take the message;
- on a retry that finds the mark but no recorded acceptance (the worker died, or the answer
  was lost after the request went out), asks the gateway whether it has the message: SMSC
  by our own id (sent as `id`); found → recorded, not sent again. SMS.ru cannot be asked by
  an id of ours, so such a message is marked «неизвестно» on the timeline and NOT sent
  again: a possible loss in that narrow window rather than a possible second SMS.

What is guaranteed: one gateway acceptance per message whenever the gateway is SMSC or the
worker survives; SMS.ru after a worker death between its acceptance and our commit: at most
once, shown as unknown. A Redis that lost the mark (restart without persistence) makes the
retry send again (at least once).

A refused account (key, balance, sender name) parks the message and shows the gateway's
reason on the settings page; saving the settings or a passing test SMS releases them.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from autoservice import events
from autoservice.consent import consent_withdrawn
from autoservice.models import OutboxMessage, OutboxStatus, Shop
from autoservice.outbox import OutboxParked, outbox_put, outbox_release, register_handler
from autoservice.phones import format_phone
from booking.models import Booking, BookingStatus
from customers.links import driver_page_url
from customers.models import Customer, CustomerEvent, CustomerPhone
from customers.models import EventKind as CustomerEventKind
from leads.models import EventKind, Lead, Status
from leads.services import lead_event_add
from optima.models import CustomerOffer

from .gateways import (
    DELIVERED,
    NOT_FOUND,
    UNDELIVERED,
    Accepted,
    SmsError,
    SmsRefusedError,
    SmsSettingsError,
    gateway_client,
)
from .models import MarketingConsent, Purpose, SmsMessage, SmsSettings, SmsStatus

log = logging.getLogger(__name__)

SEND = "sms.send"
CAMPAIGN_PREFIX = "campaign:"
INFLIGHT_TTL_S = 7 * 24 * 3600
STATUS_POLL_DAYS = 3


class MarketingConsentMissing(Exception):  # noqa: N818 - a refusal, said to the caller
    pass


def sms_settings(shop: Shop) -> SmsSettings:
    """The shop's settings, or unsaved defaults (a read writes nothing)."""
    return SmsSettings.objects.filter(shop=shop).first() or SmsSettings(shop=shop)


def _customer_of_phone(shop: Shop, phone: str) -> Customer | None:
    row = CustomerPhone.objects.filter(shop=shop, phone=phone).select_related("customer").first()
    if row is None:
        return None
    customer = row.customer
    # A merged duplicate speaks for the customer it was merged into.
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        customer = Customer.objects.get(pk=customer.merged_into_id)
        seen.add(customer.pk)
    return customer


def marketing_consent_given(*, shop: Shop, phone: str) -> bool:
    """One truth for advertising consent: the newest word the driver gave, wherever it was
    recorded — on the customer with this phone (`marketing_consent_at` /
    `marketing_withdrawn_at`, set by the request forms and the unsubscribe link) or on a
    phone-only record from before the customer existed. A withdrawal newer than every
    consent wins; so does a withdrawn consent to the processing of personal data."""
    if not phone or consent_withdrawn(shop=shop, phone=phone):
        return False
    said: list[tuple[dt.datetime, bool]] = []
    customer = _customer_of_phone(shop, phone)
    if customer is not None:
        if customer.marketing_consent_at is not None:
            said.append((customer.marketing_consent_at, True))
        if customer.marketing_withdrawn_at is not None:
            said.append((customer.marketing_withdrawn_at, False))
    for given_at, withdrawn_at in MarketingConsent.objects.filter(
        shop=shop, phone=phone
    ).values_list("given_at", "withdrawn_at"):
        said.append((given_at, True))
        if withdrawn_at is not None:
            said.append((withdrawn_at, False))
    if not said:
        return False
    # On the same moment a withdrawal outranks a consent.
    return max(said, key=lambda word: (word[0], not word[1]))[1]


def marketing_consent_record(
    *, shop: Shop, phone: str, source: str, given_at: dt.datetime | None = None
) -> Customer | MarketingConsent:
    """The driver agreed to advertising: on their customer (and its timeline) when the phone
    is a customer's, else on a record by phone (the guard reads both)."""
    given_at = given_at or timezone.now()
    customer = _customer_of_phone(shop, phone)
    if customer is None:
        return MarketingConsent.objects.create(
            shop=shop, phone=phone, given_at=given_at, source=source[:200]
        )
    customer.marketing_consent_at = given_at
    customer.marketing_consent_source = source[:200]
    customer.marketing_withdrawn_at = None
    customer.save(
        update_fields=["marketing_consent_at", "marketing_consent_source", "marketing_withdrawn_at"]
    )
    CustomerEvent.objects.create(
        customer=customer,
        kind=CustomerEventKind.CONSENT,
        text=_("Согласие на рекламные сообщения: %(source)s") % {"source": source},
        data={"marketing": True, "phone": phone},
        created_at=given_at,
    )
    return customer


def sms_send(
    *,
    shop: Shop,
    phone: str,
    text: str,
    purpose: str,
    dedupe_key: str,
    lead: Lead | None = None,
    marketing: bool = False,
) -> SmsMessage | None:
    """Write one SMS for delivery after the caller's transaction commits. Returns None when
    the driver withdrew consent. `marketing=True` (a campaign) raises
    `MarketingConsentMissing` unless the driver agreed to advertising SMS."""
    if marketing or purpose == Purpose.MARKETING:
        if not marketing_consent_given(shop=shop, phone=phone):
            raise MarketingConsentMissing(
                _("Клиент %(phone)s не давал согласия на рекламные SMS.") % {"phone": phone}
            )
    if consent_withdrawn(shop=shop, phone=phone):
        return None
    sms, created = SmsMessage.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={"shop": shop, "lead": lead, "phone": phone, "text": text, "purpose": purpose},
    )
    if created:
        outbox_put(
            shop=shop,
            kind=SEND,
            dedupe_key=f"sms:{sms.pk}",
            payload={"sms_id": sms.pk},
            subject_phone=phone,
        )
    return sms


# --- events in ----------------------------------------------------------------------------


def _shop_line(shop: Shop) -> str:
    return shop.name.strip()


def _page_line(lead: Lead) -> str:
    """The driver's own page, when the request names its customer."""
    page = driver_page_url(lead.customer) if lead.customer_id else ""
    return " " + _("Ваша страница: %(link)s") % {"link": page} if page else ""


def _offer_text(shop: Shop, lead: Lead, offer: CustomerOffer) -> str:
    link = settings.SITE_URL + reverse("optima:offer_public", args=[shop.slug, offer.token])
    return _("%(shop)s: предложение по ремонту по заявке №%(n)s: %(link)s") % {
        "shop": _shop_line(shop),
        "n": lead.number,
        "link": link,
    } + _page_line(lead)


def _status_text(shop: Shop, status: str) -> tuple[str, str] | None:
    if status == Status.BOOKED:
        words = _("%(shop)s: вы записаны на ремонт.") % {"shop": _shop_line(shop)}
        if shop.address:
            words += " " + _("Адрес: %(a)s.") % {"a": shop.address}
        if shop.phone:
            words += " " + _("Тел. %(p)s") % {"p": shop.phone}
        return Purpose.BOOKED, words
    if status == Status.WON:
        return Purpose.READY, _("%(shop)s: ремонт закончен, автомобиль можно забирать.") % {
            "shop": _shop_line(shop)
        }
    return None


BOOKING_EVENTS = (
    events.BOOKING_CREATED,
    events.BOOKING_MOVED,
    events.BOOKING_CANCELLED,
    events.BOOKING_REMINDER_DUE,
)


def _when(shop: Shop, iso: str) -> str:
    moment = dt.datetime.fromisoformat(iso).astimezone(shop.tzinfo)
    return date_format(moment, "j E, D, H:i")


def _booking_text(event: events.ShopEvent, booking: Booking) -> tuple[str, str]:
    """Transactional (the visit the driver asked for), so the processing consent is enough:
    no advertising consent is asked for these. Each carries the visit's own link, where the
    driver moves or cancels it."""
    shop = event.shop
    words = {
        "shop": _shop_line(shop),
        "when": _when(shop, event.data["starts_at"]),
        "link": settings.SITE_URL + reverse("booking:visit", args=[shop.slug, booking.token]),
    }
    if event.type == events.BOOKING_CREATED:
        text = _("%(shop)s: вы записаны на %(when)s.") % words
        if shop.address:
            text += " " + _("Адрес: %(a)s.") % {"a": shop.address}
        text += " " + _("Перенести или отменить: %(link)s") % words
        return Purpose.BOOKED, text
    if event.type == events.BOOKING_MOVED:
        return Purpose.BOOKED, _("%(shop)s: визит перенесён на %(when)s. Запись: %(link)s") % words
    if event.type == events.BOOKING_CANCELLED:
        text = _("%(shop)s: запись на %(when)s отменена.") % words
        if shop.phone:
            text += " " + _("Тел. %(p)s") % {"p": shop.phone}
        return Purpose.BOOKED, text
    return Purpose.REMINDER, _(
        "%(shop)s: напоминаем о визите %(when)s. Перенести или отменить: %(link)s"
    ) % words


def _booking_sms(event: events.ShopEvent, lead: Lead) -> None:
    booking = Booking.objects.filter(pk=event.data.get("booking_id"), shop=event.shop).first()
    if booking is None:
        return
    purpose, text = _booking_text(event, booking)
    text += _page_line(lead)
    sms_send(
        shop=event.shop,
        phone=lead.phone,
        text=text,
        purpose=purpose,
        # The event's id: each move is its own SMS; a reminder is one per start time
        # because beat emits it once per start time.
        dedupe_key=f"lead:{lead.pk}:booking:{event.id}",
        lead=lead,
    )


def _on_marketing_event(event: events.ShopEvent) -> None:
    data = event.data
    if event.type == events.MARKETING_CONSENT_GIVEN:
        given_at = dt.datetime.fromisoformat(data["given_at"]) if data.get("given_at") else None
        marketing_consent_record(
            shop=event.shop, phone=data["phone"], source=data.get("source", ""), given_at=given_at
        )
        return
    # A campaign's message: the campaign checked the consent; the guard checks it again.
    try:
        sms_send(
            shop=event.shop,
            phone=data["phone"],
            text=data["text"],
            purpose=data.get("purpose") or Purpose.MARKETING,
            dedupe_key=f"{CAMPAIGN_PREFIX}{data['key']}",
            marketing=True,
        )
    except MarketingConsentMissing:
        log.info("campaign message %s not sent: no marketing consent", data["key"])


def _tell_campaign(sms: SmsMessage) -> None:
    """A campaign's SMS changed state: the campaigns app counts it."""
    if sms.dedupe_key.startswith(CAMPAIGN_PREFIX):
        events.event_emit(
            shop=sms.shop,
            type=events.CAMPAIGN_SMS_STATUS,
            subject=f"sms:{sms.pk}",
            data={"key": sms.dedupe_key.removeprefix(CAMPAIGN_PREFIX), "status": sms.status},
        )


@events.event_listen("sms")
def sms_on_shop_event(event: events.ShopEvent) -> None:
    """Writes SMS rows for the driver (and the advertising consent); never calls out."""
    if event.type in (events.MARKETING_CONSENT_GIVEN, events.CAMPAIGN_MESSAGE_QUEUED):
        _on_marketing_event(event)
        return
    if event.type not in (events.OFFER_SENT, events.LEAD_STATUS_CHANGED, *BOOKING_EVENTS):
        return
    if not event.lead_id:
        return
    conf = SmsSettings.objects.filter(shop=event.shop, enabled=True).first()
    if conf is None:
        return
    lead = Lead.objects.filter(pk=event.lead_id, shop=event.shop).select_related("customer").first()
    if lead is None or not lead.phone or lead.is_consent_withdrawn:
        return
    if event.type in BOOKING_EVENTS:
        _booking_sms(event, lead)
        return
    if event.type == events.OFFER_SENT:
        offer = CustomerOffer.objects.filter(pk=event.data.get("offer_id"), shop=event.shop).first()
        if offer is None:
            return
        purpose, text = Purpose.OFFER, _offer_text(event.shop, lead, offer)
        key = f"offer:{offer.pk}:v{event.data.get('version')}"
    else:
        said = _status_text(event.shop, event.data.get("new", ""))
        if said is None:
            return
        if (
            said[0] == Purpose.BOOKED
            and Booking.objects.filter(lead=lead, status=BookingStatus.BOOKED).exists()
        ):
            return  # booked through the booking: its own SMS has the time and the link
        purpose, text = said
        text += _page_line(lead)
        key = f"status:{event.id}"
    sms_send(
        shop=event.shop,
        phone=lead.phone,
        text=text,
        purpose=purpose,
        dedupe_key=f"lead:{lead.pk}:{key}",
        lead=lead,
    )


# --- the outbox handler: calls out --------------------------------------------------------


def _inflight_key(sms: SmsMessage) -> str:
    return f"sms:inflight:{sms.pk}"


def _timeline(sms: SmsMessage, kind: str, text: str) -> None:
    if sms.lead_id is not None:
        lead = Lead.objects.filter(pk=sms.lead_id).first()
        if lead is not None:
            lead_event_add(lead=lead, kind=kind, text=text, sms_id=sms.pk)


def sms_sent_today(conf: SmsSettings) -> int:
    local = conf.shop.local_now()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return SmsMessage.objects.filter(shop_id=conf.shop_id, sent_at__gte=midnight).count()


def _accepted(sms: SmsMessage, conf: SmsSettings, got: Accepted, *, found: bool = False) -> None:
    sms.gateway = conf.gateway
    sms.gateway_id = got.gateway_id
    sms.status = SmsStatus.SENT
    sms.sent_at = timezone.now()
    sms.cost = got.cost if got.cost is not None else conf.cost_per_message
    sms.status_text = ""
    sms.save(update_fields=["gateway", "gateway_id", "status", "sent_at", "cost", "status_text"])
    _tell_campaign(sms)
    text = _("SMS на %(phone)s принято %(gw)s: «%(text)s»") % {
        "phone": format_phone(sms.phone),
        "gw": conf.get_gateway_display(),
        "text": sms.text,
    }
    if found:
        text += " " + _("(найдено в шлюзе после сбоя, повторно не отправлялось)")
    _timeline(sms, EventKind.NOTIFIED, text)
    if conf.error_message:
        SmsSettings.objects.filter(pk=conf.pk).update(error_message="", error_at=None)


def _fail(sms: SmsMessage, status: str, reason: str) -> None:
    sms.status = status
    sms.status_text = reason[:300]
    sms.save(update_fields=["status", "status_text"])
    _tell_campaign(sms)
    _timeline(
        sms,
        EventKind.NOTIFY_FAILED,
        _("SMS на %(phone)s не отправлено: %(why)s")
        % {"phone": format_phone(sms.phone), "why": reason},
    )


def _record_settings_error(shop_id: int, reason: str) -> None:
    SmsSettings.objects.filter(shop_id=shop_id).update(
        error_message=reason, error_at=timezone.now()
    )


@register_handler(SEND)
def sms_deliver(message: OutboxMessage) -> None:
    sms = SmsMessage.objects.filter(
        pk=message.payload.get("sms_id"), shop_id=message.shop_id
    ).first()
    if sms is None or sms.status != SmsStatus.QUEUED:
        return  # recorded already (sent, refused, unknown): never a second SMS
    # The shop's settings row is locked while its SMS goes out: the daily count and the send
    # it allows are one decision, however many workers run.
    conf = (
        SmsSettings.objects.select_for_update()
        .select_related("shop")
        .filter(shop_id=message.shop_id)
        .first()
    )
    if conf is None or not conf.enabled or not conf.configured:
        _fail(sms, SmsStatus.FAILED, _("SMS выключены в настройках автосервиса."))
        return
    client = gateway_client(conf)
    marker = _inflight_key(sms)
    if cache.get(marker):
        # An earlier attempt handed the message over and its outcome was never recorded.
        if not client.can_lookup:
            _fail(
                sms,
                SmsStatus.UNKNOWN,
                _(
                    "сбой во время отправки: %(gw)s мог принять SMS, но не умеет сказать, "
                    "получил ли он его; повторно не отправляем, чтобы клиент не получил два "
                    "SMS — при необходимости позвоните клиенту"
                )
                % {"gw": conf.get_gateway_display()},
            )
            return
        try:
            found = client.lookup(our_id=sms.pk, phone=sms.phone)
        except SmsSettingsError as exc:
            reason = exc.message
            raise OutboxParked(
                reason, then=lambda: _record_settings_error(conf.shop_id, reason)
            ) from None
        if found is not None:
            _accepted(sms, conf, found, found=True)
            cache.delete(marker)
            return
    if sms_sent_today(conf) >= conf.daily_limit:
        _fail(
            sms,
            SmsStatus.OVER_LIMIT,
            _("достигнут дневной лимит автосервиса — %(n)s SMS в сутки (меняется в настройках SMS)")
            % {"n": conf.daily_limit},
        )
        return
    cache.set(marker, 1, timeout=INFLIGHT_TTL_S)
    try:
        got = client.send(phone=sms.phone, text=sms.text, sender=conf.sender, our_id=sms.pk)
    except SmsSettingsError as exc:
        cache.delete(marker)
        reason = exc.message
        raise OutboxParked(
            reason, then=lambda: _record_settings_error(conf.shop_id, reason)
        ) from None
    except SmsRefusedError as exc:
        cache.delete(marker)
        _fail(sms, SmsStatus.FAILED, exc.message)
        return
    except SmsError as exc:
        if not exc.uncertain:
            cache.delete(marker)
        raise
    _accepted(sms, conf, got)
    cache.delete(marker)


# --- delivery reports ---------------------------------------------------------------------


def sms_status_poll(now: dt.datetime | None = None, limit: int = 200) -> int:
    """Ask the gateway about SMS accepted in the last days and not yet final; returns how
    many changed. Delivered / not delivered goes on the lead's timeline."""
    now = now or timezone.now()
    rows = list(
        SmsMessage.objects.filter(
            status=SmsStatus.SENT, sent_at__gte=now - dt.timedelta(days=STATUS_POLL_DAYS)
        )
        .select_related("shop")
        .order_by("checked_at", "pk")[:limit]
    )
    confs = {
        c.shop_id: c for c in SmsSettings.objects.filter(shop_id__in={r.shop_id for r in rows})
    }
    changed = 0
    for sms in rows:
        conf = confs.get(sms.shop_id)
        if conf is None or not conf.configured or conf.gateway != sms.gateway:
            continue
        try:
            report = gateway_client(conf).status(gateway_id=sms.gateway_id, phone=sms.phone)
        except SmsError as exc:
            log.info("sms %s status not read: %s", sms.pk, exc.message)
            continue
        with transaction.atomic():
            sms.checked_at = timezone.now()
            fields = ["checked_at"]
            if report.cost is not None:
                sms.cost = report.cost
                fields.append("cost")
            if report.state == DELIVERED:
                sms.status, sms.delivered_at = SmsStatus.DELIVERED, sms.checked_at
                fields += ["status", "delivered_at"]
                _timeline(
                    sms,
                    EventKind.NOTIFIED,
                    _("SMS на %(phone)s доставлено") % {"phone": format_phone(sms.phone)},
                )
            elif report.state == UNDELIVERED:
                sms.status, sms.status_text = SmsStatus.UNDELIVERED, report.text[:300]
                fields += ["status", "status_text"]
                _timeline(
                    sms,
                    EventKind.NOTIFY_FAILED,
                    _("SMS на %(phone)s не доставлено: %(why)s")
                    % {
                        "phone": format_phone(sms.phone),
                        "why": report.text or _("оператор не доставил"),
                    },
                )
            elif report.state == NOT_FOUND:
                pass  # the gateway has not registered it yet: asked again next time
            sms.save(update_fields=fields)
            if report.state in (DELIVERED, UNDELIVERED):
                _tell_campaign(sms)
            changed += report.state in (DELIVERED, UNDELIVERED)
    return changed


# --- the manager's actions ------------------------------------------------------------------


def sms_settings_saved(conf: SmsSettings) -> int:
    """After the manager saved the settings: the error is cleared and parked SMS go again."""
    SmsSettings.objects.filter(pk=conf.pk).update(error_message="", error_at=None)
    conf.error_message, conf.error_at = "", None
    return outbox_release(
        OutboxMessage.objects.filter(shop=conf.shop, kind=SEND, status=OutboxStatus.PARKED)
    )


def sms_send_test(*, conf: SmsSettings, phone: str) -> tuple[bool, str]:
    """Send one test SMS right now (not through the outbox: the manager waits for the
    answer). It counts in the daily limit and its cost like any other."""
    if sms_sent_today(conf) >= conf.daily_limit:
        return False, _("Дневной лимит SMS исчерпан (%(n)s в сутки).") % {"n": conf.daily_limit}
    text = _("%(shop)s: тестовое SMS из Цифровой стойки автосервиса.") % {
        "shop": _shop_line(conf.shop)
    }
    sms = SmsMessage.objects.create(
        shop=conf.shop,
        phone=phone,
        text=text,
        purpose=Purpose.TEST,
        dedupe_key=f"test:{conf.shop_id}:{timezone.now().timestamp()}",
    )
    try:
        got = gateway_client(conf).send(phone=phone, text=text, sender=conf.sender, our_id=sms.pk)
    except SmsSettingsError as exc:
        _record_settings_error(conf.shop_id, exc.message)
        _fail(sms, SmsStatus.FAILED, exc.message)
        return False, exc.message
    except SmsError as exc:
        _fail(sms, SmsStatus.FAILED, exc.message)
        return False, exc.message
    _accepted(sms, conf, got)
    sms_settings_saved(conf)
    return True, _("Тестовое SMS на %(phone)s принято шлюзом.") % {"phone": format_phone(phone)}
