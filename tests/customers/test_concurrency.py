"""Two requests from one new phone at the same moment make one customer: through the shop's
lock the leads take, and through the unique phone for a caller that takes no lock."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from autoservice.consent import consent_text_current
from customers.models import Car, Customer, CustomerPhone
from customers.services import customer_match_request
from leads.models import Lead
from leads.services import LeadInput, driver_request_submit
from tests.concurrency import restore_reference_data, run_together
from tests.factories import ShopFactory

PHONE = "+79165550011"


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_two_simultaneous_requests_from_one_new_phone_make_one_customer():
    restore_reference_data()
    shop = ShopFactory()

    def send(i: int) -> Lead:
        return driver_request_submit(
            shop=shop,
            channel="photo",
            contact=LeadInput(
                customer_name="Ирина", phone=PHONE, vehicle_make="Lada", vehicle_model="Vesta"
            ),
            consent_text=consent_text_current(shop),
            submission_key=uuid.uuid4(),
            upload_token=uuid.uuid4().hex,
            ip=f"203.0.113.{i + 1}",
            user_agent="Phone/1.0",
        ).lead

    leads = run_together(2, send)

    assert len({lead.pk for lead in leads}) == 2
    customer = Customer.objects.get(shop=shop)
    assert CustomerPhone.objects.get(shop=shop).customer == customer
    assert Car.objects.get(shop=shop).customer == customer
    assert set(Lead.objects.filter(shop=shop).values_list("customer_id", flat=True)) == {
        customer.pk
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_without_the_shop_lock_the_unique_phone_still_makes_one_customer():
    shop = ShopFactory()

    def match(_i: int) -> int:
        with transaction.atomic():
            return customer_match_request(shop=shop, phone=PHONE, name="Ирина").customer.pk

    ids = run_together(4, match)

    assert len(set(ids)) == 1
    assert Customer.objects.filter(shop=shop).count() == 1
    assert CustomerPhone.objects.filter(shop=shop).count() == 1
