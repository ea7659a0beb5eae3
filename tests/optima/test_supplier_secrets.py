"""A supplier's password or key: encrypted in its column, masked on pages, plain for the
adapters, and never sent to a new API address (or with a new login) without being entered
again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from optima import services
from optima.models import Supplier
from tests.factories import SupplierFactory

ADDRESS = "https://id1.public.api.abcp.ru"
NEW_ADDRESS = "https://id2.public.api.abcp.ru"
REENTER = "Введите пароль ещё раз: адрес изменился, старый пароль туда не отправляется."


def _raw_secret(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM optima_supplier WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _form(supplier: Supplier, **changes: str) -> dict[str, str]:
    return {
        "name": supplier.name,
        "kind": supplier.kind,
        "base_url": supplier.base_url,
        "login": supplier.login,
        "secret": "",
        "options": "{}",
        "discount_pct": "5",
        "cutoff_time": "15:00",
        "transit_days": "1",
        "timeout_s": "4",
        "is_active": "on",
        "discount-TOTAL_FORMS": "0",
        "discount-INITIAL_FORMS": "0",
        **changes,
    }


def test_the_column_holds_a_token_not_the_password(manager_client, shop):
    response = manager_client.post(
        reverse("optima:supplier_create"),
        _form(
            Supplier(name="Автодеталь", kind="abcp", base_url=ADDRESS, login="api@id1"),
            secret="Plain-Pa55-word",
        ),
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get(shop=shop)
    raw = _raw_secret(supplier.pk)
    assert "Plain-Pa55-word" not in raw and "Pa55" not in raw
    assert raw.startswith("gAAAAA")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM optima_supplier WHERE secret LIKE %s", ["%Plain-Pa55-word%"]
        )
        assert cursor.fetchone()[0] == 0
    assert supplier.secret == "Plain-Pa55-word"


def test_an_empty_password_stays_empty(shop):
    supplier = SupplierFactory(shop=shop, kind="pricelist", base_url="", secret="")
    assert _raw_secret(supplier.pk) == ""
    assert Supplier.objects.get(pk=supplier.pk).secret == ""


def test_adapters_get_the_plain_password(shop):
    supplier = SupplierFactory(shop=shop, login="api@id7", secret="for-the-adapter")
    credentials = services.supplier_credentials(Supplier.objects.get(pk=supplier.pk))
    assert credentials["login"] == "api@id7" and credentials["password"] == "for-the-adapter"


def test_pages_show_the_password_masked(manager_client, shop):
    supplier = SupplierFactory(shop=shop, secret="masked-secret-42")
    token = _raw_secret(supplier.pk)
    for url in (
        reverse("optima:suppliers"),
        reverse("optima:supplier_edit", args=[supplier.pk]),
    ):
        page = manager_client.get(url).content.decode()
        assert "••••42" in page
        assert "masked-secret-42" not in page and token not in page


def test_changing_the_address_without_the_password_is_refused_and_keeps_the_input(
    manager_client, shop
):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="old-password")
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]),
        _form(supplier, base_url=NEW_ADDRESS, name="Новое имя", transit_days="3"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert REENTER in page
    assert NEW_ADDRESS in page and "Новое имя" in page
    assert "old-password" not in page
    supplier.refresh_from_db()
    assert supplier.base_url == ADDRESS and supplier.name != "Новое имя"
    assert supplier.secret == "old-password"


def test_changing_the_address_with_the_password_entered_again_is_saved(manager_client, shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="old-password")
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]),
        _form(supplier, base_url=NEW_ADDRESS, secret="old-password"),
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.base_url == NEW_ADDRESS and supplier.secret == "old-password"


def test_changing_the_login_without_the_password_is_refused(manager_client, shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, login="api@id1", secret="pw-1")
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]),
        _form(supplier, login="api@id9"),
    )
    assert response.status_code == 400
    assert "Введите пароль ещё раз: логин изменился" in response.content.decode()
    supplier.refresh_from_db()
    assert supplier.login == "api@id1" and supplier.secret == "pw-1"


def test_other_changes_keep_the_password_without_entering_it(manager_client, shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="kept-password")
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]),
        _form(supplier, name="Другое имя", discount_pct="9"),
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.name == "Другое имя" and supplier.secret == "kept-password"


def test_service_refuses_a_new_address_with_the_old_password(shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="old-password")
    loaded = Supplier.objects.get(pk=supplier.pk)
    loaded.base_url = NEW_ADDRESS  # the old password is still on the instance
    with pytest.raises(services.SupplierSecretRequired) as error:
        services.supplier_save(shop=shop, supplier=loaded)
    assert error.value.message == REENTER
    supplier.refresh_from_db()
    assert supplier.base_url == ADDRESS


def test_service_refuses_a_new_login_with_the_old_password(shop):
    supplier = SupplierFactory(shop=shop, login="api@id1", secret="old-password")
    loaded = Supplier.objects.get(pk=supplier.pk)
    loaded.login = "api@id9"
    with pytest.raises(services.SupplierSecretRequired):
        services.supplier_save(shop=shop, supplier=loaded)
    supplier.refresh_from_db()
    assert supplier.login == "api@id1"


def test_service_saves_a_new_address_with_the_password_entered(shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="old-password")
    loaded = Supplier.objects.get(pk=supplier.pk)
    loaded.base_url = NEW_ADDRESS
    services.supplier_save(shop=shop, supplier=loaded, secret="new-password")
    supplier.refresh_from_db()
    assert supplier.base_url == NEW_ADDRESS and supplier.secret == "new-password"


def test_service_keeps_the_stored_password_when_none_is_entered(shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="stored-password")
    loaded = Supplier.objects.get(pk=supplier.pk)
    loaded.name, loaded.secret = "Переименован", ""
    services.supplier_save(shop=shop, supplier=loaded)
    supplier.refresh_from_db()
    assert supplier.name == "Переименован" and supplier.secret == "stored-password"


def test_service_lets_the_address_be_cleared_without_the_password(shop):
    supplier = SupplierFactory(shop=shop, base_url=ADDRESS, secret="stored-password")
    loaded = Supplier.objects.get(pk=supplier.pk)
    loaded.kind, loaded.base_url = "pricelist", ""
    services.supplier_save(shop=shop, supplier=loaded)
    supplier.refresh_from_db()
    assert supplier.base_url == "" and supplier.secret == "stored-password"


def test_service_takes_the_password_of_a_new_supplier_from_it(shop):
    supplier = services.supplier_save(
        shop=shop,
        supplier=Supplier(name="Новый", kind="abcp", base_url=ADDRESS, secret="first-password"),
    )
    assert Supplier.objects.get(pk=supplier.pk).secret == "first-password"
    assert "first-password" not in _raw_secret(supplier.pk)
