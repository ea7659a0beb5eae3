"""Reminders the shop defines go to due customers once per rule and due date, only with
advertising consent, never after an unsubscribe, however often (or concurrently) the beat
runs. SMS through the fake SMS.ru (tests/sms/contracts/README.md, https://sms.ru/api/send)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import CampaignMessage, ReminderRule, RuleKind
from leads.models import Status
from sms.models import SmsMessage
from tests.campaigns.conftest import make_car, make_customer
from tests.concurrency import run_together
from tests.factories import LeadFactory

TODAY = dt.date(2026, 6, 15)


def _rule(shop, **fields):
    defaults = {
        "name": "ТО раз в год",
        "kind": RuleKind.MAINTENANCE,
        "interval_months": 12,
        "text": "{имя}, пора на ТО для {авто}: {ссылка}",
    }
    defaults.update(fields)
    return ReminderRule.objects.create(shop=shop, **defaults)


def _won_visit(customer, day: dt.date):
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=customer.shop.tzinfo)
    return LeadFactory(
        shop=customer.shop,
        customer=customer,
        phone=customer.phones.first().phone,
        status=Status.WON,
        status_changed_at=moment,
    )


def test_due_maintenance_reminder_reaches_consenting_customer_once(
    shop, smsru, django_capture_on_commit_callbacks
):
    rule = _rule(shop)
    agreed = make_customer(shop, phone="+79161110001", name="Иван Петров")
    make_car(agreed, make="Kia", model="Rio")
    _won_visit(agreed, dt.date(2025, 6, 13))
    never = make_customer(shop, phone="+79161110002", consent=False)
    _won_visit(never, dt.date(2025, 6, 13))
    withdrew = make_customer(shop, phone="+79161110003")
    withdrew.marketing_withdrawn_at = timezone.now()
    withdrew.save()
    _won_visit(withdrew, dt.date(2025, 6, 13))
    not_yet = make_customer(shop, phone="+79161110004")
    _won_visit(not_yet, dt.date(2025, 7, 1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(shop=shop, today=TODAY) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(shop=shop, today=TODAY) == 0  # the beat again

    message = CampaignMessage.objects.get()
    assert message.customer == agreed and message.rule == rule
    assert message.due_date == dt.date(2026, 6, 13)
    (sent,) = smsru.sends()
    assert sent.form["to"] == "79161110001"
    text = sent.form["msg"]
    assert "Иван, пора на ТО для Kia Rio" in text
    assert f"/m/{message.token}/" in text and f"/m/{message.token}/stop/" in text
    assert "Отписаться" in text
    assert SmsMessage.objects.get().purpose == "marketing"
    message.refresh_from_db()
    assert message.status == "sent"  # told back by the SMS app


def test_a_date_long_past_is_not_sent_when_a_rule_is_switched_on(shop, smsru):
    _rule(shop)
    customer = make_customer(shop)
    _won_visit(customer, dt.date(2024, 1, 10))  # due 10.01.2025, far outside the window
    assert services.reminders_send(shop=shop, today=TODAY) == 0


def test_seasonal_warranty_and_anticorrosion_dates(shop, smsru):
    customer = make_customer(shop)
    make_car(customer)
    _won_visit(customer, dt.date(2025, 6, 20))
    tyres = _rule(shop, name="Шины", kind=RuleKind.SEASONAL, spring_date="10.06")
    warranty = _rule(
        shop, name="Гарантия", kind=RuleKind.WARRANTY, warranty_months=12, days_before=7
    )
    rust = _rule(shop, name="Антикор", kind=RuleKind.ANTICORROSION, interval_months=12)
    assert [d.due_date for d in services.rule_due(tyres, TODAY)] == [dt.date(2026, 6, 10)]
    assert [d.due_date for d in services.rule_due(warranty, TODAY)] == [dt.date(2026, 6, 13)]
    assert services.rule_due(rust, TODAY) == []  # due on 20.06.2026
    assert [d.due_date for d in services.rule_due(rust, dt.date(2026, 6, 20))] == [
        dt.date(2026, 6, 20)
    ]


def test_mileage_pace_from_two_readings_or_the_stated_default():
    readings = [(dt.date(2026, 1, 1), 50_000), (dt.date(2026, 3, 2), 53_000)]
    assert services.km_per_day(readings) == (50.0, True)
    # 53 000 → 60 000 at 50 km a day: 140 days after the last reading.
    assert services.mileage_due(readings, 10_000) == dt.date(2026, 3, 2) + dt.timedelta(days=140)
    one = [(dt.date(2026, 3, 2), 53_000)]
    assert services.km_per_day(one) == (float(services.DEFAULT_KM_PER_DAY), False)
    assert services.mileage_due(one, 10_000) == dt.date(2026, 3, 2) + dt.timedelta(days=175)
    assert services.mileage_due([], 10_000) is None


def test_mileage_rule_uses_the_car_reading(shop, smsru):
    rule = _rule(shop, name="Пробег", kind=RuleKind.MILEAGE, mileage_step_km=10_000)
    customer = make_customer(shop)
    # 59 800 km on 10.06: 200 km to go at 40 km a day → due 15.06.
    make_car(customer, mileage_km=59_800, mileage_at=dt.date(2026, 6, 10))
    (due,) = services.rule_due(rule, TODAY)
    assert due.due_date == dt.date(2026, 6, 15) and due.car.mileage_km == 59_800


def test_beat_waits_for_the_shops_morning(shop, smsru, settings):
    settings.CAMPAIGN_REMINDER_HOUR = 10
    _rule(shop)
    customer = make_customer(shop)
    _won_visit(customer, dt.date(2025, 6, 13))
    early = dt.datetime.combine(TODAY, dt.time(9, 30), tzinfo=shop.tzinfo)
    assert services.reminders_send_all(now=early) == 0
    assert services.reminders_send_all(now=early + dt.timedelta(hours=1)) == 1
    assert services.reminders_send_all(now=early + dt.timedelta(hours=2)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_send_a_due_reminder_once(shop, smsru):
    _rule(shop)
    customer = make_customer(shop)
    _won_visit(customer, dt.date(2025, 6, 13))

    made = run_together(3, lambda _i: services.reminders_send(shop=shop, today=TODAY))

    assert sorted(made) == [0, 0, 1]
    assert CampaignMessage.objects.count() == 1
    assert SmsMessage.objects.count() == 1
    assert len(smsru.sends()) == 1


def test_a_reminder_over_the_daily_sms_limit_goes_the_next_morning(
    shop, smsru, django_capture_on_commit_callbacks
):
    smsru.conf.daily_limit = 1
    smsru.conf.save()
    _rule(shop)
    for n in (1, 2):
        customer = make_customer(shop, phone=f"+7916111000{n}")
        _won_visit(customer, dt.date(2025, 6, 13))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(shop=shop, today=TODAY) == 2
    assert len(smsru.sends()) == 1  # the limit held
    assert CampaignMessage.objects.count() == 1  # the refused one is forgotten
    assert SmsMessage.objects.filter(status="over_limit").count() == 1

    smsru.conf.daily_limit = 10  # as a new day's allowance
    smsru.conf.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(shop=shop, today=TODAY + dt.timedelta(days=1)) == 1
    assert len(smsru.sends()) == 2
    assert {s.form["to"] for s in smsru.sends()} == {"79161110001", "79161110002"}
