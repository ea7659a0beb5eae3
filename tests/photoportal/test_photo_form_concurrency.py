"""Several sends of one photo form arriving at once (a double tap on a slow connection, the
browser retrying): one lead, its photo once, and never a server error."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from autoservice.models import ConsentRecord, OutboxMessage
from leads.models import Lead
from tests.concurrency import restore_reference_data, run_together
from tests.factories import ShopFactory
from tests.photos import jpeg_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def test_eight_simultaneous_sends_of_one_photo_form_make_one_lead():
    restore_reference_data()
    shop = ShopFactory(notification_emails="master@example.ru")
    url = reverse("photoportal:photo_form", args=[shop.slug])
    page = Client().get(url).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    photo = jpeg_bytes((640, 480))
    fields = {
        "form_token": token,
        "description": "Задел столб, вмятина на задней двери",
        "vehicle_make": "Hyundai",
        "vehicle_model": "Solaris",
        "customer_name": "Иван",
        "phone": "8 (912) 345-67-89",
        "preferred_contact": "call",
        "consent": "on",
    }

    def tap(_index: int):
        data = {**fields, "photos": [SimpleUploadedFile("door.jpg", photo, "image/jpeg")]}
        response = Client(raise_request_exception=False).post(url, data)
        return response.status_code, response.get("Location")

    answers = run_together(8, tap)

    assert all(status < 500 for status, _location in answers), answers
    lead = Lead.objects.get(shop=shop)
    sent = reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token])
    assert answers == [(302, sent)] * 8
    assert lead.photos.count() == 1  # each send carried the file; the lead has it once
    assert ConsentRecord.objects.filter(shop=shop).count() == 1
    assert OutboxMessage.objects.filter(shop=shop).count() == 1
