"""The manager connects Bitrix24 and amoCRM in the browser: a bad address is refused with
what was typed kept, a test lead shows the CRM's answer, a refused token shows the error."""

from __future__ import annotations

import re

import pytest

from crm.models import CrmConnection, CrmState
from tests.crm.fake_crm import FakeCrm
from tests.e2e.helpers import shot as _shot
from tests.e2e.helpers import staff_login
from tests.factories import MembershipFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1440, "height": 900},
}
TOKEN = "amo-long-lived-token-0123456789"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_connects_both_crms(browser, live_server, shop, viewport):
    manager = MembershipFactory(shop=shop, role="manager")
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
    page = context.new_page()
    staff_login(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/settings/")
    page.get_by_role("link", name="Подключение CRM").click()
    page.wait_for_url(re.compile(r"/staff/settings/crm/$"))

    bitrix = page.locator("#crm-bitrix24")
    with FakeCrm("bitrix24") as b24, FakeCrm("amocrm", secret=TOKEN, mode="401") as amo:
        bad = "https://sto.bitrix24.ru/crm/lead/list/"
        bitrix.get_by_label("Адрес входящего вебхука").fill(bad)
        bitrix.get_by_label("Передавать заявки в Битрикс24").check()
        bitrix.get_by_role("button", name="Сохранить").click()
        bitrix = page.locator("#crm-bitrix24")
        assert "Это не адрес входящего вебхука Битрикс24" in bitrix.inner_text()
        assert bitrix.get_by_label("Адрес входящего вебхука").input_value() == bad
        _shot(page, f"crm-bad-address-{viewport}")

        bitrix.get_by_label("Адрес входящего вебхука").fill(b24.webhook_url())
        bitrix.get_by_role("button", name="Сохранить").click()
        page.locator("#crm-bitrix24").get_by_role(
            "button", name="Отправить тестовую заявку"
        ).click()
        assert "Битрикс24 принял тестовую заявку: номер 3465" in page.inner_text("main")

        amocrm = page.locator("#crm-amocrm")
        amocrm.get_by_label("Адрес аккаунта amoCRM").fill(amo.base)
        amocrm.get_by_label("Долгосрочный токен").fill(TOKEN)
        amocrm.get_by_role("button", name="Сохранить").click()
        page.locator("#crm-amocrm").get_by_role("button", name="Проверить").click()
        amocrm = page.locator("#crm-amocrm")
        assert "Заявки не передаются" in amocrm.inner_text()
        assert "amoCRM отклонил токен (401" in amocrm.inner_text()
        _shot(page, f"crm-settings-{viewport}")

        amo.mode = "ok"
        amocrm.get_by_role("button", name="Проверить").click()
        page.locator("#crm-amocrm").get_by_label("Воронка и этап для новых заявок").select_option(
            "3177727:32392159"
        )
        page.locator("#crm-amocrm").get_by_label("Передавать заявки в amoCRM").check()
        page.locator("#crm-amocrm").get_by_role("button", name="Сохранить").click()
        assert "Настройки amoCRM сохранены" in page.inner_text("main")
        _shot(page, f"crm-connected-{viewport}")

    connections = {c.kind: c for c in CrmConnection.objects.filter(shop=shop)}
    assert connections["bitrix24"].state == CrmState.OK and connections["bitrix24"].enabled
    assert connections["amocrm"].state == CrmState.OK and connections["amocrm"].status_id

    # Later amoCRM refuses the token: every staff page tells the manager, with a way to fix it.
    CrmConnection.objects.filter(pk=connections["amocrm"].pk).update(
        state=CrmState.ERROR, error_message="amoCRM отклонил токен (401)"
    )
    page.goto(f"{live_server.url}/staff/leads/")
    banner = page.locator("#crm-broken")
    assert "amoCRM не принимает заявки" in banner.inner_text()
    _shot(page, f"crm-banner-{viewport}")
    banner.get_by_role("link", name="Исправить подключение").click()
    page.wait_for_url(re.compile(r"/staff/settings/crm/$"))
    context.close()
