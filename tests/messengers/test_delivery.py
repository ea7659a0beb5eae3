"""A new lead reaches each on-duty staff member's linked chats through the outbox: once per
recipient per messenger, with the car, the description, the first photo (its web rendition)
and the link; the timeline says who was told. A 429 waits for retry_after, a 403 marks the
link broken and stops, a failing messenger is retried; one
that never answered is noted as uncertain and not sent twice. Escalations and accepted
offers go to the managers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from autoservice import events
from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_deliver_now
from leads.models import Channel, EventKind, Lead, LeadEvent
from leads.services import LeadInput, lead_create, leads_escalate_overdue
from messengers.delivery import inflight_key
from messengers.models import ChatLink, LinkState
from messengers.services import SEND, notify_new_lead
from tests.factories import LeadFactory, LeadPhotoFactory, MembershipFactory, ShopFactory
from tests.messengers.conftest import MAX_USER, TELEGRAM_CHAT
from tests.s3 import served_bytes


def _new_lead(shop, capture) -> Lead:
    with capture(execute=True):
        lead, _created = lead_create(
            shop=shop,
            channel=Channel.PHOTO,
            data=LeadInput(
                customer_name="Анна Смирнова",
                phone="+79161234567",
                vehicle_make="Kia",
                vehicle_model="Rio",
                description="Помят передний бампер, треснула фара",
            ),
        )
    return lead


def _rows(**filters):
    return OutboxMessage.objects.filter(kind=SEND, **filters).order_by("pk")


def test_a_new_lead_reaches_each_linked_chat_of_each_on_duty_advisor_once(
    shop, telegram, max_bot, linked_advisor, linked_manager, django_capture_on_commit_callbacks
):
    off_duty = MembershipFactory(shop=shop)
    ChatLink.objects.create(membership=off_duty, kind="telegram", chat_id="555", on_duty=False)
    stranger = MembershipFactory(shop=ShopFactory())
    ChatLink.objects.create(membership=stranger, kind="telegram", chat_id="666")

    lead = _new_lead(shop, django_capture_on_commit_callbacks)

    assert _rows().count() == 3  # advisor: Telegram + MAX; manager on duty: Telegram
    assert set(_rows().values_list("status", flat=True)) == {OutboxStatus.SENT}
    sent = {c.body["chat_id"]: c.body["text"] for c in telegram.calls("sendMessage")}
    assert set(sent) == {TELEGRAM_CHAT, "777000111"}
    text = sent[TELEGRAM_CHAT]
    assert f"Новая заявка №{lead.number}" in text and "Kia Rio" in text
    assert "Помят передний бампер" in text
    assert reverse("leads:lead_detail", kwargs={"lead_id": lead.pk}) in text
    assert "+79161234567" not in text  # the driver's phone stays in the staff pages
    (max_call,) = max_bot.calls("messages")
    assert max_call.query == {"user_id": [MAX_USER]} and "Kia Rio" in max_call.body["text"]

    timeline = list(
        LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).values_list("text", flat=True)
    )
    assert "уведомление в Telegram отправлено: Иван Сидоров" in timeline
    assert "уведомление в MAX отправлено: Иван Сидоров" in timeline

    # Told again (a replayed event) or delivered again (a second worker): nothing more.
    events.event_emit(
        shop=shop, type=events.LEAD_CREATED, subject=f"lead:{lead.pk}", data={"lead_id": lead.pk}
    )
    for row in _rows():
        assert outbox_deliver_now(row.pk) == "skipped"
    assert _rows().count() == 3
    assert len(telegram.calls("sendMessage")) == 2 and len(max_bot.calls("messages")) == 1


def test_the_first_photo_goes_as_its_web_rendition_never_the_original(
    shop, telegram, linked_advisor
):
    lead = LeadFactory(shop=shop, description="Царапина на двери")
    first = LeadPhotoFactory(lead=lead, position=0)
    LeadPhotoFactory(lead=lead, position=1)
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    assert outbox_deliver_now(row.pk) == "sent"

    (call,) = telegram.calls("sendPhoto")
    filename, data = call.body["photo"]
    with first.web.open("rb") as web, first.original.open("rb") as original:
        assert data == web.read() and data != original.read()
    assert filename.endswith(".web.jpg")
    assert "Царапина на двери" in call.body["caption"]
    assert not telegram.calls("sendMessage")


def test_a_429_is_retried_no_earlier_than_retry_after(shop, telegram, linked_advisor):
    lead = LeadFactory(shop=shop)
    telegram.modes = ["limit"]
    before = timezone.now()
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()

    assert outbox_deliver_now(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "retry after 5" in row.last_error
    assert row.not_before >= before + dt.timedelta(seconds=5)
    assert row.next_attempt_at == row.not_before

    # A copy of the task, or the dispatcher, before the wait is over: nothing is sent.
    assert outbox_deliver_now(row.pk) == "skipped"
    assert len(telegram.calls("sendMessage")) == 1

    OutboxMessage.objects.filter(pk=row.pk).update(not_before=timezone.now())
    assert outbox_deliver_now(row.pk) == "sent"
    assert len(telegram.calls("sendMessage")) == 2


def test_a_blocked_bot_breaks_the_link_and_is_not_retried(shop, telegram, linked_advisor, client):
    lead = LeadFactory(shop=shop)
    telegram.mode = "blocked"
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()

    assert outbox_deliver_now(row.pk) == "parked"
    row.refresh_from_db()
    assert row.status == OutboxStatus.PARKED
    link = ChatLink.objects.get(membership=linked_advisor, kind="telegram")
    assert link.state == LinkState.BROKEN and "blocked" in link.broken_reason
    assert LeadEvent.objects.filter(
        lead=lead,
        kind=EventKind.NOTIFY_FAILED,
        text="уведомление в Telegram не доставлено: Иван Сидоров заблокировал(а) бота",
    ).exists()
    assert outbox_deliver_now(row.pk) == "skipped"
    assert len(telegram.calls("sendMessage")) == 1

    # The next lead is not even written for the broken link.
    notify_new_lead(shop=shop, lead_id=LeadFactory(shop=shop).pk)
    assert _rows().count() == 1

    client.force_login(linked_advisor.user)
    page = client.get(reverse("messengers:profile")).content.decode()
    assert "бот заблокирован" in page and "Привязать заново" in page


def test_a_failing_messenger_is_retried_with_backoff(shop, telegram, linked_advisor):
    telegram.modes = ["fail"]
    lead = LeadFactory(shop=shop)
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()

    assert outbox_deliver_now(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.not_before is None
    assert row.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)
    assert TELEGRAM_CHAT not in row.last_error and telegram.token not in row.last_error
    assert not LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).exists()

    assert outbox_deliver_now(row.pk) == "sent"
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).count() == 1


def test_a_request_without_an_answer_is_noted_as_uncertain_and_not_sent_twice(
    shop, telegram, linked_advisor, monkeypatch
):
    monkeypatch.setattr("messengers.clients.TIMEOUT_S", 0.5)
    telegram.slow_seconds = 2.0
    telegram.modes = ["slow"]
    lead = LeadFactory(shop=shop)
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()

    assert outbox_deliver_now(row.pk) == "sent"  # handled: nothing more will be tried
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.last_error.startswith("uncertain")
    assert len(telegram.calls("sendMessage")) == 1
    (doubt,) = LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFY_FAILED)
    assert "неизвестно, дошло ли (Мессенджер не ответил вовремя.)" in doubt.text
    assert not LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).exists()
    assert outbox_deliver_now(row.pk) == "skipped"
    assert len(telegram.calls("sendMessage")) == 1


def test_an_attempt_that_died_mid_request_is_not_sent_again(
    shop, telegram, linked_advisor, django_capture_on_commit_callbacks
):
    """A worker killed after the request went out leaves the mark and the row `sending`;
    the retry after the lease finds the mark (the real-process version is in
    test_messengers_real_stack.py)."""
    lead = LeadFactory(shop=shop)
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    cache.set(inflight_key(row), 1)
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENDING, lease_until=timezone.now() - dt.timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_deliver_now(row.pk) == "sent"
    assert telegram.calls("sendMessage") == []
    assert "сбой во время отправки" in LeadEvent.objects.get(kind=EventKind.NOTIFY_FAILED).text
    assert not cache.get(inflight_key(row))


def test_a_switched_off_bot_or_unlinked_chat_sends_nothing(shop, telegram, linked_advisor):
    lead = LeadFactory(shop=shop)
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    telegram.bot.enabled = False
    telegram.bot.save()
    assert outbox_deliver_now(row.pk) == "sent"
    assert not telegram.calls("sendMessage")
    assert notify_new_lead(shop=shop, lead_id=LeadFactory(shop=shop).pk) == 0


def test_an_overdue_lead_goes_to_the_managers_only(
    shop, telegram, linked_advisor, linked_manager, django_capture_on_commit_callbacks
):
    lead = LeadFactory(shop=shop, sla_due_at=timezone.now() - dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_escalate_overdue() == 1
    (call,) = telegram.calls("sendMessage")
    assert call.body["chat_id"] == "777000111"
    assert f"Заявка №{lead.number} без ответа дольше срока" in call.body["text"]
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_escalate_overdue() == 0
    assert len(telegram.calls("sendMessage")) == 1


def test_an_accepted_offer_goes_to_the_managers(
    shop, telegram, linked_advisor, linked_manager, django_capture_on_commit_callbacks
):
    lead = LeadFactory(shop=shop)
    data = {"offer_id": 7, "version": 2, "lead_id": lead.pk, "accepted_total_rub": "48250.00"}
    with django_capture_on_commit_callbacks(execute=True):
        events.event_emit(
            shop=shop, type=events.OFFER_ACCEPTED, subject=f"lead:{lead.pk}", data=data
        )
    (call,) = telegram.calls("sendMessage")
    assert call.body["chat_id"] == "777000111"
    assert "Клиент принял предложение" in call.body["text"]
    assert "48\u202f250\u00a0₽" in call.body["text"]


def test_the_message_waits_a_moment_for_the_first_photos_rendition(shop, telegram, linked_advisor):
    lead = LeadFactory(shop=shop, created_at=timezone.now())
    photo = LeadPhotoFactory(lead=lead, state="processing")
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()

    assert outbox_deliver_now(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.not_before > timezone.now()
    assert not telegram.seen

    photo.state = "ready"
    photo.save(update_fields=["state"])
    OutboxMessage.objects.filter(pk=row.pk).update(not_before=timezone.now())
    assert outbox_deliver_now(row.pk) == "sent"
    (call,) = telegram.calls("sendPhoto")
    assert call.body["photo"][0].endswith(".web.jpg")


def test_a_photo_still_not_ready_after_the_wait_is_left_out(shop, telegram, linked_advisor):
    lead = LeadFactory(shop=shop, created_at=timezone.now() - dt.timedelta(seconds=30))
    LeadPhotoFactory(lead=lead, state="processing")
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    assert outbox_deliver_now(row.pk) == "sent"
    assert telegram.calls("sendMessage") and not telegram.calls("sendPhoto")


def test_a_chat_that_no_longer_exists_breaks_the_link(shop, telegram, linked_advisor):
    telegram.mode = "no_chat"
    notify_new_lead(shop=shop, lead_id=LeadFactory(shop=shop).pk)
    (row,) = _rows()
    assert outbox_deliver_now(row.pk) == "parked"
    link = ChatLink.objects.get(membership=linked_advisor, kind="telegram")
    assert link.state == LinkState.BROKEN and "chat not found" in link.broken_reason


def test_a_lead_destroyed_before_delivery_is_not_told(shop, telegram, linked_advisor):
    lead = LeadFactory(shop=shop)
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    Lead.objects.filter(pk=lead.pk).delete()
    assert outbox_deliver_now(row.pk) == "sent"
    assert not telegram.seen


def test_a_lead_with_an_estimate_shows_its_total_under_the_description(
    shop, telegram, linked_advisor
):
    from autoservice.money import format_rub
    from smartcalc import services as calc_services
    from smartcalc.selectors import estimate_latest_for_lead
    from tests.factories import EstimateFactory

    lead = LeadFactory(shop=shop, description="Помят бампер")
    calc_services.estimate_attach_lead(estimate=EstimateFactory(shop=shop), lead=lead)
    total = estimate_latest_for_lead(lead).total_rub
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    assert outbox_deliver_now(row.pk) == "sent"
    (call,) = telegram.calls("sendMessage")
    assert f"Помят бампер\nПредварительная смета: {format_rub(total)}" in call.body["text"]


def test_max_gets_the_first_photo_as_a_short_lived_link_to_its_web_rendition(
    shop, max_bot, linked_advisor, client
):
    lead = LeadFactory(shop=shop)
    first = LeadPhotoFactory(lead=lead, position=0)
    ChatLink.objects.filter(kind="telegram").delete()
    notify_new_lead(shop=shop, lead_id=lead.pk)
    (row,) = _rows()
    assert outbox_deliver_now(row.pk) == "sent"

    (call,) = max_bot.calls("messages")
    (attachment,) = call.body["attachments"]
    assert attachment["type"] == "image"
    url = attachment["payload"]["url"]
    assert first.web.name not in url and first.original.name not in url  # a signed link
    response = client.get(url.removeprefix(settings.SITE_URL))
    with first.web.open("rb") as web:
        assert served_bytes(response) == web.read()


def test_a_known_customers_request_goes_to_their_manager_then_on_duty_after_the_sla(
    shop, telegram, linked_advisor, linked_manager, django_capture_on_commit_callbacks
):
    """The personal manager (the advisor who answered the customer first) is told alone; the
    SLA escalation then reaches everyone on duty, the manager not twice."""
    from leads.services import lead_mark_contacted

    first = _new_lead(shop, django_capture_on_commit_callbacks)
    lead_mark_contacted(lead=first, by=linked_advisor)
    before = len(telegram.calls("sendMessage"))

    again = _new_lead(shop, django_capture_on_commit_callbacks)

    assert again.assignee == linked_advisor
    calls = telegram.calls("sendMessage")[before:]
    assert [c.body["chat_id"] for c in calls] == [TELEGRAM_CHAT]
    assert f"Новая заявка №{again.number} от вашего клиента" in calls[0].body["text"]

    Lead.objects.filter(pk=again.pk).update(sla_due_at=timezone.now() - dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_escalate_overdue() == 1
    calls = telegram.calls("sendMessage")[before:]
    to = [c.body["chat_id"] for c in calls]
    # The manager of the shop: the escalation and, being on duty, the request itself.
    assert sorted(to) == sorted([TELEGRAM_CHAT, "777000111", "777000111"])
    assert sum("без ответа дольше срока" in c.body["text"] for c in calls) == 1
