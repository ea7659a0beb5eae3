"""The manager connects an Autoeuro supplier (API key, delivery point, payer) and a shop on
Parts-Soft (site address, API key); a missing or mistyped setting is named in Russian and
nothing else the manager typed is lost."""

from __future__ import annotations

from django.urls import reverse

from optima import services
from optima.models import Supplier

COMMON = {
    "action": "save",
    "login": "",
    "options": "{}",
    "discount_pct": "5",
    "cutoff_time": "15:00",
    "transit_days": "1",
    "timeout_s": "4",
    "is_active": "on",
    "discount-TOTAL_FORMS": "0",
    "discount-INITIAL_FORMS": "0",
}
AUTOEURO = {
    **COMMON,
    "name": "Автоевро",
    "kind": "autoeuro",
    "base_url": "",
    "secret": "aeKey0123456789",
    "autoeuro_delivery_key": " dk-msk-17 ",
    "autoeuro_payer_key": "payer-3",
}
PARTSSOFT = {
    **COMMON,
    "name": "ЗапчастиПро",
    "kind": "partssoft",
    "base_url": "https://zapchasti-pro.example.ru",
    "secret": "ps-key-42",
    "partssoft_api_path": "/backend/price_items/api/v1/search",
}


def test_autoeuro_key_delivery_point_and_payer_are_kept_for_the_adapter(manager_client, shop):
    response = manager_client.post(reverse("optima:supplier_create"), AUTOEURO)
    assert response.status_code == 302, response.content.decode()[:300]
    supplier = Supplier.objects.get(shop=shop)
    assert supplier.options == {"delivery_key": "dk-msk-17", "payer_key": "payer-3"}
    assert supplier.secret == "aeKey0123456789"
    credentials = services.supplier_credentials(supplier)
    assert credentials["delivery_key"] == "dk-msk-17" and credentials["password"] == supplier.secret


def test_autoeuro_without_delivery_point_is_refused_and_keeps_the_rest(manager_client, shop):
    data = {**AUTOEURO, "autoeuro_delivery_key": ""}
    page = manager_client.post(reverse("optima:supplier_create"), data).content.decode()
    assert "укажите способ получения (delivery_key)" in page
    assert 'value="payer-3"' in page and 'value="Автоевро"' in page
    assert not Supplier.objects.filter(shop=shop).exists()


def test_autoeuro_key_typed_in_cyrillic_or_with_spaces_is_refused(manager_client, shop):
    for key in ("ключ123", "ae key 1"):
        page = manager_client.post(
            reverse("optima:supplier_create"), {**AUTOEURO, "secret": key}
        ).content.decode()
        assert "латинских букв и цифр без пробелов" in page
    assert not Supplier.objects.filter(shop=shop).exists()


def test_partssoft_needs_the_site_address_and_key(manager_client, shop):
    page = manager_client.post(
        reverse("optima:supplier_create"), {**PARTSSOFT, "base_url": "", "secret": ""}
    ).content.decode()
    assert "нужен адрес сайта поставщика" in page and "Укажите API-ключ" in page
    response = manager_client.post(reverse("optima:supplier_create"), PARTSSOFT)
    assert response.status_code == 302
    supplier = Supplier.objects.get(shop=shop)
    assert supplier.options == {"api_path": "/backend/price_items/api/v1/search"}


def test_options_of_another_kind_are_dropped(manager_client, shop):
    data = {**PARTSSOFT, "autoeuro_delivery_key": "dk", "autoeuro_payer_key": "p"}
    manager_client.post(reverse("optima:supplier_create"), data)
    supplier = Supplier.objects.get(shop=shop)
    assert "delivery_key" not in supplier.options and "payer_key" not in supplier.options


def test_editing_keeps_the_stored_key(manager_client, shop):
    manager_client.post(reverse("optima:supplier_create"), AUTOEURO)
    supplier = Supplier.objects.get(shop=shop)
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]), {**AUTOEURO, "secret": ""}
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.secret == "aeKey0123456789"
