"""The reads the customer card and the search build on: scoped by the shop, a plate found in
either alphabet, a phone in any format, merged customers resolved to the one kept."""

from __future__ import annotations

import pytest

from customers.models import Customer
from customers.selectors import customer_get, customers_search
from customers.services import customers_merge
from leads.models import Channel
from leads.services import LeadInput, lead_create

pytestmark = pytest.mark.django_db


def _customer(shop, phone, name, **car):
    lead, _ = lead_create(
        shop=shop, channel=Channel.PHONE, data=LeadInput(customer_name=name, phone=phone, **car)
    )
    return lead.customer


def test_search_by_phone_name_plate_and_vin_stays_in_the_shop(shop, other_shop, advisor):
    mine = _customer(shop, "+79161234567", "Марина Лосева", plate="Х777ХХ77")
    mine.cars.update(vin="XTA21700080123456")
    _customer(other_shop, "+79161234567", "Марина Лосева", plate="Х777ХХ77")
    for q in ("+7 916 123-45-67", "89161234567", "1234567", "лосева", "x777xx", "X777XX77"):
        assert list(customers_search(shop, q)) == [mine], q
    assert list(customers_search(shop, "XTA2170008")) == [mine]
    assert list(customers_search(shop, "")) == []
    assert list(customers_search(shop, "12")) == []  # too short to read as a phone
    with pytest.raises(Customer.DoesNotExist):
        customer_get(shop=other_shop, pk=mine.pk)


def test_a_merged_customer_is_not_listed_and_opens_the_kept_one(shop, advisor):
    keep = _customer(shop, "+79161234567", "Марина")
    drop = _customer(shop, "+79261234567", "Марина Лосева")
    customers_merge(shop=shop, keep=keep, drop=drop, by=advisor)
    assert list(customers_search(shop, "Марина")) == [keep]
    assert list(customers_search(shop, "926 123")) == [keep]  # its phone moved
    assert customer_get(shop=shop, pk=drop.pk) == keep
