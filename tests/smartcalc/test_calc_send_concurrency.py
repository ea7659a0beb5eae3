"""Several taps on «Отправить в сервис» arriving at once (a double tap, a retry after a
timeout, a flaky connection): one lead with one estimate, and never a server error."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from autoservice.models import ConsentRecord
from leads.models import Lead
from smartcalc.models import Estimate, Generation
from tests.concurrency import restore_reference_data, run_together
from tests.factories import ShopFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

DAMAGES = {
    "kind_door_front_left": "dent",
    "size_door_front_left": "2",
    "kind_bumper_front": "crack",
    "size_bumper_front": "1",
}


def test_eight_simultaneous_sends_of_one_calculator_form_make_one_lead():
    restore_reference_data(calculator=True)
    shop = ShopFactory(notification_emails="master@example.ru")
    solaris = Generation.objects.get(model__name="Solaris", popular=True)
    send = reverse("smartcalc:calc_send", args=[shop.slug, solaris.pk, "sedan"])
    step = Client().post(send, DAMAGES)
    token = re.search(r'name="form_token" value="([^"]+)"', step.content.decode()).group(1)
    contact = {
        **DAMAGES,
        "form_token": token,
        "customer_name": "Ирина",
        "phone": "+7 (916) 111-22-33",
        "preferred_contact": "call",
        "consent": "on",
    }

    def tap(_index: int):
        response = Client(raise_request_exception=False).post(send, contact)
        return response.status_code, response.get("Location")

    answers = run_together(8, tap)

    assert all(status < 500 for status, _location in answers), answers
    lead = Lead.objects.get(shop=shop)
    estimate = Estimate.objects.get(shop=shop)
    assert estimate.lead == lead
    assert ConsentRecord.objects.filter(shop=shop).count() == 1
    result_url = reverse("smartcalc:calc_result", args=[shop.slug, estimate.public_token])
    assert answers == [(302, result_url)] * 8
