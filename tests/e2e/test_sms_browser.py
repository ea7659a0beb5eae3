"""The manager sets up SMS in the browser: a sender name in Cyrillic is refused with what was
typed kept, the saved key is not shown back, a test SMS with an empty balance says so in
Russian, and after a top-up the test SMS is accepted."""

from __future__ import annotations

import re

import pytest

from sms.models import SmsSettings
from tests.e2e.helpers import VIEWPORTS, staff_login
from tests.e2e.helpers import shot as _shot
from tests.factories import MembershipFactory
from tests.sms.fake_gateway import FakeGateway

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

KEY = "F2D79B58-A5A2-2F9E-91C8-73D12CE2E102"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_sets_up_sms(browser, live_server, shop, settings, viewport):
    manager = MembershipFactory(shop=shop, role="manager")
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
    page = context.new_page()
    staff_login(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/settings/")
    page.get_by_role("link", name="SMS клиентам").click()
    page.wait_for_url(re.compile(r"/staff/settings/sms/$"))

    with FakeGateway("smsru", mode="low_balance") as fake:
        settings.SMSRU_BASE_URL = fake.base
        page.get_by_label("API-ключ SMS.ru (api_id)").fill(KEY)
        page.get_by_label("Имя отправителя").fill("Автосервис")
        page.get_by_label("Стоимость одного SMS, ₽").fill("4,50")
        page.get_by_label("Отправлять SMS клиентам").check()
        page.get_by_role("button", name="Сохранить").click()
        assert "Имя отправителя: от 2 до 11 латинских букв" in page.inner_text("main")
        assert page.get_by_label("Имя отправителя").input_value() == "Автосервис"
        assert page.get_by_label("Стоимость одного SMS, ₽").input_value() == "4,50"
        _shot(page, f"sms-bad-sender-{viewport}")

        page.get_by_label("Имя отправителя").fill("AvtoServis")
        page.get_by_role("button", name="Сохранить").click()
        assert "Настройки SMS сохранены." in page.inner_text("main")
        assert KEY not in page.content()
        assert SmsSettings.objects.get(shop=shop).api_key == KEY

        page.get_by_label("Номер для тестового SMS").fill("8 916 123-45-67")
        page.get_by_role("button", name="Отправить тестовое SMS").click()
        main = page.inner_text("main")
        assert "SMS не отправляются" in main
        assert "на счёте SMS.ru недостаточно средств — пополните баланс" in main
        _shot(page, f"sms-low-balance-{viewport}")

        fake.mode = "ok"
        page.get_by_label("Номер для тестового SMS").fill("+7 916 123-45-67")
        page.get_by_role("button", name="Отправить тестовое SMS").click()
        main = page.inner_text("main")
        assert "Тестовое SMS на +7 916 123-45-67 принято шлюзом." in main
        assert page.get_by_label("Стоимость одного SMS, ₽").input_value() == "4,50"
        assert "SMS не отправляются" not in main
        _shot(page, f"sms-settings-{viewport}")
    context.close()
