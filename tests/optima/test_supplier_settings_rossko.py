"""The manager connects Rossko: KEY1 in the login, KEY2 as the secret, then «Загрузить
способы доставки» asks Rossko (GetCheckoutDetails, here the demo supplier's SOAP desk on
127.0.0.1) and the delivery type, address and payment become lists to choose from."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from optima import services
from optima.demo_supplier import start_in_thread
from optima.models import Supplier

ROSSKO = {
    "action": "save",
    "name": "Росско",
    "kind": "rossko",
    "base_url": "",
    "login": "demo",
    "secret": "demo",
    "options": "{}",
    "discount_pct": "0",
    "cutoff_time": "15:00",
    "transit_days": "0",
    "timeout_s": "4",
    "is_active": "on",
    "discount-TOTAL_FORMS": "0",
    "discount-INITIAL_FORMS": "0",
}


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def test_without_an_address_rossko_gets_its_public_api_address(manager_client, shop):
    response = manager_client.post(reverse("optima:supplier_create"), ROSSKO)
    assert response.status_code == 302, response.content.decode()[:500]
    supplier = Supplier.objects.get(shop=shop)
    assert supplier.base_url == "https://api.rossko.ru/service/v2.1"
    assert (supplier.login, supplier.secret) == ("demo", "demo")


def test_loading_delivery_settings_turns_them_into_choices_and_they_are_kept(manager_client, shop):
    with start_in_thread(seed=6) as demo:
        base_url = demo.url + "/service/v2.1"
        manager_client.post(reverse("optima:supplier_create"), {**ROSSKO, "base_url": base_url})
        supplier = Supplier.objects.get(shop=shop)
        url = reverse("optima:supplier_edit", args=[supplier.pk])
        page = manager_client.get(url).content.decode()
        assert "Загрузить способы доставки" in page

        response = manager_client.post(url, {"action": "rossko_details"}, follow=True)
    text = response.content.decode()
    assert "способов получения 2, адресов 1, способов оплаты 1" in text
    assert '<select name="rossko_delivery_id"' in text
    assert "Самовывоз со склада" in text and "Москва, Автозаводская, 23" in text

    supplier.refresh_from_db()
    assert "rossko_choices" in supplier.options
    assert "rossko_choices" not in text  # the options field shows only what is typed by hand
    data = {
        **ROSSKO,
        "base_url": base_url,
        "secret": "",
        "options": "{}",
        "rossko_delivery_id": "000000002",
        "rossko_address_id": "270997",
        "rossko_payment_id": "1",
        "rossko_contact_name": "Иван, приёмка",
        "rossko_contact_phone": "+7 495 123-45-67",
    }
    response = manager_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:500]
    supplier.refresh_from_db()
    credentials = services.supplier_credentials(supplier)
    assert (credentials["delivery_id"], credentials["address_id"]) == ("000000002", "270997")
    assert credentials["payment_id"] == "1" and credentials["contact_name"] == "Иван, приёмка"
    assert supplier.options["rossko_choices"]["addresses"][0][0] == "270997"  # still there


def test_an_address_rossko_does_not_deliver_to_that_way_is_refused_with_the_input_kept(
    manager_client, shop
):
    with start_in_thread(seed=6) as demo:
        base_url = demo.url + "/service/v2.1"
        manager_client.post(reverse("optima:supplier_create"), {**ROSSKO, "base_url": base_url})
        supplier = Supplier.objects.get(shop=shop)
        url = reverse("optima:supplier_edit", args=[supplier.pk])
        manager_client.post(url, {"action": "rossko_details"})
    supplier.refresh_from_db()
    data = {
        **ROSSKO,
        "base_url": base_url,
        "secret": "",
        "options": json.dumps(supplier.options, ensure_ascii=False),
        "rossko_delivery_id": "000000001",  # pick-up, not allowed with an address
        "rossko_address_id": "270997",
        "rossko_contact_name": "Иван, приёмка",
    }
    response = manager_client.post(url, data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "К этому адресу Росско так не доставляет" in text
    assert 'value="Иван, приёмка"' in text


def test_rejected_keys_when_loading_are_said_in_russian(manager_client, shop):
    with start_in_thread(seed=6) as demo:
        base_url = demo.url + "/service/v2.1"
        manager_client.post(
            reverse("optima:supplier_create"),
            {**ROSSKO, "base_url": base_url, "secret": "не тот ключ"},
        )
        supplier = Supplier.objects.get(shop=shop)
        url = reverse("optima:supplier_edit", args=[supplier.pk])
        response = manager_client.post(url, {"action": "rossko_details"}, follow=True)
    assert "Росско не принял ключи KEY1/KEY2" in response.content.decode()
    supplier.refresh_from_db()
    assert "rossko_choices" not in supplier.options
