"""Actions on a shop's webhook endpoints and deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from autoservice.consent import consent_withdrawn
from autoservice.events import EVENT_TYPES, ShopEvent
from autoservice.models import Shop
from autoservice.outbox import outbox_put
from autoservice.services import shop_managers

from . import signing
from .delivery import delivery_enqueue_on_commit
from .models import TEST_EVENT, DeliveryStatus, WebhookDelivery, WebhookEndpoint

# How long the previous secret keeps signing after a rotation: the receiver's time to
# switch to the new one without losing a delivery.
ROTATION_OVERLAP = dt.timedelta(hours=24)
NOTIFY_DISABLED = "webhooks.endpoint_disabled"

# The resource each event is about, as the REST API v1 names it (the `url` in `data`).
_RESOURCES = {
    "lead_id": "api:lead",
    "estimate_id": "api:estimate",
    "offer_id": "api:offer",
    "intake_id": "api:intake_record",
}


def _clean_events(events: Iterable[str]) -> list[str]:
    wanted = set(events)
    unknown = wanted - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown events: {sorted(unknown)}")
    return [code for code in EVENT_TYPES if code in wanted]


def endpoint_create(
    *, shop: Shop, url: str, events: Iterable[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (shown to the manager once)."""
    secret = signing.secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        shop=shop,
        url=url.strip(),
        description=description.strip(),
        events=_clean_events(events),
        secret=secret,
    )
    return endpoint, secret


def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: Iterable[str], description: str = ""
) -> WebhookEndpoint:
    endpoint.url = url.strip()
    endpoint.events = _clean_events(events)
    endpoint.description = description.strip()
    endpoint.save(update_fields=["url", "events", "description", "updated_at"])
    return endpoint


def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, now: dt.datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the old one signs too for ROTATION_OVERLAP, so the
    receiver switches without losing a delivery (both go in `webhook-signature`)."""
    now = now or timezone.now()
    secret = signing.secret_generate()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = secret
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint, secret


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str, notify: bool = False) -> bool:
    """Switch the endpoint off (its open deliveries wait; nothing new is recorded for it).
    With `notify`, the shop's managers get an e-mail through the outbox. False when it was
    already off."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason[:300], disabled_at=timezone.now()
    )
    endpoint.refresh_from_db()
    if changed and notify and any(m.user.email for m in shop_managers(endpoint.shop)):
        outbox_put(
            shop=endpoint.shop,
            kind=NOTIFY_DISABLED,
            dedupe_key=f"webhook-disabled:{endpoint.pk}:{uuid.uuid4().hex}",
            payload={"endpoint_id": endpoint.pk},
        )
    return bool(changed)


def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Switch it on again: deliveries that waited go at the next beat, oldest first."""
    endpoint.enabled = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"])
    return endpoint


def event_payload(event: ShopEvent) -> dict:
    """The body of every delivery of an event (Standard Webhooks: type, timestamp, data).

    `data` is thin on purpose: the ids, numbers, codes and amounts the event carries, plus
    `url`, the resource in the REST API v1, where the receiver reads the rest with its
    token. No personal data travels in a webhook."""
    data = dict(event.data)
    for key, name in _RESOURCES.items():
        if data.get(key):
            kwarg = "record_id" if key == "intake_id" else key
            data["url"] = settings.SITE_URL + reverse(name, kwargs={kwarg: data[key]})
            break
    return {
        "type": event.type,
        "timestamp": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def deliveries_record(event: ShopEvent) -> list[WebhookDelivery]:
    """In the event's transaction: one delivery per enabled endpoint of the shop that chose
    this event, queued once that commits. Nothing for a driver who withdrew consent."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(shop=event.shop, enabled=True)
        if e.wants(event.type)
    ]
    if not endpoints:
        return []
    lead = None
    if event.lead_id:
        from leads.models import Lead

        lead = Lead.objects.filter(pk=event.lead_id).only("phone", "consent_withdrawn_at").first()
        if lead is not None and (
            lead.is_consent_withdrawn or consent_withdrawn(shop=event.shop, phone=lead.phone)
        ):
            return []
    payload = event_payload(event)
    made = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                shop=event.shop,
                endpoint=endpoint,
                event_id=event.id,
                event_type=event.type,
                subject=event.subject[:64],
                lead=lead,
                payload=payload,
                created_at=event.occurred_at,
                next_attempt_at=event.occurred_at,
            )
            for endpoint in endpoints
        ]
    )
    for delivery in made:
        delivery_enqueue_on_commit(delivery.pk)
    return made


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` ping through the same delivery code as every event."""
    now = timezone.now()
    event_id = f"evt_{uuid.uuid4().hex}"
    delivery = WebhookDelivery.objects.create(
        shop=endpoint.shop,
        endpoint=endpoint,
        event_id=event_id,
        event_type=TEST_EVENT,
        subject=f"test:{event_id}",
        payload={
            "type": TEST_EVENT,
            "timestamp": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "data": {"shop": endpoint.shop.slug, "endpoint_id": endpoint.pk},
        },
        created_at=now,
        next_attempt_at=now,
    )
    delivery_enqueue_on_commit(delivery.pk)
    return delivery


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again (same `webhook-id`: a receiver that processed it will recognise it), with
    a fresh set of attempts. An open delivery is left alone: it is on its way already, and
    taking it from a worker mid-send would send it twice at once."""
    if delivery.is_open:
        return delivery
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.lease_until = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "lease_until"])
    delivery_enqueue_on_commit(delivery.pk)
    return delivery
