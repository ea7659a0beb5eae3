"""The manager sets a supplier's API options with a field each: Armtek's delivery address
(KUNNR_ZA) and pick-up (INCOTERMS), ABCP's online warehouses and batch search, the daily
request limit."""

from __future__ import annotations

from django.urls import reverse

from optima import services
from optima.models import Supplier

ARMTEK = {
    "action": "save",
    "name": "Армтек",
    "kind": "armtek",
    "base_url": "https://ws.armtek.ru/api",
    "login": "shop@example.ru",
    "secret": "pa55-word",
    "options": '{"VKORG": "4000", "KUNNR_RG": "43012345"}',
    "kunnr_za": " 43099999 ",
    "incoterms": "1",
    "daily_request_limit": "500",
    "discount_pct": "5",
    "cutoff_time": "15:00",
    "transit_days": "1",
    "timeout_s": "4",
    "is_active": "on",
    "discount-TOTAL_FORMS": "0",
    "discount-INITIAL_FORMS": "0",
}


def test_armtek_delivery_address_pickup_and_limit_are_kept_and_used(manager_client, shop):
    response = manager_client.post(reverse("optima:supplier_create"), ARMTEK)
    assert response.status_code == 302, response.content.decode()[:300]
    supplier = Supplier.objects.get(shop=shop)
    assert supplier.options == {
        "VKORG": "4000",
        "KUNNR_RG": "43012345",
        "KUNNR_ZA": "43099999",
        "INCOTERMS": "1",
        "daily_request_limit": 500,
    }
    credentials = services.supplier_credentials(supplier)
    assert (credentials["KUNNR_ZA"], credentials["INCOTERMS"]) == ("43099999", "1")
    assert services.supplier_daily_limit(supplier) == 500
    page = manager_client.get(reverse("optima:supplier_edit", args=[supplier.pk])).content.decode()
    assert 'value="43099999"' in page and 'value="500"' in page


def test_clearing_a_field_removes_its_option(manager_client, shop):
    manager_client.post(reverse("optima:supplier_create"), ARMTEK)
    supplier = Supplier.objects.get(shop=shop)
    data = {**ARMTEK, "secret": "", "kunnr_za": "", "incoterms": "", "daily_request_limit": ""}
    data["options"] = '{"VKORG": "4000", "KUNNR_RG": "43012345"}'
    response = manager_client.post(reverse("optima:supplier_edit", args=[supplier.pk]), data)
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.options == {"VKORG": "4000", "KUNNR_RG": "43012345"}
    assert services.supplier_daily_limit(supplier) == 1000  # Armtek's default again


def test_abcp_online_warehouses_are_on_unless_turned_off(manager_client, shop):
    form = manager_client.get(reverse("optima:supplier_create")).content.decode()
    assert (
        'name="use_online_stocks"' in form
        and "checked" in form.split('name="use_online_stocks"')[1].split(">")[0]
    )
    abcp = {
        **ARMTEK,
        "kind": "abcp",
        "base_url": "https://id1.public.api.abcp.ru",
        "options": "{}",
        "batch": "on",
    }
    assert manager_client.post(reverse("optima:supplier_create"), abcp).status_code == 302
    supplier = Supplier.objects.get(shop=shop)
    # Armtek's fields mean nothing to ABCP and are not kept; the unticked box is "off".
    assert supplier.options == {
        "use_online_stocks": False,
        "batch": True,
        "daily_request_limit": 500,
    }


def test_a_negative_limit_is_refused_in_russian_and_the_form_is_kept(manager_client, shop):
    response = manager_client.post(
        reverse("optima:supplier_create"), {**ARMTEK, "daily_request_limit": "-5"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Лимит — целое число от 0 (без лимита) до 1 000 000." in page
    assert "43099999" in page and 'value="Армтек"' in page
    assert not Supplier.objects.filter(shop=shop).exists()
