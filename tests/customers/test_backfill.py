"""The data migration that gives existing leads their customers and cars, run on rows made
the old way (leads without a customer)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Car, Customer, CustomerPhone
from leads.models import Lead
from tests.factories import LeadFactory, MembershipFactory, ShopFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("leads.migrations.0008_backfill_customers")


def _backfill():
    migration.backfill(django_apps, SimpleNamespace(connection=connection))


def test_old_leads_become_customers_by_phone_and_cars_by_plate_or_model(shop, other_shop):
    advisor = MembershipFactory(shop=shop)
    kw = {"shop": shop, "customer_name": "Павел"}
    a1 = LeadFactory(**kw, phone="+79160000001", vehicle_make="Kia", vehicle_model="Rio")
    a2 = LeadFactory(
        **kw,
        phone="+79160000001",
        vehicle_make="Kia",
        vehicle_model="Rio",
        plate="a001aa77",
        assignee=advisor,
    )
    a3 = LeadFactory(**kw, phone="+79160000001", vehicle_make="Lada", vehicle_model="Vesta")
    b1 = LeadFactory(shop=shop, phone="+79160000002", vehicle_make="", vehicle_model="")
    c1 = LeadFactory(shop=other_shop, phone="+79160000001", plate="А001АА77")
    broken = LeadFactory(shop=shop, phone="12345")
    erased = LeadFactory(shop=shop, phone="")

    _backfill()

    for lead in (a1, a2, a3, b1, c1, broken, erased):
        lead.refresh_from_db()
    assert a1.customer_id == a2.customer_id == a3.customer_id
    customer = a1.customer
    assert customer.shop == shop and customer.name == "Павел"
    assert customer.manager == advisor  # the advisor who took one of the requests
    assert list(customer.phones.values_list("phone", flat=True)) == ["+79160000001"]
    assert a1.car_id == a2.car_id != a3.car_id
    assert (a1.car.plate, a3.car.make) == ("А001АА77", "Lada")
    assert b1.customer is not None and b1.car is None
    assert c1.customer.shop == other_shop and c1.customer_id != customer.pk
    assert broken.customer is None and erased.customer is None
    assert Customer.objects.count() == 3
    assert customer.events.get().data == {"backfill": True, "leads": 3}

    # A second run adds nothing; a lead that arrived in between joins its customer.
    late = LeadFactory(shop=shop, phone="+79160000002", vehicle_make="Kia", vehicle_model="Rio")
    _backfill()
    late.refresh_from_db()
    assert late.customer_id == b1.customer_id
    assert Customer.objects.count() == 3
    assert CustomerPhone.objects.count() == 3
    assert Car.objects.filter(customer=b1.customer).count() == 1


def test_backfill_queries_do_not_grow_with_the_leads():
    shop = ShopFactory()
    for n in range(40):
        LeadFactory(shop=shop, phone=f"+7916{n % 20:07d}")
    with CaptureQueriesContext(connection) as queries:
        _backfill()
    assert Lead.objects.filter(customer__isnull=True).count() == 0
    assert len(queries) <= 12
