"""Deliveries: recorded in the event's transaction, sent after commit to a real receiver on
loopback, signed, retried with growing waits, in order per lead, switched off when the
receiver is gone for good (Standard Webhooks spec, "Deliverability and reliability" and
"Delivery success and failure")."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from autoservice.models import OutboxMessage
from autoservice.outbox import outbox_deliver_now
from leads.services import LeadInput, lead_assign, lead_create
from leads.withdrawal import Subject, consent_withdraw
from tests.webhooks.docs import doc_verify
from tests.webhooks.receiver import Receiver, always
from webhooks import delivery as webhook_delivery
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import (
    NOTIFY_DISABLED,
    delivery_resend,
    endpoint_create,
    endpoint_disable,
    endpoint_enable,
    endpoint_rotate_secret,
)

PHONE = "+79161234567"


def _lead(shop, name="Ива", phone=PHONE):
    lead, _created = lead_create(
        shop=shop, channel="phone", data=LeadInput(customer_name=name, phone=phone)
    )
    return lead


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def _ids(receiver) -> list[str]:
    return [got.headers["webhook-id"] for got in receiver.received]


def test_a_new_lead_reaches_the_receiver_once_signed_with_a_thin_payload(
    shop, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = _lead(shop)
    assert len(receiver.received) == 1
    got = receiver.received[0]
    event = doc_verify()(endpoint.raw_secret, got.headers, got.body)
    assert event["type"] == "lead.created"
    assert event["timestamp"].endswith("Z")
    assert event["data"]["lead_id"] == lead.pk
    assert event["data"]["url"].endswith(f"/api/v1/leads/{lead.pk}/")
    # Thin: no personal data travels in a webhook.
    assert "9161234567" not in got.body.decode() and "Ива" not in got.body.decode()
    assert got.headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_id == got.headers["webhook-id"]
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.response_excerpt) == (
        1,
        200,
        "ok",
    )


def test_nothing_is_recorded_for_a_change_that_rolled_back(shop, endpoint, receiver):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _lead(shop)
        raise RuntimeError("the change fails after the event")
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_only_the_chosen_events_of_enabled_endpoints_of_the_shop_are_recorded(
    shop, other_shop, receiver, advisor
):
    created_only, _ = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
    switched_off, _ = endpoint_create(shop=shop, url=receiver.url, events=["lead.assigned"])
    endpoint_disable(endpoint=switched_off, reason="test")
    foreign, _ = endpoint_create(shop=other_shop, url=receiver.url, events=["lead.created"])
    lead = _lead(shop)
    lead_assign(lead=lead, assignee=advisor, by=advisor)
    recorded = list(WebhookDelivery.objects.values_list("endpoint_id", "event_type"))
    assert recorded == [(created_only.pk, "lead.created")]


def test_a_failing_receiver_is_retried_with_growing_waits_then_switched_off_and_managers_told(
    shop, manager, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS_SECONDS = [5, 300, 1800]
    with Receiver(always(500, b'{"error": "CRM is down"}')) as receiver:
        endpoint, _secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
        delivery = WebhookDelivery.objects.get()
        waits = []
        for _attempt in range(3):
            delivery.refresh_from_db()
            assert delivery.status == DeliveryStatus.PENDING
            waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
            # Not due yet: nothing is sent early.
            assert webhook_delivery.delivery_attempt(delivery.pk) == "skipped"
            _make_due(delivery)
            outcome = webhook_delivery.delivery_attempt(delivery.pk)
        assert outcome == "failed"
        assert len(receiver.received) == 4
        assert len(set(_ids(receiver))) == 1  # the same webhook-id on every attempt
    for wait, planned in zip(waits, [5, 300, 1800], strict=True):
        assert planned * 0.9 <= wait <= planned * 1.1 + 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert (delivery.attempts, delivery.last_status_code) == (4, 500)
    assert delivery.response_excerpt == '{"error": "CRM is down"}'
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "4 попыток" in endpoint.disabled_reason
    # The managers hear of it by e-mail, through the outbox.
    message = OutboxMessage.objects.get(kind=NOTIFY_DISABLED)
    assert outbox_deliver_now(message.pk) == "sent"
    assert [m.to for m in mail.outbox] == [[manager.user.email]]
    assert endpoint.url in mail.outbox[0].body
    assert "отключ" in mail.outbox[0].subject


def test_the_default_schedule_retries_for_more_than_a_day(settings):
    from autoservice import settings as project_settings

    delays = project_settings.WEBHOOK_RETRY_DELAYS_SECONDS
    assert sum(delays) * 0.9 >= 24 * 3600
    assert delays == sorted(delays)  # never shorter than the wait before


def test_410_gone_switches_the_endpoint_off_at_once(
    shop, manager, django_capture_on_commit_callbacks
):
    with Receiver(always(410, b"gone")) as receiver:
        endpoint, _secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert OutboxMessage.objects.filter(kind=NOTIFY_DISABLED).count() == 1


def test_a_redirect_is_a_failure_not_followed(shop, django_capture_on_commit_callbacks):
    def redirect(_n, _got):
        return 301, b""

    with Receiver(redirect) as receiver:
        endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 301


def test_after_rotation_both_secrets_sign_for_a_day_then_only_the_new_one(
    shop, endpoint, receiver, django_capture_on_commit_callbacks
):
    old_secret = endpoint.raw_secret
    _endpoint, new_secret = endpoint_rotate_secret(endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        _lead(shop)
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    verify = doc_verify()
    # A receiver with either secret accepts it: it can switch without losing a delivery.
    assert verify(old_secret, got.headers, got.body) == verify(new_secret, got.headers, got.body)
    assert endpoint.previous_secret_expires_at - timezone.now() > dt.timedelta(hours=23)

    endpoint.previous_secret_expires_at = timezone.now() - dt.timedelta(seconds=1)
    endpoint.save()
    with django_capture_on_commit_callbacks(execute=True):
        _lead(shop, phone="+79160000001")
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    verify(new_secret, got.headers, got.body)
    with pytest.raises(ValueError):
        verify(old_secret, got.headers, got.body)


def test_one_leads_events_wait_for_the_earlier_one_and_other_leads_do_not(
    shop, advisor, django_capture_on_commit_callbacks
):
    # The receiver fails the very first request only.
    with Receiver(lambda n, _got: (500, b"busy") if n == 1 else (200, b"ok")) as receiver:
        endpoint, _secret = endpoint_create(
            shop=shop, url=receiver.url, events=["lead.created", "lead.assigned"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            first = _lead(shop)
        with django_capture_on_commit_callbacks(execute=True):
            lead_assign(lead=first, assignee=advisor, by=advisor)
        # The assignment waits behind the failed creation; beat does not pick it either.
        created, assigned = WebhookDelivery.objects.filter(lead=first).order_by("pk")
        assert len(receiver.received) == 1
        assigned.refresh_from_db()
        assert assigned.status == DeliveryStatus.PENDING and assigned.attempts == 0
        assert assigned.pk not in webhook_delivery.deliveries_due()
        # Another lead is not held up.
        with django_capture_on_commit_callbacks(execute=True):
            second = _lead(shop, phone="+79160000002")
        assert len(receiver.received) == 2
        # The retry of the first delivers it, and the waiting one follows at once.
        _make_due(created)
        assert webhook_delivery.delivery_attempt(created.pk) == "delivered"
        assert _ids(receiver) == [
            created.event_id,
            WebhookDelivery.objects.get(lead=second).event_id,
            created.event_id,
            assigned.event_id,
        ]
    assigned.refresh_from_db()
    assert assigned.status == DeliveryStatus.DELIVERED


def test_a_drivers_withdrawn_consent_stops_their_events(
    shop, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # recorded but not sent yet
    from autoservice.celery import app

    app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=False):
            lead = _lead(shop)
    finally:
        app.conf.task_always_eager = True
    delivery = WebhookDelivery.objects.get()
    consent_withdraw(subject=Subject(shop=shop, phone=lead.phone, name=lead.customer_name))
    assert webhook_delivery.delivery_attempt(delivery.pk) == "cancelled"
    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED


def test_an_internal_address_is_refused_by_the_outbound_policy_when_sending(
    shop, settings, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        settings.OUTBOUND_ALLOWED_HOSTS = []  # as in production
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
        assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "внутреннюю сеть" in delivery.last_error


def test_a_resend_goes_again_with_the_same_webhook_id(
    shop, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _lead(shop)
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery=delivery)
    assert _ids(receiver) == [delivery.event_id, delivery.event_id]
    first, second = (json.loads(got.body) for got in receiver.received)
    assert first == second  # the payload frozen when the event happened
    # A delivery still on its way (a worker holds it) is not taken from that worker.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING)
    delivery.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery=delivery)
    assert len(receiver.received) == 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING


def test_a_switched_off_endpoint_keeps_its_open_deliveries_until_switched_on(
    shop, receiver, django_capture_on_commit_callbacks
):
    endpoint, _secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
    with Receiver(always(503)) as down:
        endpoint.url = down.url
        endpoint.save()
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
    delivery = WebhookDelivery.objects.get()
    endpoint_disable(endpoint=endpoint, reason="на ремонте")
    _make_due(delivery)
    assert webhook_delivery.deliveries_due() == []
    endpoint.url = receiver.url
    endpoint.save()
    endpoint_enable(endpoint=endpoint)
    assert webhook_delivery.deliveries_dispatch() == 1  # eager: sent right here
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert _ids(receiver) == [delivery.event_id]


def test_a_receivers_retry_after_is_honoured_when_longer_than_the_schedule(
    shop, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS_SECONDS = [5, 300]

    with Receiver(lambda _n, _got: (429, b"slow down")) as receiver:
        endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        receiver.retry_after = "120"  # two minutes, more than the 5 s the schedule says
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
    delivery = WebhookDelivery.objects.get()
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 119 <= wait <= 125
    assert delivery.last_status_code == 429


def test_a_redirect_with_a_location_is_not_followed_and_says_what_to_fix(
    shop, django_capture_on_commit_callbacks
):
    with Receiver() as target, Receiver(lambda _n, _got: (308, b"")) as moved:
        moved.headers = {"Location": target.url}
        endpoint_create(shop=shop, url=moved.url, events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
        assert target.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "перенаправляет" in delivery.last_error


def test_old_finished_deliveries_are_pruned_open_ones_kept(shop, endpoint, settings):
    from webhooks.delivery import deliveries_prune

    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    old = timezone.now() - dt.timedelta(days=31)
    rows = {}
    for status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.PENDING):
        rows[status] = WebhookDelivery.objects.create(
            shop=shop,
            endpoint=endpoint,
            event_id=f"evt_old_{status}",
            event_type="lead.created",
            subject=f"lead:{status}",
            payload={},
            created_at=old,
            status=status,
        )
    fresh = WebhookDelivery.objects.create(
        shop=shop,
        endpoint=endpoint,
        event_id="evt_fresh",
        event_type="lead.created",
        subject="lead:fresh",
        payload={},
        status=DeliveryStatus.DELIVERED,
    )
    assert deliveries_prune() == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        rows[DeliveryStatus.PENDING].pk,
        fresh.pk,
    }


def test_a_receiver_slower_than_the_time_limit_is_a_failed_attempt(
    shop, settings, django_capture_on_commit_callbacks
):
    import threading

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    release = threading.Event()

    def slow(_n, _got):
        release.wait(5)
        return 200, b"too late"

    with Receiver(slow) as receiver:
        endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            _lead(shop)
        release.set()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "не ответил за 1 с" in delivery.last_error
