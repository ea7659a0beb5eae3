"""«Получить ссылку»: the driver gives their phone, a 6-digit code comes by SMS through the
shop's gateway (a fake SMS.ru speaking its documented shapes, tests/sms/contracts/README.md),
and the code opens their page. The answer is the same for an unknown phone (no SMS); the
code is kept only as a hash for 10 minutes and 5 tries, never in plain in an event; phones
and addresses asking too often are refused in Russian."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from autoservice import events
from customers import codes
from sms.models import Purpose, SmsMessage
from tests.customers.card_helpers import make_customer

pytestmark = pytest.mark.django_db

PHONE = "+79161234567"


@pytest.fixture
def seen_events():
    seen: list[events.ShopEvent] = []
    events.event_listen("test-seen")(seen.append)
    yield seen
    events._LISTENERS.pop("test-seen", None)


def _ask(client, shop, phone, **extra):
    return client.post(
        reverse("customers:link_request", args=[shop.slug]),
        {"step": "phone", "phone": phone},
        **extra,
    )


def _enter(client, shop, asked, code):
    signed = re.search(r'name="phone_signed" value="([^"]+)"', asked.content.decode()).group(1)
    return client.post(
        reverse("customers:link_request", args=[shop.slug]),
        {"step": "code", "phone_signed": signed, "code": code},
    )


def _code_from(fake) -> str:
    (sent,) = fake.sends()
    return re.search(r"\b(\d{6})\b", sent.form["msg"]).group(1)


def test_known_phone_gets_a_code_by_sms_that_opens_the_page(
    client, shop, smsru, seen_events, django_capture_on_commit_callbacks
):
    customer = make_customer(shop)
    with django_capture_on_commit_callbacks(execute=True):
        asked = _ask(client, shop, "8 (916) 123-45-67")
    assert asked.status_code == 200
    assert "Если этот номер есть у автосервиса" in asked.content.decode()
    code = _code_from(smsru)
    assert smsru.sends()[0].form["to"] == "79161234567"
    sms = SmsMessage.objects.get(shop=shop, purpose=Purpose.CODE)
    assert sms.lead is None  # no request's timeline shows the code
    # The event and the cache hold no plain code.
    (event,) = [e for e in seen_events if e.type == events.CUSTOMER_CODE_REQUESTED]
    assert code not in repr(event.data)
    assert code not in repr(cache.get(f"custcode:{shop.pk}:{PHONE}"))
    opened = _enter(client, shop, asked, code)
    assert opened.status_code == 302
    assert opened["Location"] == reverse("customers:driver_page", args=[customer.page_token])
    # Used once.
    again = _enter(client, shop, asked, code)
    assert again.status_code == 400 and "Код неверный или устарел" in again.content.decode()


def test_unknown_phone_gets_the_same_answer_and_no_sms(
    client, shop, smsru, django_capture_on_commit_callbacks
):
    make_customer(shop)
    with django_capture_on_commit_callbacks(execute=True):
        known = _ask(client, shop, PHONE)
        unknown = _ask(client, shop, "+79035550000")

    def words(response):
        html = response.content.decode()
        html = re.sub(r'name="(csrfmiddlewaretoken|phone_signed)" value="[^"]+"', "", html)
        return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)

    assert unknown.status_code == known.status_code == 200
    assert words(unknown) == words(known)
    assert len(smsru.sends()) == 1
    assert _enter(client, shop, unknown, "123456").status_code == 400


def test_five_wrong_codes_kill_the_code(client, shop, smsru, django_capture_on_commit_callbacks):
    make_customer(shop)
    with django_capture_on_commit_callbacks(execute=True):
        asked = _ask(client, shop, PHONE)
    code = _code_from(smsru)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(codes.MAX_ATTEMPTS - 1):
        assert "Код неверный или устарел" in _enter(client, shop, asked, wrong).content.decode()
    last = _enter(client, shop, asked, wrong).content.decode()
    assert "Слишком много неверных попыток" in last
    assert _enter(client, shop, asked, code).status_code == 400


def test_codes_per_phone_are_limited(client, shop, smsru, django_capture_on_commit_callbacks):
    make_customer(shop)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(codes.PHONE_LIMIT):
            assert _ask(client, shop, PHONE, REMOTE_ADDR=f"203.0.113.{n}").status_code == 200
        refused = _ask(client, shop, PHONE, REMOTE_ADDR="203.0.113.99")
    assert refused.status_code == 400
    assert "Попробуйте через 10 минут" in refused.content.decode()
    assert len(smsru.sends()) == codes.PHONE_LIMIT


def test_requests_per_address_are_limited(client, shop, smsru):
    for n in range(codes.IP_LIMIT):
        assert _ask(client, shop, f"+7903555{n:04d}").status_code == 200
    refused = _ask(client, shop, "+79035559999")
    assert refused.status_code == 400
    assert "Слишком много запросов с этого устройства" in refused.content.decode()


def test_a_wrong_phone_is_explained_and_kept(client, shop):
    response = _ask(client, shop, "12-34")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Проверьте номер" in html and 'value="12-34"' in html
    # Not indexed; the referrer stays on this site (a form under "no-referrer" posts
    # `Origin: null`, which the CSRF check refuses).
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_tampered_phone_field_is_refused(client, shop, smsru, django_capture_on_commit_callbacks):
    make_customer(shop)
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, shop, PHONE)
    response = client.post(
        reverse("customers:link_request", args=[shop.slug]),
        {"step": "code", "phone_signed": PHONE, "code": _code_from(smsru)},
    )
    assert response.status_code == 400
    assert "Форма устарела: запросите код ещё раз." in response.content.decode()


def test_withdrawn_consent_gets_no_code(client, shop, smsru, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from autoservice.consent import consent_record_make, consent_text_current

    customer = make_customer(shop)
    record = consent_record_make(
        shop=shop,
        text=consent_text_current(shop),
        name=customer.name,
        phone=PHONE,
        ip=None,
        user_agent="",
    )
    record.withdrawn_at = timezone.now()
    record.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert _ask(client, shop, PHONE).status_code == 200
    assert smsru.sends() == []
