"""On real processes: two Celery workers (as the Procfile's worker_default, one task each)
run the reminder beat task at the same moment; the due customer gets one reminder SMS from
the fake SMS.ru (tests/sms/contracts/README.md, https://sms.ru/api/send), not two."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from campaigns.models import CampaignMessage, ReminderRule, RuleKind
from campaigns.tasks import send_due_reminders
from leads.models import Status
from sms.models import SmsMessage, SmsSettings
from tests.campaigns.conftest import make_customer
from tests.factories import LeadFactory, ShopFactory
from tests.realstack import wait_for
from tests.sms.fake_gateway import FakeGateway

pytestmark = pytest.mark.django_db(transaction=True)

DONE = re.compile(
    r"Task campaigns\.tasks\.send_due_reminders\[[^\]]+\] succeeded in [\d.]+s: (\d+)"
)


@pytest.mark.timeout(120)
def test_two_workers_running_the_beat_together_send_one_reminder(
    broker, start_worker, processes, monkeypatch
):
    with FakeGateway("smsru") as fake:
        monkeypatch.setenv("SMSRU_BASE_URL", fake.base)
        monkeypatch.setenv("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
        monkeypatch.setenv("CAMPAIGN_REMINDER_HOUR", "0")  # any hour of the test run
        shop = ShopFactory()
        SmsSettings.objects.create(
            shop=shop, gateway="smsru", api_key="F2D79B58-A5A2", enabled=True
        )
        ReminderRule.objects.create(
            shop=shop,
            name="ТО раз в год",
            kind=RuleKind.MAINTENANCE,
            interval_months=12,
            text="{имя}, пора на ТО: {ссылка}",
        )
        customer = make_customer(shop, phone="+79161234567")
        visit = timezone.now() - dt.timedelta(days=367)  # due 1-2 days ago, in the window
        LeadFactory(
            shop=shop,
            customer=customer,
            phone="+79161234567",
            status=Status.WON,
            status_changed_at=visit,
        )

        first, _second = start_worker(), start_worker()
        send_due_reminders.delay()
        send_due_reminders.delay()
        results = wait_for(
            lambda: (
                len(DONE.findall(processes.log("worker"))) >= 2
                and DONE.findall(processes.log("worker"))
            ),
            seconds=60,
            what="both workers ran the reminder task",
            context=first.log,
        )
        assert sorted(results) == ["0", "1"]
        wait_for(
            lambda: CampaignMessage.objects.filter(status="sent").exists(),
            seconds=40,
            what="the SMS went out and its state came back to the reminder",
            context=first.log,
        )
        assert CampaignMessage.objects.count() == 1
        assert SmsMessage.objects.get().status == "sent"
        assert len(fake.sends()) == 1
