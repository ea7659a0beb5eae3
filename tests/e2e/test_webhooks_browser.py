"""The manager adds a webhook endpoint at every viewport, copies the secret shown once, sends
a test event to a real receiver on loopback and reads the delivery log."""

from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import VIEWPORTS, staff_login
from tests.e2e.helpers import shot as _shot
from tests.factories import MembershipFactory
from tests.webhooks.docs import doc_verify
from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookEndpoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_adds_an_endpoint_and_sends_a_test_event(browser, live_server, shop, viewport):
    manager = MembershipFactory(shop=shop, role="manager")
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
    page = context.new_page()
    staff_login(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/settings/")
    page.get_by_role("link", name="Вебхуки").click()
    page.wait_for_url(re.compile(r"/staff/settings/webhooks/$"))

    # A mistake first: an address inside the server's network, refused in Russian.
    page.fill("input[name=url]", "http://10.1.2.3/hooks")
    page.fill("input[name=description]", "amoCRM")
    page.get_by_label("Новая заявка").check()
    page.get_by_role("button", name="Добавить адрес").click()
    assert "ведёт во внутреннюю сеть" in page.locator(".alert-danger").inner_text()
    assert page.input_value("input[name=description]") == "amoCRM"
    assert page.get_by_label("Новая заявка").is_checked()
    _shot(page, f"webhooks-refused-{viewport}")

    with Receiver() as receiver:
        page.fill("input[name=url]", receiver.url)
        page.get_by_label("Клиент принял предложение").check()
        page.get_by_role("button", name="Добавить адрес").click()
        secret = page.locator("#new-secret").inner_text()
        assert secret.startswith("whsec_")
        _shot(page, f"webhooks-added-{viewport}")
        endpoint = WebhookEndpoint.objects.get(shop=shop)
        assert endpoint.events == ["lead.created", "offer.accepted"]

        page.get_by_role("link", name="Открыть").click()
        page.get_by_role("button", name="Отправить проверку").click()
        page.wait_for_selector("text=Проверочное событие webhook.test отправлено")
        page.reload()
        assert "доставлено" in page.locator(".list-group").inner_text()
        got = receiver.received[0]
        assert doc_verify()(secret, got.headers, got.body)["type"] == "webhook.test"
        _shot(page, f"webhooks-log-{viewport}")
    context.close()
