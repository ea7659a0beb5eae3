"""The manager's webhook pages: add an endpoint (the secret shown once), bad addresses
refused in Russian with the input kept, rotation, a test ping to a real receiver, the
delivery log with a resend button; another shop's endpoint is a 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.webhooks.docs import doc_verify
from tests.webhooks.receiver import Receiver, always
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create

LIST = reverse("webhooks:endpoints")


def _page(endpoint) -> str:
    return reverse("webhooks:endpoint", kwargs={"endpoint_id": endpoint.pk})


def _secret_on(page: bytes) -> str | None:
    found = re.search(rb'id="new-secret"[^>]*>(whsec_[A-Za-z0-9+/=]+)<', page)
    return found.group(1).decode() if found else None


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(manager_client, shop, receiver):
    answer = manager_client.post(
        LIST,
        {
            "url": f"  {receiver.url}  ",
            "description": "amoCRM",
            "events": ["lead.created", "offer.accepted"],
        },
    )
    assert answer.status_code == 200
    secret = _secret_on(answer.content)
    assert secret is not None
    endpoint = WebhookEndpoint.objects.get(shop=shop)
    assert (endpoint.url, endpoint.events) == (receiver.url, ["lead.created", "offer.accepted"])
    assert endpoint.secret == secret
    assert secret.encode() not in manager_client.get(LIST).content
    assert secret.encode() not in manager_client.get(_page(endpoint)).content


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://crm.example.ru/hook", "Адрес должен начинаться с https://"),
        ("http://10.0.0.5/hook", "ведёт во внутреннюю сеть"),
        ("http://[::1]:9/hook", "ведёт во внутреннюю сеть"),
        ("", "Укажите адрес"),
    ],
)
def test_a_bad_or_internal_address_is_refused_in_russian_and_the_form_keeps_the_input(
    manager_client, settings, url, message
):
    settings.OUTBOUND_ALLOWED_HOSTS = []  # as in production
    answer = manager_client.post(
        LIST, {"url": url, "description": "1С: склад", "events": ["lead.created", "intake.sealed"]}
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert message in page
    assert 'value="1С: склад"' in page
    assert re.search(r'value="intake.sealed"[^>]*checked', page)
    if url:
        assert f'value="{url}"' in page
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_needs_at_least_one_event(manager_client, receiver):
    answer = manager_client.post(LIST, {"url": receiver.url})
    assert "Отметьте хотя бы одно событие" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_advisor_cannot_open_the_webhooks(advisor_client, shop):
    endpoint, _secret = endpoint_create(shop=shop, url="https://crm.example.ru/h", events=[])
    assert advisor_client.get(LIST).status_code == 403
    assert advisor_client.post(_page(endpoint), {"action": "rotate"}).status_code == 403


def test_another_shops_endpoint_and_delivery_are_404(manager_client, other_shop, shop, receiver):
    foreign, _secret = endpoint_create(shop=other_shop, url=receiver.url, events=["lead.created"])
    assert manager_client.get(_page(foreign)).status_code == 404
    assert manager_client.post(_page(foreign), {"action": "test"}).status_code == 404
    assert receiver.received == []
    # Resending another endpoint's delivery through one's own endpoint page is a 404 too.
    own, _secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
    with Receiver() as other_receiver:
        foreign.url = other_receiver.url
        foreign.save()
        from webhooks.services import endpoint_send_test

        delivery = endpoint_send_test(endpoint=foreign)
        answer = manager_client.post(_page(own), {"action": "resend", "delivery": delivery.pk})
        assert answer.status_code == 404


def test_edit_keeps_the_input_when_the_address_is_bad(manager_client, shop, settings):
    endpoint, _secret = endpoint_create(
        shop=shop, url="https://crm.example.ru/h", events=["lead.created"]
    )
    settings.OUTBOUND_ALLOWED_HOSTS = []
    answer = manager_client.post(
        _page(endpoint),
        {"action": "save", "url": "http://192.168.1.10/h", "events": ["offer.sent"]},
    )
    page = answer.content.decode()
    assert "ведёт во внутреннюю сеть" in page and 'value="http://192.168.1.10/h"' in page
    endpoint.refresh_from_db()
    assert endpoint.url == "https://crm.example.ru/h"


def test_rotation_shows_the_new_secret_once_and_deliveries_carry_both(
    manager_client, shop, receiver, django_capture_on_commit_callbacks
):
    endpoint, old_secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
    answer = manager_client.post(_page(endpoint), {"action": "rotate"})
    new_secret = _secret_on(answer.content)
    assert new_secret and new_secret != old_secret
    assert "Прежний секрет тоже подписывает" in answer.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(_page(endpoint), {"action": "test"})
    got = receiver.received[-1]
    verify = doc_verify()
    assert verify(old_secret, got.headers, got.body)["type"] == "webhook.test"
    assert verify(new_secret, got.headers, got.body)["type"] == "webhook.test"


def test_the_delivery_log_shows_the_answer_and_resends(
    manager_client, shop, django_capture_on_commit_callbacks
):
    with Receiver(always(500, "Ошибка CRM: очередь переполнена".encode())) as receiver:
        endpoint, _secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            manager_client.post(_page(endpoint), {"action": "test"})
        page = manager_client.get(_page(endpoint)).content.decode()
        assert "Ошибка CRM: очередь переполнена" in page
        assert "ожидает отправки" in page and "500" in page
        delivery = WebhookDelivery.objects.get()
        delivery.status = DeliveryStatus.FAILED
        delivery.save()
        receiver.answer = always(200, b"accepted")
        with django_capture_on_commit_callbacks(execute=True):
            manager_client.post(_page(endpoint), {"action": "resend", "delivery": delivery.pk})
        assert [got.headers["webhook-id"] for got in receiver.received] == [delivery.event_id] * 2
    page = manager_client.get(_page(endpoint)).content.decode()
    assert "доставлено" in page and "accepted" in page


def test_switching_off_and_on(manager_client, shop):
    endpoint, _secret = endpoint_create(
        shop=shop, url="https://crm.example.ru/h", events=["lead.created"]
    )
    page = manager_client.post(_page(endpoint), {"action": "disable"}, follow=True)
    assert "Отключён руководителем" in page.content.decode()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    manager_client.post(_page(endpoint), {"action": "enable"})
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == ""


def test_the_settings_page_links_to_the_webhooks(manager_client):
    assert LIST in manager_client.get(reverse("autoservice:shop_settings")).content.decode()


def test_the_delivery_log_costs_the_same_queries_for_3_or_60_deliveries(
    manager_client, shop, django_assert_max_num_queries
):
    endpoint, _secret = endpoint_create(
        shop=shop, url="https://crm.example.ru/h", events=["lead.created"]
    )

    def add(count: int) -> None:
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                shop=shop,
                endpoint=endpoint,
                event_id=f"evt_{endpoint.pk}_{WebhookDelivery.objects.count()}_{n}",
                event_type="lead.created",
                subject=f"lead:{n}",
                payload={},
            )
            for n in range(count)
        )

    add(3)
    manager_client.get(_page(endpoint))  # warm: session, shop
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert manager_client.get(_page(endpoint)).status_code == 200
    add(57)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager_client.get(_page(endpoint))
    assert page.content.decode().count("evt_") >= 60


def test_the_platform_admin_sees_endpoints_and_deliveries_but_never_a_secret(
    admin_client, shop, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = endpoint_create(shop=shop, url=receiver.url, events=["lead.created"])
    from webhooks.services import endpoint_send_test

    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_send_test(endpoint=endpoint)
    pages = [
        reverse("admin:webhooks_webhookendpoint_changelist"),
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:webhooks_webhookdelivery_changelist"),
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]),
    ]
    for url in pages:
        answer = admin_client.get(url)
        assert answer.status_code == 200, url
        assert secret.encode() not in answer.content
        assert secret.removeprefix("whsec_").encode() not in answer.content
