"""Shop events: what happened to a lead, an estimate, an offer or an intake record, told to
whoever listens (the shop's webhooks, its CRM).

The apps that make a change (leads, booking, smartcalc, optima, intake) call `event_emit` inside the
transaction that makes it. Listeners are registered by the apps above them (in their
AppConfig.ready) and run right there, in the same transaction: each writes its outgoing
messages to the outbox. So an event is never told for a change that rolled back, and never
lost for one that committed. A listener must not call out of the process; it only writes.

An event's `id` is unique and stable: a receiver deduplicates by it. `subject` names the
thing it is about ("lead:42"); events of one subject are emitted in the order they happen.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Shop

log = logging.getLogger(__name__)

LEAD_CREATED = "lead.created"
LEAD_STATUS_CHANGED = "lead.status_changed"
LEAD_ASSIGNED = "lead.assigned"
ESTIMATE_CREATED = "estimate.created"
ESTIMATE_REVISED = "estimate.revised"
OFFER_SENT = "offer.sent"
OFFER_ACCEPTED = "offer.accepted"
INTAKE_SEALED = "intake.sealed"
BOOKING_CREATED = "booking.created"
BOOKING_MOVED = "booking.moved"
BOOKING_CANCELLED = "booking.cancelled"
# Beat found a visit starting within a day (once per start time): the SMS reminder hears it.
BOOKING_REMINDER_DUE = "booking.reminder_due"

# Internal events between the apps, offered to no webhook or CRM (emitted without a lead, so
# the CRM listener skips them too):
# - `marketing.consent_given`: a driver ticked the advertising consent on a request form;
#   data {phone, source, given_at (ISO)}. The SMS app records it on the customer with that
#   phone, or by phone when there is no customer yet.
# - `campaign.message_queued`: a reminder or a campaign wrote a message for a customer who
#   agreed to advertising; data {key, phone, text}. The SMS app writes the SMS (marketing,
#   checked against the consent again) with dedupe key `campaign:<key>`.
# - `customer.code_requested`: a driver asked for their page's link by phone; data
#   {customer_id, phone, code_sealed} — the one-time code encrypted with the platform key
#   (autoservice.crypto); the customers app keeps only its hash. The SMS app sends it.
# - `campaign.sms_status`: the SMS of such a message was accepted, delivered, not delivered
#   or refused; data {key, status}. The campaigns app records it for its figures.
MARKETING_CONSENT_GIVEN = "marketing.consent_given"
CAMPAIGN_MESSAGE_QUEUED = "campaign.message_queued"
CAMPAIGN_SMS_STATUS = "campaign.sms_status"
CUSTOMER_CODE_REQUESTED = "customer.code_requested"
INTERNAL_EVENT_TYPES = frozenset(
    {MARKETING_CONSENT_GIVEN, CAMPAIGN_MESSAGE_QUEUED, CAMPAIGN_SMS_STATUS, CUSTOMER_CODE_REQUESTED}
)

# Every event a shop can subscribe to, with the name its manager sees.
EVENT_TYPES: dict[str, str] = {
    LEAD_CREATED: _("Новая заявка"),
    LEAD_STATUS_CHANGED: _("Статус заявки изменён"),
    LEAD_ASSIGNED: _("Назначен ответственный"),
    ESTIMATE_CREATED: _("Смета создана"),
    ESTIMATE_REVISED: _("Смета пересчитана после осмотра"),
    OFFER_SENT: _("Предложение отправлено клиенту"),
    OFFER_ACCEPTED: _("Клиент принял предложение"),
    INTAKE_SEALED: _("Акт приёмки подписан"),
    BOOKING_CREATED: _("Клиент записан на визит"),
    BOOKING_MOVED: _("Визит перенесён"),
    BOOKING_CANCELLED: _("Запись на визит отменена"),
    BOOKING_REMINDER_DUE: _("Пора напомнить о визите"),
}


@dataclass(frozen=True)
class ShopEvent:
    """One thing that happened in one shop. `data` is JSON-ready (ids, codes, amounts as
    strings); a listener reads more from the database if it needs it, in the same
    transaction."""

    type: str
    shop: Shop
    subject: str
    data: dict
    lead_id: int | None = None
    occurred_at: dt.datetime = field(default_factory=timezone.now)
    id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")


Listener = Callable[[ShopEvent], None]
_LISTENERS: dict[str, Listener] = {}


def event_listen(name: str) -> Callable[[Listener], Listener]:
    """Register a listener under a name (registering the same name again replaces it)."""

    def decorator(func: Listener) -> Listener:
        _LISTENERS[name] = func
        return func

    return decorator


def event_emit(
    *,
    shop: Shop,
    type: str,  # noqa: A002 - the event's type, as the webhook payload names it
    subject: str,
    data: dict,
    lead_id: int | None = None,
) -> ShopEvent:
    """Tell every listener, in the caller's transaction. A listener's error rolls the change
    back with it: an event that cannot be recorded must not be silently dropped."""
    if type not in EVENT_TYPES and type not in INTERNAL_EVENT_TYPES:
        raise ValueError(f"unknown shop event {type!r}")
    event = ShopEvent(type=type, shop=shop, subject=subject, data=data, lead_id=lead_id)
    for listener in list(_LISTENERS.values()):
        listener(event)
    return event
