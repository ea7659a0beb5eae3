"""Several workers given the same delivery at once: exactly one sends it (the claim is one
UPDATE that PostgreSQL re-checks after a concurrent one commits)."""

from __future__ import annotations

import pytest

from tests.concurrency import run_together
from tests.factories import ShopFactory
from tests.webhooks.receiver import Receiver
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_workers_racing_for_one_delivery_send_it_once():
    shop = ShopFactory()
    with Receiver() as receiver:
        endpoint, _secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        # Recorded directly (not queued on commit): the workers below race for them.
        deliveries = [
            WebhookDelivery.objects.create(
                shop=shop,
                endpoint=endpoint,
                event_id=f"evt_race{number}",
                event_type="webhook.test",
                subject=f"test:race{number}",
                payload={"type": "webhook.test", "timestamp": "2026-11-30T08:00:00Z", "data": {}},
            )
            for number in range(5)
        ]
        for delivery in deliveries:
            outcomes = run_together(4, lambda _i, pk=delivery.pk: delivery_attempt(pk))
            assert sorted(outcomes) == ["delivered", "skipped", "skipped", "skipped"]
        assert len(receiver.received) == 5
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }
