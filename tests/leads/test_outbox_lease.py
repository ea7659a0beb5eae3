"""At least once, with a lease: a worker claims a row, sends outside any row lock, marks it
sent; a row whose worker vanished is taken again when its lease runs out, and the copy
carries the same Message-ID. The backlog is what health checks and the staff banner read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import (
    HANDLERS,
    outbox_backlog,
    outbox_claim,
    outbox_deliver_now,
    outbox_due,
    outbox_lease,
    outbox_put,
    register_handler,
)
from autoservice.tasks import outbox_deliver
from leads.models import Channel, EventKind, LeadEvent
from leads.services import LeadInput, lead_create
from tests.factories import ShopFactory

TEST_KIND = "tests.lease_probe"


def _lead(shop):
    lead, _created = lead_create(
        shop=shop,
        channel=Channel.PHOTO,
        data=LeadInput(customer_name="Анна Смирнова", phone="+79123456789"),
    )
    return lead


def _new_lead_message(lead) -> OutboxMessage:
    return OutboxMessage.objects.get(dedupe_key=f"lead-new:{lead.pk}")


def _expire_lease(message: OutboxMessage) -> dt.datetime:
    past = timezone.now() - dt.timedelta(seconds=1)
    OutboxMessage.objects.filter(pk=message.pk).update(lease_until=past)
    return past


@pytest.fixture
def notified_shop(db):
    return ShopFactory(notification_emails="a@x.ru")


@pytest.fixture
def during_send():
    """A handler for TEST_KIND that runs a callable while it 'sends'."""
    calls: list[OutboxMessage] = []
    action: dict = {}

    def handler(message: OutboxMessage) -> None:
        if "run" in action:
            action["run"](message)
        calls.append(message)

    register_handler(TEST_KIND)(handler)
    yield calls, action
    HANDLERS.pop(TEST_KIND, None)


def test_lease_outlives_the_delivery_task(settings):
    assert outbox_lease().total_seconds() > outbox_deliver.time_limit
    assert outbox_deliver.soft_time_limit < outbox_deliver.time_limit


def test_claimed_row_is_not_taken_by_another_worker_while_its_lease_runs(notified_shop):
    message = _new_lead_message(_lead(notified_shop))

    claimed = outbox_claim(message.pk)

    assert claimed is not None
    assert (claimed.status, claimed.attempts) == (OutboxStatus.SENDING, 1)
    assert claimed.lease_until > timezone.now() + outbox_lease() - dt.timedelta(seconds=5)
    assert outbox_deliver_now(message.pk) == "skipped"
    assert outbox_due(now=claimed.lease_until - dt.timedelta(seconds=1)) == []
    assert outbox_due(now=claimed.lease_until + dt.timedelta(seconds=1)) == [message.pk]
    assert mail.outbox == []


def test_row_of_a_vanished_worker_is_sent_again_with_the_same_message_id(notified_shop):
    lead = _lead(notified_shop)
    message = _new_lead_message(lead)
    assert outbox_deliver_now(message.pk) == "sent"
    first = mail.outbox[0].extra_headers["Message-ID"]
    # A worker sent the letter, then was killed before it could mark the row: the row is
    # left `sending` with that worker's lease.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING,
        lease_token="killed-worker",
        lease_until=timezone.now() + outbox_lease(),
    )
    assert outbox_deliver_now(message.pk) == "skipped"  # the lease still runs

    expired_at = _expire_lease(message)

    assert outbox_due(now=expired_at + dt.timedelta(seconds=1)) == [message.pk]
    assert outbox_deliver_now(message.pk) == "sent"
    assert len(mail.outbox) == 2  # at least once: the copy is honest about being one
    assert mail.outbox[1].extra_headers["Message-ID"] == first
    message.refresh_from_db()
    assert (message.status, message.attempts, message.lease_until) == (
        OutboxStatus.SENT,
        2,
        None,
    )


def test_failed_attempt_releases_the_lease_and_backs_off(shop):
    register_handler(TEST_KIND)(lambda message: (_ for _ in ()).throw(OSError("421 busy")))
    try:
        message = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="busy", payload={})
        assert outbox_deliver_now(message.pk) == "failed"
    finally:
        HANDLERS.pop(TEST_KIND, None)
    message.refresh_from_db()
    assert (message.status, message.lease_until, message.attempts) == (
        OutboxStatus.PENDING,
        None,
        1,
    )
    assert message.next_attempt_at > timezone.now() + dt.timedelta(seconds=25)
    assert message.last_error == "OSError: 421 busy"


def test_worker_that_lost_its_lease_does_not_mark_the_new_owners_row(shop, during_send):
    calls, action = during_send
    message = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="slow", payload={})

    def lease_taken_over(claimed: OutboxMessage) -> None:
        # While this worker was slow, its lease ran out and another worker claimed the row.
        OutboxMessage.objects.filter(pk=claimed.pk).update(lease_token="new-owner")

    action["run"] = lease_taken_over
    assert outbox_deliver_now(message.pk) == "sent"

    message.refresh_from_db()
    assert (message.status, message.lease_token) == (OutboxStatus.SENDING, "new-owner")
    assert len(calls) == 1


def test_message_is_sent_while_no_row_lock_is_held(second_connection):
    shop = ShopFactory()
    other = second_connection
    seen: list[str] = []

    def lock_from_another_worker(message: OutboxMessage) -> None:
        with other.cursor() as cursor:  # NOWAIT: raises at once if the sender holds the lock
            cursor.execute(
                "SELECT status FROM autoservice_outboxmessage WHERE id = %s FOR UPDATE NOWAIT",
                [message.pk],
            )
            seen.append(cursor.fetchone()[0])
        other.rollback()

    register_handler(TEST_KIND)(lock_from_another_worker)
    try:
        message = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="unlocked", payload={})
        # Whatever the on-commit delivery did, deliver it once more from a clean state.
        OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING)
        seen.clear()
        assert outbox_deliver_now(message.pk) == "sent"
    finally:
        HANDLERS.pop(TEST_KIND, None)
    assert seen == [OutboxStatus.SENDING]


def test_delivery_is_recorded_once_on_the_timeline(notified_shop):
    lead = _lead(notified_shop)
    message = _new_lead_message(lead)

    assert outbox_deliver_now(message.pk) == "sent"
    assert outbox_deliver_now(message.pk) == "skipped"

    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.NOTIFIED).count() == 1


# --- the backlog -----------------------------------------------------------------------


def test_backlog_counts_undelivered_rows_and_the_oldest_age(shop, other_shop, settings):
    settings.OUTBOX_ALERT_SECONDS = 300
    now = timezone.now()
    old = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="old", payload={})
    claimed = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="claimed", payload={})
    sent = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="sent", payload={})
    failed = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="failed", payload={})
    outbox_put(shop=other_shop, kind=TEST_KIND, dedupe_key="elsewhere", payload={})
    OutboxMessage.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(minutes=7))
    OutboxMessage.objects.filter(pk=claimed.pk).update(status=OutboxStatus.SENDING)
    OutboxMessage.objects.filter(pk=sent.pk).update(
        status=OutboxStatus.SENT, created_at=now - dt.timedelta(hours=2)
    )
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED)

    backlog = outbox_backlog(shop=shop, now=now)

    assert backlog.undelivered == 2
    assert 419 <= backlog.oldest_age_seconds <= 421
    assert backlog.oldest_age_minutes == 7
    assert backlog.failed_recently == 1
    assert backlog.delayed
    assert outbox_backlog(now=now).undelivered == 3  # every shop
    assert not outbox_backlog(shop=other_shop, now=now).delayed


def test_backlog_is_not_delayed_below_the_threshold_or_when_empty(shop, settings):
    settings.OUTBOX_ALERT_SECONDS = 300
    empty = outbox_backlog(shop=shop)
    assert (empty.undelivered, empty.oldest_age_seconds, empty.delayed) == (0, None, False)

    message = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="young", payload={})
    assert not outbox_backlog(shop=shop, now=message.created_at + dt.timedelta(seconds=299)).delayed
    assert outbox_backlog(shop=shop, now=message.created_at + dt.timedelta(seconds=301)).delayed


def test_staff_see_a_banner_only_while_their_shops_notifications_are_delayed(
    advisor_client, shop, other_shop, settings
):
    settings.OUTBOX_ALERT_SECONDS = 60
    page = advisor_client.get("/staff/leads/")
    assert b'data-banner="notifications-delayed"' not in page.content

    theirs = outbox_put(shop=other_shop, kind=TEST_KIND, dedupe_key="theirs", payload={})
    OutboxMessage.objects.filter(pk=theirs.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    page = advisor_client.get("/staff/leads/")
    assert b'data-banner="notifications-delayed"' not in page.content  # not this shop's

    ours = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="ours", payload={})
    OutboxMessage.objects.filter(pk=ours.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    page = advisor_client.get("/staff/leads/").content.decode()
    assert 'data-banner="notifications-delayed"' in page
    assert "Не доставлено уведомлений: 1, самое давнее ждёт 10 мин." in page

    OutboxMessage.objects.filter(pk=ours.pk).update(status=OutboxStatus.SENT)
    page = advisor_client.get("/staff/leads/")
    assert b'data-banner="notifications-delayed"' not in page.content


def test_manager_is_sent_to_settings_when_notifications_failed_for_good(manager_client, shop):
    failed = outbox_put(shop=shop, kind=TEST_KIND, dedupe_key="bounced", payload={})
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED)

    page = manager_client.get("/staff/leads/").content.decode()

    assert 'data-banner="notifications-failed"' in page
    assert "Уведомлений, не доставленных за неделю после всех попыток: 1." in page
    assert 'href="/staff/settings/"' in page
