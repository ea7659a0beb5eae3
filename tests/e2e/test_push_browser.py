"""The live inbox in Chromium: the page is served by the Procfile's `events` process (uvicorn
serves the whole app, so the stream is on the page's own origin, as nginx arranges in
production); a driver's form sent to another process shows in the open inbox without a
reload, and a status change refreshes its row. With the stream unreachable the inbox polls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads import services
from tests.e2e.helpers import VIEWPORTS, shot
from tests.factories import LeadFactory, MembershipFactory, ShopFactory
from tests.realstack import Driver, _jpeg, free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(120),
]


def _signed_in(browser, client, membership, base_url: str, viewport: str):
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
    client.force_login(membership.user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}
    context.add_cookies([cookie])
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.mark.usefixtures("platform_consent_text")
def test_driver_lead_shows_in_open_inbox_without_reload(push_events, client, browser):
    advisor = MembershipFactory(shop=ShopFactory())
    old = LeadFactory(shop=advisor.shop, customer_name="Прежний Клиент")
    contexts = []
    try:
        pages = {}
        for viewport in ("desktop", "phone"):
            context, page = _signed_in(browser, client, advisor, push_events.url, viewport)
            contexts.append(context)
            page.goto(push_events.url + reverse("leads:inbox"))
            page.wait_for_selector("body[data-push=live]", timeout=10_000)
            page.evaluate("window.loadedOnce = true")  # gone if the page reloads
            pages[viewport] = page
        # The 10-second polling stands down while the stream is open: only push can bring it.
        sent = Driver(push_events, advisor.shop.slug, 7, _jpeg()).send()
        assert sent == 302, push_events.log()
        for viewport, page in pages.items():
            page.wait_for_selector("tr.lead-row:has-text('Водитель 7')", timeout=8_000)
            rows = page.locator("tr.lead-row")
            assert rows.count() == 2
            assert "Водитель 7" in rows.nth(0).inner_text()
            assert page.evaluate("window.loadedOnce") is True
            assert page.title().startswith("(2) ")  # both unread, in the tab's title
            shot(page, f"push-inbox-{viewport}")
        # A status change refreshes the row already on the page.
        services.lead_change_status(lead=old, status="in_progress", by=None)
        pages["desktop"].wait_for_selector(
            f"tr[data-lead-id='{old.pk}'] .badge.status-in_progress", timeout=8_000
        )
        # The lead page hears its own lead: status and timeline, no reload.
        page = pages["desktop"]
        page.goto(push_events.url + reverse("leads:lead_detail", args=[old.pk]))
        page.wait_for_selector("body[data-push=live]", timeout=10_000)
        page.evaluate("window.loadedOnce = true")
        services.lead_change_status(lead=old, status="lost", by=None, reason="Уехал к дилеру")
        page.wait_for_selector("#lead-status.status-lost", timeout=8_000)
        assert "Уехал к дилеру" in page.locator("#lead-timeline").inner_text()
        assert page.evaluate("window.loadedOnce") is True
        shot(page, "push-lead-desktop")
    finally:
        for context in contexts:
            context.close()


def test_inbox_polls_when_the_stream_cannot_connect(live_server, settings, client, browser):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # push on, but nothing answers
    settings.EVENTS_URL_PREFIX = f"http://127.0.0.1:{free_port()}/events/"
    advisor = MembershipFactory(shop=ShopFactory())
    context, page = _signed_in(browser, client, advisor, live_server.url, "desktop")
    try:
        page.goto(live_server.url + reverse("leads:inbox"))
        page.wait_for_selector("body[data-push=polling]", timeout=10_000)
        LeadFactory(shop=advisor.shop, customer_name="Через Опрос")
        page.wait_for_selector("tr.lead-row:has-text('Через Опрос')", timeout=15_000)
    finally:
        context.close()
