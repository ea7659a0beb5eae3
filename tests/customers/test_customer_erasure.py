"""The retention run takes a customer only with the last of their requests; a customer with
a request still kept stays. (The subject's erasure: tests/autoservice/test_personal_data.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from autoservice import personal_data
from customers.models import Car, Customer, CustomerPhone
from leads.models import Channel, Lead, Status
from leads.services import LeadInput, lead_change_status, lead_create

pytestmark = pytest.mark.django_db


def _lost_long_ago(shop, manager, phone, plate):
    lead, _ = lead_create(
        shop=shop,
        channel=Channel.PHONE,
        data=LeadInput(customer_name="Фёдор", phone=phone, plate=plate, vehicle_make="Kia"),
    )
    lead_change_status(lead=lead, status=Status.LOST, by=manager, reason="Дорого")
    Lead.objects.filter(pk=lead.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=800)
    )
    return lead


def test_retention_erases_a_customer_with_their_last_request_only(shop, manager):
    gone = _lost_long_ago(shop, manager, "+79035550001", "Е001КХ77")
    stays = _lost_long_ago(shop, manager, "+79035550002", "Е002КХ77")
    lead_create(
        shop=shop, channel=Channel.PHONE, data=LeadInput(customer_name="Фёдор", phone=stays.phone)
    )

    act = personal_data.retention_run_shop(shop, now=timezone.now())

    counts = {row["category"]: row["count"] for row in act.categories}
    assert counts["customers"] == 1 and counts["customer_phones"] == 1
    assert counts["customer_cars"] == 1
    assert list(Customer.objects.filter(shop=shop)) == [stays.customer]
    assert not CustomerPhone.objects.filter(phone=gone.phone).exists()
    assert not Car.objects.filter(plate="Е001КХ77").exists()
    assert Car.objects.filter(plate="Е002КХ77").exists()
    gone.refresh_from_db()
    assert (gone.customer, gone.car, gone.phone) == (None, None, "")
