"""SMS to drivers go through the outbox to the gateway once: the offer link and the booking
reach the driver; a down gateway is retried; a refused key or an empty balance parks the
message and says why on the settings page; a lost answer never makes a second SMS where the
gateway can be asked (SMSC), and is shown as unknown where it cannot (SMS.ru); the daily
limit holds; delivery reports reach the timeline; no campaign without marketing consent.

Gateway shapes: tests/sms/contracts/README.md (https://sms.ru/api/send, https://sms.ru/api/status,
https://smsc.ru/api/http/send/sms/sms_answer/, https://smsc.ru/api/http/status_messages/)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_deliver_now
from leads.models import EventKind, LeadEvent, Status
from leads.services import lead_change_status
from optima import offers
from sms import services
from sms.models import MarketingConsent, SmsMessage, SmsSettings, SmsStatus
from tests.factories import LeadFactory, OfferVersionFactory

PHONE = "+79161234567"


def _outbox(sms):
    return OutboxMessage.objects.get(kind=services.SEND, payload__sms_id=sms.pk)


def _send(capture, shop, *, phone=PHONE, lead=None, key="k1", text="Ваш автомобиль готов"):
    with capture(execute=True):
        return services.sms_send(
            shop=shop, phone=phone, text=text, purpose="ready", dedupe_key=key, lead=lead
        )


def test_the_offer_link_goes_to_the_driver_once_by_smsru(
    shop, advisor, smsru, django_capture_on_commit_callbacks
):
    lead = LeadFactory(shop=shop, phone=PHONE, status=Status.IN_PROGRESS)
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        offers.offer_send(version=version, by=advisor)

    (sent,) = smsru.sends()
    # The documented request: api_id, to (digits), msg, json=1; our sender name as `from`.
    assert sent.form["api_id"] == "F2D79B58-A5A2" and sent.form["json"] == "1"
    assert sent.form["to"] == "79161234567" and sent.form["from"] == "AvtoServis"
    link = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    assert link in sent.form["msg"] and f"№{lead.number}" in sent.form["msg"]
    sms = SmsMessage.objects.get(lead=lead)
    assert sms.status == SmsStatus.SENT and sms.gateway_id == "000000-10000000"
    assert _outbox(sms).status == OutboxStatus.SENT and _outbox(sms).subject_phone == PHONE
    line = LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED, data__sms_id=sms.pk).get()
    assert "принято SMS.ru" in line.text
    # Delivered again by a second worker or beat: nothing more goes out.
    outbox_deliver_now(_outbox(sms).pk)
    assert len(smsru.sends()) == 1


def test_booking_sends_an_sms_with_the_address_and_ready_a_second(
    shop, advisor, smsru, django_capture_on_commit_callbacks
):
    shop.address = "Москва, ул. Автозаводская, 1"
    shop.save()
    lead = LeadFactory(shop=shop, phone=PHONE, status=Status.OFFER_SENT)
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.BOOKED, by=advisor)
    (booked,) = smsru.sends()
    assert "вы записаны" in booked.form["msg"] and "Автозаводская" in booked.form["msg"]
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.WON, by=advisor)
    assert "можно забирать" in smsru.sends()[-1].form["msg"]
    assert SmsMessage.objects.filter(lead=lead, status=SmsStatus.SENT).count() == 2


def test_switched_off_sms_write_nothing(shop, advisor, smsru, django_capture_on_commit_callbacks):
    SmsSettings.objects.filter(pk=smsru.conf.pk).update(enabled=False)
    lead = LeadFactory(shop=shop, phone=PHONE, status=Status.OFFER_SENT)
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.BOOKED, by=advisor)
    assert not SmsMessage.objects.exists() and smsru.sends() == []


def test_a_down_gateway_is_retried_and_the_sms_goes_once(
    shop, smsru, django_capture_on_commit_callbacks
):
    smsru.mode = "fail"
    sms = _send(django_capture_on_commit_callbacks, shop)
    row = _outbox(sms)
    assert row.status == OutboxStatus.PENDING and "ответил ошибкой 500" in row.last_error
    assert not cache.get(f"sms:inflight:{sms.pk}")  # a 500 is a clean refusal
    smsru.mode = "ok"
    assert outbox_deliver_now(row.pk) == "sent"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT
    assert len([s for s in smsru.sends()]) == 2  # one refused with 500, one accepted


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("low_balance", "недостаточно средств — пополните баланс"),
        ("bad_key", "неправильный api_id"),
    ],
)
def test_a_refused_account_parks_and_the_settings_page_says_why(
    shop, smsru, manager_client, django_capture_on_commit_callbacks, mode, words
):
    smsru.mode = mode
    sms = _send(django_capture_on_commit_callbacks, shop)
    assert _outbox(sms).status == OutboxStatus.PARKED
    page = manager_client.get(reverse("sms:settings")).content.decode()
    assert "SMS не отправляются" in page and words in page
    # Parked: beat does not call the gateway again until the manager acts.
    calls = len(smsru.seen)
    assert outbox_deliver_now(_outbox(sms).pk) == "skipped" and len(smsru.seen) == calls
    smsru.mode = "ok"
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("sms:settings"),
            {
                "gateway": "smsru",
                "sender": "AvtoServis",
                "cost_per_message": "4,50",
                "daily_limit": "200",
                "enabled": "on",
            },
        )
    assert response.status_code == 302
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT
    assert "SMS не отправляются" not in manager_client.get(reverse("sms:settings")).content.decode()


def test_a_wrong_number_fails_for_good_on_the_timeline(
    shop, smsru, django_capture_on_commit_callbacks
):
    smsru.mode = "bad_number"
    lead = LeadFactory(shop=shop, phone=PHONE)
    sms = _send(django_capture_on_commit_callbacks, shop, lead=lead)
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED and "код 207" in sms.status_text
    assert _outbox(sms).status == OutboxStatus.SENT  # handled: not retried
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFY_FAILED).exists()


def test_smsc_lost_answer_then_retry_finds_it_and_sends_no_second(
    shop, smsc, django_capture_on_commit_callbacks
):
    """The gateway accepted, the answer never came (as when the worker dies right after):
    the retry asks SMSC by our id and records it; the driver gets one SMS."""
    smsc.mode = "slow_after_accept"
    sms = _send(django_capture_on_commit_callbacks, shop)
    assert _outbox(sms).status == OutboxStatus.PENDING
    assert list(smsc.accepted) == [str(sms.pk)]
    assert smsc.sends()[0].form["id"] == str(sms.pk)
    smsc.mode = "ok"
    assert outbox_deliver_now(_outbox(sms).pk) == "sent"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT and sms.gateway_id == str(sms.pk)
    assert len(smsc.sends()) == 1  # asked status.php, never sent again


def test_smsc_retry_after_a_failure_before_the_gateway_sends(
    shop, smsc, django_capture_on_commit_callbacks
):
    """The mark is there but SMSC has no such message: it is sent now, once."""
    sms = SmsMessage.objects.create(
        shop=shop, phone=PHONE, text="Проверка", purpose="ready", dedupe_key="x"
    )
    cache.set(f"sms:inflight:{sms.pk}", 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.outbox_put(
            shop=shop, kind=services.SEND, dedupe_key="sms:x", payload={"sms_id": sms.pk}
        )
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT and len(smsc.sends()) == 1


def test_smsru_lost_answer_is_unknown_and_never_sent_twice(
    shop, smsru, django_capture_on_commit_callbacks
):
    smsru.mode = "slow_after_accept"
    lead = LeadFactory(shop=shop, phone=PHONE)
    sms = _send(django_capture_on_commit_callbacks, shop, lead=lead)
    smsru.mode = "ok"
    outbox_deliver_now(_outbox(sms).pk)
    sms.refresh_from_db()
    assert sms.status == SmsStatus.UNKNOWN and len(smsru.sends()) == 1
    line = LeadEvent.objects.get(lead=lead, kind=EventKind.NOTIFY_FAILED)
    assert "повторно не отправляем" in line.text


def test_the_daily_limit_stops_sms_with_a_russian_line(
    shop, smsru, django_capture_on_commit_callbacks
):
    SmsSettings.objects.filter(pk=smsru.conf.pk).update(daily_limit=1)
    lead = LeadFactory(shop=shop, phone=PHONE)
    _send(django_capture_on_commit_callbacks, shop, lead=lead, key="a")
    second = _send(django_capture_on_commit_callbacks, shop, lead=lead, key="b")
    second.refresh_from_db()
    assert second.status == SmsStatus.OVER_LIMIT and len(smsru.sends()) == 1
    line = LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFY_FAILED).get()
    assert "дневной лимит автосервиса — 1 SMS в сутки" in line.text


@pytest.mark.parametrize(
    ("report", "status"), [("delivered", "delivered"), ("undelivered", "undelivered")]
)
def test_delivery_reports_reach_the_timeline(
    shop, smsru, django_capture_on_commit_callbacks, report, status
):
    lead = LeadFactory(shop=shop, phone=PHONE)
    sms = _send(django_capture_on_commit_callbacks, shop, lead=lead)
    smsru.report = report
    assert services.sms_status_poll() == 1
    sms.refresh_from_db()
    assert sms.status == status
    assert str(sms.cost) == "0.50"  # the gateway's report says what it charged
    (asked,) = [s for s in smsru.seen if s.path == "/sms/status"]
    assert asked.form["sms_id"] == sms.gateway_id and asked.form["json"] == "1"
    texts = list(LeadEvent.objects.filter(lead=lead).values_list("text", flat=True))
    expected = "доставлено" if report == "delivered" else "время жизни истекло"
    assert any(expected in t for t in texts)
    assert services.sms_status_poll() == 0  # final: not asked again


def test_no_campaign_sms_without_marketing_consent(shop, smsru, django_capture_on_commit_callbacks):
    with pytest.raises(services.MarketingConsentMissing):
        services.sms_send(
            shop=shop,
            phone=PHONE,
            text="Скидка 20 %",
            purpose="marketing",
            dedupe_key="m1",
            marketing=True,
        )
    MarketingConsent.objects.create(shop=shop, phone=PHONE)
    other = MarketingConsent.objects.create(shop=shop, phone="+79160000000")
    other.withdrawn_at = other.given_at
    other.save()
    with pytest.raises(services.MarketingConsentMissing):
        services.sms_send(
            shop=shop,
            phone="+79160000000",
            text="Скидка",
            purpose="marketing",
            dedupe_key="m2",
            marketing=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.sms_send(
            shop=shop,
            phone=PHONE,
            text="Скидка 20 %",
            purpose="marketing",
            dedupe_key="m3",
            marketing=True,
        )
    assert [s.form["to"] for s in smsru.sends()] == ["79161234567"]


def test_the_lead_page_shows_the_sms_and_its_delivery(
    shop, smsru, advisor_client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(shop=shop, phone=PHONE)
    _send(django_capture_on_commit_callbacks, shop, lead=lead)
    services.sms_status_poll()
    page = advisor_client.get(reverse("leads:lead_detail", kwargs={"lead_id": lead.pk}))
    text = page.content.decode()
    assert "SMS на +7 916 123-45-67 принято SMS.ru: «Ваш автомобиль готов»" in text
    assert "SMS на +7 916 123-45-67 доставлено" in text
