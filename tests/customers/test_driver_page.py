"""The driver's own page by private link: their cars, where their request stands, their
estimates, offers and acts (links to the pages they already have), the personal manager
with call and write buttons, and «Отправить новые фото» that fills in the photo form through
a signed, expiring key. Not indexed, no referrer; an unknown, withdrawn or erased link is a
404; a merged duplicate's link leads to the surviving page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from autoservice.consent import consent_record_make, consent_text_current
from booking.models import Booking
from customers.links import PREFILL_SALT, prefill_token
from customers.models import CustomerPhone
from leads.models import Lead, Status
from tests.customers.card_helpers import lead_of, make_customer
from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    MembershipFactory,
    OfferVersionFactory,
)

pytestmark = pytest.mark.django_db

TWO_CARS = (
    {"make": "Kia", "model": "Rio", "year": 2017, "plate": "А123ВС77"},
    {"make": "Lada", "model": "Vesta", "year": 2021, "plate": "М777ОР199", "mileage_km": 42000},
)


def _page(client, customer):
    return client.get(reverse("customers:driver_page", args=[customer.page_token]))


def test_page_shows_cars_request_status_history_and_manager(client, shop):
    shop.phone = "8 (495) 123-45-67"
    shop.save()
    manager = MembershipFactory(shop=shop, user__first_name="Игорь", user__last_name="Петров")
    customer = make_customer(shop, cars=TWO_CARS, manager=manager)
    old = lead_of(customer, status=Status.WON)
    estimate = EstimateFactory(shop=shop)
    estimate.lead = old
    estimate.save()
    act = IntakeRecordFactory(shop=shop, lead=old, sealed_at=timezone.now())
    draft_act = IntakeRecordFactory(shop=shop, lead=old)
    current = lead_of(customer, status=Status.BOOKED)
    offer = OfferVersionFactory(
        offer__shop=shop,
        offer__lead=current,
        status="accepted",
        accepted_choice={"0": 0},
        accepted_total_rub=Decimal("36000"),
    ).offer
    start = timezone.now() + dt.timedelta(days=1)
    visit = Booking.objects.create(
        shop=shop, lead=current, post=1, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )

    response = _page(client, customer)
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Kia Rio, 2017" in html and "Lada Vesta, 2021" in html and "42000 км" in html
    assert "Ваш персональный менеджер" in html and "Игорь Петров" in html
    assert 'href="tel:8 (495) 123-45-67"' in html and "https://wa.me/74951234567" in html
    # Where the open request stands: the same steps as the request's own page.
    assert f"Заявка №{current.number}" in html
    assert 'aria-current="step" data-step="booked"' in html
    assert reverse("booking:visit", args=[shop.slug, visit.token]) in html
    assert reverse("smartcalc:calc_result", args=[shop.slug, estimate.public_token]) in html
    assert reverse("optima:offer_public", args=[shop.slug, offer.token]) in html
    assert reverse("intake:intake_public_act", args=[shop.slug, act.public_token]) in html
    assert draft_act.public_token not in html  # not signed yet: nothing to show the driver
    # Staff-only pages are never linked from here.
    assert "/staff/" not in html


def test_page_shows_nothing_of_another_customer(client, shop):
    customer = make_customer(shop)
    other = make_customer(shop, name="Сосед", phones=("+79990001122",), cars=TWO_CARS[1:])
    other_lead = lead_of(other)
    html = _page(client, customer).content.decode()
    assert "Сосед" not in html and "Vesta" not in html
    assert f"Заявка №{other_lead.number}" not in html


def test_unknown_link_is_404(client, shop):
    make_customer(shop)
    assert client.get(reverse("customers:driver_page", args=["nope"])).status_code == 404


def test_withdrawn_consent_closes_the_page(client, shop):
    customer = make_customer(shop)
    record = consent_record_make(
        shop=shop,
        text=consent_text_current(shop),
        name=customer.name,
        phone="+79161234567",
        ip=None,
        user_agent="",
    )
    assert _page(client, customer).status_code == 200
    record.withdrawn_at = timezone.now()
    record.save()
    assert _page(client, customer).status_code == 404


def test_erased_customer_page_is_404(client, shop):
    customer = make_customer(shop)
    CustomerPhone.objects.filter(customer=customer).delete()
    assert _page(client, customer).status_code == 404


def test_closed_shop_page_is_404(client, shop):
    customer = make_customer(shop)
    shop.is_active = False
    shop.save()
    assert _page(client, customer).status_code == 404


def test_merged_duplicate_link_leads_to_the_surviving_page(client, shop):
    survivor = make_customer(shop)
    duplicate = make_customer(shop, phones=(), cars=(), merged_into=survivor)
    response = _page(client, duplicate)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:driver_page", args=[survivor.page_token])


def test_new_photos_button_carries_a_signed_key_not_the_phone(client, shop):
    customer = make_customer(shop, cars=TWO_CARS)
    html = _page(client, customer).content.decode()
    form_url = reverse("photoportal:photo_form", args=[shop.slug])
    assert f"{form_url}?prefill=" in html and "Отправить новые фото" in html
    assert "79161234567" not in html


def _jpeg(name: str) -> BytesIO:
    buffer = BytesIO()
    Image.new("RGB", (800, 600), (120, 30, 30)).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def _photo_form(client, shop, token):
    return client.get(reverse("photoportal:photo_form", args=[shop.slug]), {"prefill": token})


def test_photo_form_is_filled_in_from_the_key(client, shop):
    customer = make_customer(
        shop, cars=TWO_CARS, email="olga@example.ru", preferred_channel="whatsapp"
    )
    car = customer.cars.get(model="Vesta")
    html = _photo_form(client, shop, prefill_token(customer, car)).content.decode()
    (whatsapp,) = re.findall(r'<input[^>]*value="whatsapp"[^>]*>', html)
    assert "checked" in whatsapp
    for value in ("Ольга Смирнова", "+7 916 123-45-67", "olga@example.ru", "Lada", "Vesta", "2021"):
        assert f'value="{value}"' in html
    assert 'value="М777ОР199"' in html


@pytest.mark.parametrize("case", ["forged", "other-shop", "expired"])
def test_photo_form_ignores_a_bad_key(client, shop, other_shop, case, settings):
    customer = make_customer(shop)
    if case == "forged":
        token = signing.dumps({"c": customer.pk, "car": None, "s": shop.pk}, salt="other-salt")
    elif case == "other-shop":
        stranger = make_customer(other_shop)
        token = prefill_token(stranger)
    else:
        signer = signing.TimestampSigner(salt=PREFILL_SALT)
        old = timezone.now() - dt.timedelta(hours=3)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(signing.time, "time", lambda: old.timestamp())
            token = signer.sign_object({"c": customer.pk, "car": None, "s": shop.pk}, compress=True)
    response = _photo_form(client, shop, token)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Ольга Смирнова"' not in html and 'value="+7 916 123-45-67"' not in html


def test_a_request_sent_from_the_prefilled_form_lands_on_the_same_customer(client, shop):
    customer = make_customer(shop, cars=TWO_CARS)
    car = customer.cars.get(model="Vesta")
    token = prefill_token(customer, car)
    page = _photo_form(client, shop, token)
    form_token = page.context["form_token"]
    buffer = _jpeg("door.jpg")
    response = client.post(
        reverse("photoportal:photo_form", args=[shop.slug]),
        {
            "form_token": form_token,
            "prefill": token,
            "description": "Царапина на двери",
            "vehicle_make": "Lada",
            "vehicle_model": "Vesta",
            "vehicle_year": "2021",
            "plate": "М777ОР199",
            "customer_name": "Ольга Смирнова",
            "phone": "+7 916 123-45-67",
            "preferred_contact": "call",
            "consent": "on",
            "photos": buffer,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead = Lead.objects.get(shop=shop)
    assert lead.customer == customer and lead.car == car
    assert lead.photos.count() == 1


def test_a_prefilled_form_sent_from_another_phone_is_not_attached(client, shop):
    customer = make_customer(shop)
    token = prefill_token(customer)
    form_token = _photo_form(client, shop, token).context["form_token"]
    buffer = _jpeg("bumper.jpg")
    client.post(
        reverse("photoportal:photo_form", args=[shop.slug]),
        {
            "form_token": form_token,
            "prefill": token,
            "vehicle_make": "Kia",
            "vehicle_model": "Rio",
            "customer_name": "Кто-то другой",
            "phone": "+7 903 000-11-22",
            "preferred_contact": "call",
            "consent": "on",
            "photos": buffer,
        },
    )
    lead = Lead.objects.get(shop=shop)
    assert lead.customer_id != customer.pk
