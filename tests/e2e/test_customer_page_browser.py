"""On a 390×844 phone the driver opens their own page from the SMS link the fake SMS.ru
received, sees both cars and their personal manager, taps «Отправить новые фото», finds the
form filled in, sends one photo, and the request lands on the same customer. The advisor sees
the customer card on a desktop and a tablet."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from leads.models import Lead, Status
from leads.services import lead_change_status
from sms.models import SmsSettings
from tests.customers.card_helpers import lead_of, make_customer
from tests.e2e.helpers import VIEWPORTS, staff_login
from tests.e2e.helpers import shot as _shot
from tests.e2e.test_photo_portal_browser import make_photo, wait_all_stored
from tests.factories import MembershipFactory
from tests.sms.fake_gateway import FakeGateway

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CARS = (
    {"make": "Kia", "model": "Rio", "year": 2017, "plate": "А123ВС77", "mileage_km": 84000},
    {"make": "Lada", "model": "Vesta", "year": 2021, "plate": "М777ОР199"},
)


@pytest.fixture
def customer(shop):
    shop.phone = "+7 495 123-45-67"
    shop.save()
    manager = MembershipFactory(shop=shop, user__first_name="Игорь", user__last_name="Петров")
    return make_customer(shop, cars=CARS, manager=manager, email="olga@example.ru")


@pytest.mark.timeout(180)
def test_driver_opens_the_page_from_the_sms_sends_new_photos_and_gets_the_link_again(
    phone_page, live_server, shop, customer, settings, tmp_path
):
    with FakeGateway("smsru") as fake:
        settings.SMSRU_BASE_URL = fake.base
        SmsSettings.objects.create(
            shop=shop, gateway="smsru", api_key="F2D79B58-A5A2", sender="AvtoServis", enabled=True
        )
        _from_the_sms_link_to_a_new_request(phone_page, live_server, shop, customer, fake, tmp_path)
        _the_link_again_by_phone(phone_page, live_server, shop, customer, fake)


def _from_the_sms_link_to_a_new_request(page, live_server, shop, customer, fake, tmp_path):
    lead = lead_of(customer, status=Status.OFFER_SENT)
    lead_change_status(lead=lead, status=Status.BOOKED, by=customer.manager)
    (sms,) = fake.sends()
    link = re.search(r"https?://\S+/c/\S+/", sms.form["msg"]).group(0)
    page.goto(live_server.url + urlsplit(link).path)

    main = page.locator("main")
    assert page.get_by_role("heading", name="Здравствуйте, Ольга Смирнова!").is_visible()
    assert main.get_by_text("Kia Rio, 2017").is_visible()
    assert main.get_by_text("Lada Vesta, 2021").is_visible()
    assert page.locator(".manager-name").inner_text() == "Игорь Петров"
    assert (
        page.get_by_role("link", name="Позвонить").get_attribute("href") == "tel:+7 495 123-45-67"
    )
    assert page.locator('[aria-current="step"]').get_attribute("data-step") == "booked"
    _shot(page, "driver-page-phone")

    page.get_by_role("link", name="Отправить новые фото").click()
    page.wait_for_url(re.compile(r"/photo/\?prefill="))
    page.wait_for_function("window.photoUploader !== undefined")
    assert "79161234567" not in page.url
    assert page.input_value("#id_customer_name") == "Ольга Смирнова"
    assert page.input_value("#id_phone") == "+7 916 123-45-67"
    assert page.input_value("#id_email") == "olga@example.ru"
    _shot(page, "photo-form-prefilled-phone")

    # Two cars: the shortcut on the page does not guess which one; the driver names it.
    page.fill("#id_vehicle_make", "Lada")
    page.fill("#id_vehicle_model", "Vesta")
    page.fill("#id_description", "Новая царапина на крыле")
    page.set_input_files("#id_photos", [make_photo(tmp_path / "IMG_0100.JPG", seed=100)])
    wait_all_stored(page, 1)
    page.check("#id_consent")
    page.click("#send-button")
    page.wait_for_url(re.compile(r"/photo/sent/"))

    new = Lead.objects.exclude(pk=lead.pk).get()
    assert new.customer_id == customer.pk
    assert new.photos.count() == 1


def _the_link_again_by_phone(page, live_server, shop, customer, fake):
    """The shop's page leads a returning driver to «Получить ссылку»; the code from the SMS
    opens their page."""
    page.goto(f"{live_server.url}/s/{shop.slug}/")
    page.get_by_role("link", name=re.compile("Откройте свою страницу")).click()
    page.wait_for_url(re.compile(r"/my/$"))
    page.fill("#id_phone", "12-34")
    page.get_by_role("button", name="Получить код").click()
    assert "Проверьте номер" in page.inner_text("main")
    assert page.input_value("#id_phone") == "12-34"
    _shot(page, "link-request-phone")
    page.fill("#id_phone", "8 916 123-45-67")
    page.get_by_role("button", name="Получить код").click()
    page.get_by_label("Код из SMS").wait_for()
    code = re.search(r"\b(\d{6})\b", fake.sends()[-1].form["msg"]).group(1)
    page.get_by_label("Код из SMS").fill(code)
    _shot(page, "link-code-phone")
    page.get_by_role("button", name="Открыть мою страницу").click()
    page.wait_for_url(re.compile(rf"/c/{customer.page_token}/$"))
    assert page.locator(".manager-name").inner_text() == "Игорь Петров"


@pytest.mark.timeout(120)
def test_advisor_sees_the_customer_card_on_desktop_and_tablet(browser, live_server, shop, customer):
    lead_of(customer, status=Status.WON)
    lead_of(customer, status=Status.IN_PROGRESS)
    for viewport in ("desktop", "tablet"):
        context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
        page = context.new_page()
        staff_login(page, live_server, customer.manager)
        if viewport == "desktop":  # found from the top bar by a plate typed in Latin
            page.fill('.staff-search input[name="q"]', "a123bc")
            page.press('.staff-search input[name="q"]', "Enter")
            page.wait_for_url(re.compile(r"/staff/search/"))
            page.locator(".search-customers").get_by_role("link", name="Ольга Смирнова").click()
        else:
            page.goto(f"{live_server.url}/staff/customers/{customer.pk}/")
        page.wait_for_url(re.compile(rf"/staff/customers/{customer.pk}/$"))
        main = page.locator("main")
        assert "+7 916 123-45-67" in main.inner_text()
        assert "2 обращения" in main.inner_text()
        assert "Персональный менеджер: Игорь Петров" in main.inner_text()
        _shot(page, f"customer-card-{viewport}")
        context.close()
