"""The advertising consent is its own unticked checkbox on the driver's forms, recorded on the
customer (or by phone until there is one); the SMS guard reads that one truth."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, CustomerEvent
from sms import services as sms_services
from sms.models import MarketingConsent
from tests.campaigns.conftest import make_customer
from tests.photos import jpeg_bytes

PHONE = "+79123456789"


def _post_photo_form(client, shop, **extra):
    url = reverse("photoportal:photo_form", args=[shop.slug])
    html = client.get(url).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    data = {
        "form_token": token,
        "description": "Вмятина на двери",
        "vehicle_make": "Kia",
        "vehicle_model": "Rio",
        "customer_name": "Иван",
        "phone": "8 (912) 345-67-89",
        "preferred_contact": "call",
        "consent": "on",
        "photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")],
        **extra,
    }
    return html, client.post(url, data, REMOTE_ADDR="10.9.8.7")


def test_the_photo_form_shows_a_separate_unticked_advertising_checkbox(client, shop):
    html = client.get(reverse("photoportal:photo_form", args=[shop.slug])).content.decode()
    box = re.search(r'<input[^>]*name="marketing_consent"[^>]*>', html).group(0)
    assert 'type="checkbox"' in box and "checked" not in box and "required" not in box
    assert "Согласен получать рекламные сообщения" in html
    # A different field from the processing consent, which stays required.
    assert re.search(r'<input[^>]*name="consent"[^>]*required', html)


def test_ticked_consent_is_recorded_on_the_customer_with_the_text_version(
    client, shop, django_capture_on_commit_callbacks
):
    customer = make_customer(shop, phone=PHONE, consent=False)
    with django_capture_on_commit_callbacks(execute=True):
        _html, response = _post_photo_form(client, shop, marketing_consent="on")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.has_marketing_consent
    assert "v1" in customer.marketing_consent_source and "заявка №" in (
        customer.marketing_consent_source
    )
    assert CustomerEvent.objects.filter(customer=customer, kind="consent").exists()
    assert not MarketingConsent.objects.exists()
    assert sms_services.marketing_consent_given(shop=shop, phone=PHONE)


def test_an_unticked_box_records_nothing(client, shop):
    customer = make_customer(shop, phone=PHONE, consent=False)
    _html, response = _post_photo_form(client, shop)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.marketing_consent_at is None
    assert not MarketingConsent.objects.exists()
    assert not sms_services.marketing_consent_given(shop=shop, phone=PHONE)


def test_without_a_customer_the_consent_is_kept_by_phone(client, shop):
    _html, response = _post_photo_form(client, shop, marketing_consent="on")
    assert response.status_code == 302
    if Customer.objects.filter(shop=shop, phones__phone=PHONE).exists():
        # The request made the customer already (customer matching): recorded there.
        assert Customer.objects.get(shop=shop, phones__phone=PHONE).has_marketing_consent
    else:
        record = MarketingConsent.objects.get(shop=shop, phone=PHONE)
        assert record.withdrawn_at is None and "v1" in record.source
    assert sms_services.marketing_consent_given(shop=shop, phone=PHONE)


def test_a_withdrawal_on_the_customer_beats_an_older_consent_by_phone(shop):
    MarketingConsent.objects.create(
        shop=shop, phone=PHONE, given_at=timezone.now() - timezone.timedelta(days=5)
    )
    assert sms_services.marketing_consent_given(shop=shop, phone=PHONE)
    customer = make_customer(shop, phone=PHONE)
    customer.marketing_withdrawn_at = timezone.now()
    customer.save()
    assert not sms_services.marketing_consent_given(shop=shop, phone=PHONE)
    with pytest.raises(sms_services.MarketingConsentMissing):
        sms_services.sms_send(
            shop=shop,
            phone=PHONE,
            text="Акция",
            purpose="marketing",
            dedupe_key="t-1",
            marketing=True,
        )


def test_the_calculator_request_records_the_advertising_consent_too(client, shop):
    from smartcalc.models import Generation
    from tests.smartcalc.test_calc_views import DAMAGES, _contact, _url

    solaris = Generation.objects.select_related("model").get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )
    step = client.post(_url("smartcalc:calc_send", shop, solaris), DAMAGES).content.decode()
    box = re.search(r'<input[^>]*name="marketing_consent"[^>]*>', step)
    assert box and "checked" not in box.group(0)
    customer = make_customer(shop, phone="+79161112233", consent=False)
    contact = _contact(client, shop, solaris, marketing_consent="on")
    response = client.post(
        _url("smartcalc:calc_send", shop, solaris), contact, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.has_marketing_consent
    assert "калькулятор" in customer.marketing_consent_source
