"""Campaign SMS go through the SMS app's outbox to the fake SMS.ru of tests/sms, which answers
from SMS.ru's documented examples (tests/sms/contracts/README.md, https://sms.ru/api/send)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Car, Customer, CustomerPhone
from tests.sms.conftest import smsru  # noqa: F401 - the fake gateway fixture


def make_customer(shop, *, phone="+79161234567", name="Иван Петров", consent=True, **fields):
    customer = Customer.objects.create(
        shop=shop,
        name=name,
        marketing_consent_at=timezone.now() - dt.timedelta(days=400) if consent else None,
        marketing_consent_source="заявка №1, фото; текст согласия на рекламу v1" if consent else "",
        **fields,
    )
    if phone:
        CustomerPhone.objects.create(shop=shop, customer=customer, phone=phone, is_primary=True)
    return customer


def make_car(customer, **fields):
    defaults = {"make": "Kia", "model": "Rio", "year": 2018}
    defaults.update(fields)
    return Car.objects.create(shop=customer.shop, customer=customer, **defaults)


@pytest.fixture
def customer(shop):
    c = make_customer(shop)
    make_car(c)
    return c
