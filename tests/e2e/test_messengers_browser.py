"""The manager connects the shop's Telegram bot in the browser (a wrong token is refused with
what was typed kept, «Проверить» names the bot); an advisor links their Telegram with the
one-time code from «Мои уведомления» and later sees that they blocked the bot."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from messengers.models import ChatLink, LinkCode, LinkState
from messengers.services import bots_poll
from tests.e2e.helpers import VIEWPORTS, staff_login
from tests.e2e.helpers import shot as _shot
from tests.factories import MembershipFactory
from tests.messengers.fake_bots import TELEGRAM_TOKEN, FakeBot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _login(browser, live_server, member, viewport):
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
    page = context.new_page()
    staff_login(page, live_server, member)
    return context, page


@pytest.mark.timeout(180)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_connects_telegram_and_advisor_links_a_chat(
    browser, live_server, shop, settings, viewport
):
    manager = MembershipFactory(shop=shop, role="manager")
    advisor = MembershipFactory(shop=shop, user__first_name="Иван", user__last_name="Сидоров")
    with FakeBot("telegram") as telegram:
        settings.TELEGRAM_API_BASE = telegram.base
        context, page = _login(browser, live_server, manager, viewport)
        page.goto(f"{live_server.url}/staff/settings/")
        page.get_by_role("link", name="Telegram и MAX").click()
        page.wait_for_url(re.compile(r"/staff/settings/messengers/$"))

        card = page.locator("#bot-telegram")
        card.get_by_label("Токен бота").fill("12345:short")
        card.get_by_label("Присылать уведомления сотрудникам").check()
        card.get_by_role("button", name="Сохранить").click()
        card = page.locator("#bot-telegram")
        assert "Это не токен Telegram-бота" in card.inner_text()
        assert card.get_by_label("Токен бота").input_value() == "12345:short"
        assert card.get_by_label("Присылать уведомления сотрудникам").is_checked()
        _shot(page, f"messengers-bad-token-{viewport}")

        card.get_by_label("Токен бота").fill(TELEGRAM_TOKEN)
        card.get_by_role("button", name="Сохранить").click()
        page.locator("#bot-telegram").get_by_role("button", name="Проверить").click()
        assert "бот на связи (shop_service_bot)" in page.inner_text("main")
        assert TELEGRAM_TOKEN not in page.content()
        _shot(page, f"messengers-settings-{viewport}")
        context.close()

        context, page = _login(browser, live_server, advisor, viewport)
        if viewport != "desktop":  # the menu is folded below Bootstrap's lg breakpoint
            page.get_by_role("button", name="Меню").click()
        page.get_by_title("Мои уведомления").click()
        page.wait_for_url(re.compile(r"/staff/profile/messengers/$"))
        page.locator("#link-telegram").get_by_role("button", name="Привязать Telegram").click()
        code = LinkCode.objects.get(membership=advisor).code
        shown = page.locator("#link-telegram [data-link-code]").inner_text()
        assert shown == code
        link = page.locator("#link-telegram").get_by_role("link", name="Открыть бота в Telegram")
        assert link.get_attribute("href") == f"https://t.me/shop_service_bot?start={code}"
        _shot(page, f"messengers-code-{viewport}")

        telegram.code = code
        assert bots_poll() == 1
        page.reload()
        card = page.locator("#link-telegram")
        assert "привязан" in card.inner_text() and "ivan_master" in card.inner_text()

        ChatLink.objects.filter(membership=advisor).update(
            state=LinkState.BROKEN, broken_at=timezone.now()
        )
        page.reload()
        assert "бот заблокирован в мессенджере" in page.locator("#link-telegram").inner_text()
        _shot(page, f"messengers-broken-{viewport}")
        context.close()
