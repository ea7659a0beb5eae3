"""A manager builds a campaign in the browser (filter → count and preview → confirm), the
driver opens the link from the SMS on a phone, asks for the free diagnosis with one tap and
can unsubscribe with one more; the manager then sees the request in the campaign's figures.
SMS go to the fake SMS.ru answering from its documented examples
(tests/sms/contracts/README.md, https://sms.ru/api/send)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from campaigns.models import CampaignResponse
from customers.models import Customer
from sms.models import SmsSettings
from tests.campaigns.conftest import make_car, make_customer
from tests.e2e.conftest import PHONE
from tests.e2e.helpers import VIEWPORTS, staff_login
from tests.e2e.helpers import shot as _shot
from tests.factories import MembershipFactory
from tests.sms.fake_gateway import FakeGateway

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.timeout(180)
def test_campaign_from_filter_to_a_counted_request(browser, live_server, shop, settings):
    settings.SITE_URL = live_server.url
    manager = MembershipFactory(shop=shop, role="manager")
    old = timezone.now() - dt.timedelta(days=300)
    driver = make_customer(shop, phone="+79161110001", name="Иван Петров", last_seen_at=old)
    make_car(driver, make="Kia", model="Rio")
    silent = make_customer(shop, phone="+79161110002", consent=False, last_seen_at=old)
    make_car(silent, make="Kia", model="Rio")

    with FakeGateway("smsru") as fake:
        settings.SMSRU_BASE_URL = fake.base
        SmsSettings.objects.create(
            shop=shop, gateway="smsru", api_key="F2D79B58-A5A2", sender="AvtoServis", enabled=True
        )
        desk = browser.new_context(viewport=VIEWPORTS["desktop"], locale="ru-RU")
        page = desk.new_page()
        staff_login(page, live_server, manager)
        page.goto(f"{live_server.url}/staff/campaigns/")
        page.get_by_role("link", name="Новая рассылка").click()
        page.get_by_label("Название").fill("Весенняя диагностика")
        page.get_by_label("Марка").fill("Kia")
        page.get_by_label("Не были у нас, месяцев").fill("6")
        page.get_by_role("button", name="Показать, кто получит").click()
        assert "Получит 1 клиент" in page.inner_text("#preview")
        assert "Иван" in page.inner_text("#preview-text")
        _shot(page, "campaign-preview-desktop")
        assert not fake.sends()
        page.get_by_role("button", name="Отправить 1 клиенту").click()
        assert "Рассылка отправлена: 1 сообщений." in page.inner_text("main")
        (sent,) = fake.sends()
        assert sent.form["to"] == "79161110001"
        link = re.search(r"http\S+/m/[\w-]+/(?=\s)", sent.form["msg"]).group(0)

        phone = browser.new_context(**PHONE)
        driver_page = phone.new_page()
        driver_page.goto(link)
        _shot(driver_page, "campaign-landing-phone")
        driver_page.get_by_role("button", name="Записаться на бесплатную диагностику").click()
        done = driver_page.inner_text("#landing-done")
        response = CampaignResponse.objects.get()
        assert f"Заявка №{response.lead.number} принята" in done
        _shot(driver_page, "campaign-landing-done-phone")
        driver_page.get_by_role("link", name="Не присылать мне рекламные сообщения").click()
        assert "Вы отписались от рекламных сообщений" in driver_page.inner_text("main")
        _shot(driver_page, "campaign-unsubscribed-phone")
        assert not Customer.objects.get(pk=driver.pk).has_marketing_consent

        wide = browser.new_context(viewport=VIEWPORTS["desktop"], locale="ru-RU")
        wide_page = wide.new_page()
        wide_page.goto(link)
        _shot(wide_page, "campaign-landing-desktop")

        page.reload()
        assert page.inner_text("#fig-leads") == "1"
        _shot(page, "campaign-results-desktop")
        page.goto(f"{live_server.url}/staff/analytics/campaigns/")
        row = page.locator("#campaign-figures tr", has_text="Весенняя диагностика")
        assert row.locator("td").nth(4).inner_text() == "1"
        _shot(page, "campaign-analytics-desktop")
        for name in ("phone", "tablet"):
            page.set_viewport_size(VIEWPORTS[name])
            page.goto(f"{live_server.url}/staff/campaigns/")
            _shot(page, f"campaign-list-{name}")
            page.goto(f"{live_server.url}/staff/campaigns/rules/new/?kind=mileage")
            assert "40 км в день" in page.inner_text("main")
            # Only the chosen kind's settings are shown.
            assert page.get_by_label("Каждые, км").is_visible()
            assert not page.get_by_label("Весной (ДД.ММ)").is_visible()
            _shot(page, f"campaign-rule-{name}")

        # The request form's own, unticked advertising consent, on the driver's phone.
        driver_page.goto(f"{live_server.url}/s/{shop.slug}/photo/")
        box = driver_page.get_by_label("Согласен получать рекламные сообщения", exact=False)
        assert not box.is_checked()
        box.scroll_into_view_if_needed()
        _shot(driver_page, "photo-form-marketing-consent-phone")
        for context in (desk, phone, wide):
            context.close()
