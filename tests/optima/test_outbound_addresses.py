"""Supplier APIs and published price lists go through the outbound policy: an internal address
is refused when the manager saves it and, should one be in the database, when the server
would call it (an error state with a Russian message, never a 500)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from optima import services
from optima.demo_supplier import start_in_thread
from optima.models import PriceListRow, Search, Supplier
from tests.factories import SupplierFactory

CSV = "brand;number;name;price;qty;delivery_days\nSAT;ST-HN01-000;Бампер;6500;4;1\n".encode(
    "cp1251"
)


@pytest.fixture
def demo_supplier():
    handle = start_in_thread(seed=1, name="ABCP")
    yield handle
    handle.stop()


def test_a_supplier_on_an_internal_address_is_an_error_state(settings, shop, demo_supplier):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    supplier = SupplierFactory(
        shop=shop, kind="abcp", base_url=demo_supplier.url, login="demo", secret="demo"
    )
    result = services.supplier_ask(
        supplier=supplier,
        number=demo_supplier.catalogue.oem_numbers[0],
        deadline=time.monotonic() + 5,
    )
    assert result.state == "error"
    assert result.message.startswith("Поставщик недоступен: ")
    assert "внутреннюю сеть" in result.message and "127.0.0.1" in result.message
    assert result.offers == []


def test_the_demo_supplier_answers_through_the_allowed_hosts(settings, shop, demo_supplier):
    settings.DEBUG = False
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{demo_supplier.port}"]
    supplier = SupplierFactory(
        shop=shop, kind="abcp", base_url=demo_supplier.url, login="demo", secret="demo"
    )
    result = services.supplier_ask(
        supplier=supplier,
        number=demo_supplier.catalogue.oem_numbers[0],
        deadline=time.monotonic() + 5,
    )
    assert result.state == "answered" and result.offers


def test_a_search_with_a_supplier_on_a_metadata_address_ends_in_an_error_not_a_500(
    settings, advisor_client, shop, django_capture_on_commit_callbacks
):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    SupplierFactory(shop=shop, kind="abcp", base_url="http://169.254.169.254/latest")
    with django_capture_on_commit_callbacks(execute=True):
        response = advisor_client.post(
            reverse("optima:parts_search"), {"numbers": "86511-4L000"}, follow=True
        )
    assert response.status_code == 200
    answer = Search.objects.get(shop=shop).answers.get()
    assert answer.state == "error"
    assert "169.254.169.254" in answer.message and "внутреннюю сеть" in answer.message
    table = advisor_client.get(reverse("optima:parts_table", args=[answer.search_id]))
    assert table.status_code == 200 and "state-error" in table.content.decode()


FORM = {
    "name": "Автодеталь",
    "kind": "abcp",
    "base_url": "https://id1.public.api.abcp.ru",
    "login": "api@id1",
    "secret": "pa55-word",
    "options": "{}",
    "discount_pct": "5",
    "cutoff_time": "15:00",
    "transit_days": "1",
    "timeout_s": "4",
    "pricelist_url": "",
    "is_active": "on",
    "discount-TOTAL_FORMS": "0",
    "discount-INITIAL_FORMS": "0",
}


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("base_url", "http://127.0.0.1:6379/", "внутреннюю сеть"),
        ("base_url", "http://169.254.169.254/latest/meta-data/", "внутреннюю сеть"),
        ("base_url", "http://[::1]:8000/", "внутреннюю сеть"),
        ("base_url", "https://localhost/api", "внутреннюю сеть"),
        ("pricelist_url", "ftp://files.example.org/price.csv", "https://"),
        ("pricelist_url", "http://10.0.0.7/price.csv", "внутреннюю сеть"),
        ("pricelist_url", "http://prices.example.org/price.csv", "https://"),  # DEBUG off
    ],
)
def test_the_supplier_form_refuses_a_forbidden_address_and_keeps_what_was_typed(
    settings, manager_client, shop, field, value, says
):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.DEBUG = False
    response = manager_client.post(reverse("optima:supplier_create"), {**FORM, field: value})
    assert response.status_code == 400
    page = response.content.decode()
    assert says in page
    assert f'value="{value}"' in page
    assert not Supplier.objects.filter(shop=shop).exists()


def test_the_supplier_form_accepts_an_outside_address(settings, manager_client, shop):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.DEBUG = False
    response = manager_client.post(
        reverse("optima:supplier_create"),
        {**FORM, "pricelist_url": "https://prices.example.invalid/price.csv"},
    )
    assert response.status_code == 302
    assert Supplier.objects.get(shop=shop).pricelist_url == (
        "https://prices.example.invalid/price.csv"
    )


class _PriceHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits.append(self.path)
        if self.path == "/moved.csv":
            self.send_response(302)
            self.send_header("Location", self.server.inside)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(CSV)))
        self.end_headers()
        self.wfile.write(CSV)


@pytest.fixture
def price_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _PriceHandler)
    httpd.hits = []
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_the_scheduled_price_list_does_not_follow_a_redirect_inside(settings, shop, price_server):
    port = price_server.server_address[1]
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    price_server.inside = f"http://localhost:{port}/internal.csv"  # the same machine, by name
    supplier = SupplierFactory(
        shop=shop, kind="pricelist", base_url="", pricelist_url=f"{price_server.base}/moved.csv"
    )
    results = services.pricelists_refresh()
    assert results[supplier.pk].startswith("error: ")
    assert "внутреннюю сеть" in results[supplier.pk]
    assert price_server.hits == ["/moved.csv"]
    assert not PriceListRow.objects.filter(supplier=supplier).exists()


def test_the_scheduled_price_list_follows_an_allowed_redirect(settings, shop, price_server):
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{price_server.server_address[1]}"]
    price_server.inside = "/price.csv"
    supplier = SupplierFactory(
        shop=shop, kind="pricelist", base_url="", pricelist_url=f"{price_server.base}/moved.csv"
    )
    assert services.pricelists_refresh()[supplier.pk] == "1 rows, 0 skipped"
    assert price_server.hits == ["/moved.csv", "/price.csv"]


def test_a_price_list_on_an_internal_address_is_not_fetched(settings, shop, price_server):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    supplier = SupplierFactory(
        shop=shop, kind="pricelist", base_url="", pricelist_url=f"{price_server.base}/price.csv"
    )
    results = services.pricelists_refresh()
    assert "внутреннюю сеть" in results[supplier.pk]
    assert price_server.hits == []


def _admin_change_data(admin_client, supplier: Supplier) -> dict:
    """The admin's change form of the supplier as the browser would send it back."""
    page = admin_client.get(reverse("admin:optima_supplier_change", args=[supplier.pk]))
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = "" if value is None else field.prepare_value(value)
    data["is_active"] = "on" if supplier.is_active else ""
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


@pytest.mark.parametrize(
    "field,value",
    [("base_url", "http://127.0.0.1:6379/"), ("pricelist_url", "http://169.254.169.254/p.csv")],
)
def test_the_admin_refuses_an_internal_supplier_address(settings, admin_client, shop, field, value):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    supplier = SupplierFactory(shop=shop, base_url="https://api.supplier.example/")
    data = {**_admin_change_data(admin_client, supplier), field: value}

    response = admin_client.post(reverse("admin:optima_supplier_change", args=[supplier.pk]), data)

    assert response.status_code == 200
    assert "внутреннюю сеть" in response.content.decode()
    supplier.refresh_from_db()
    assert getattr(supplier, field) != value


def test_the_admin_moving_a_supplier_elsewhere_drops_its_secret(settings, admin_client, shop):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    supplier = SupplierFactory(
        shop=shop, base_url="https://api.supplier.example/", login="shop", secret="s3cret-key"
    )
    data = {
        **_admin_change_data(admin_client, supplier),
        "base_url": "https://api.other-supplier.example/",
    }

    response = admin_client.post(
        reverse("admin:optima_supplier_change", args=[supplier.pk]), data, follow=True
    )

    assert response.status_code == 200
    assert "сохранённый пароль удалён" in response.content.decode()
    supplier.refresh_from_db()
    assert supplier.base_url == "https://api.other-supplier.example/"
    assert supplier.secret == ""
