"""A driver's request through the one service both driver forms use: everything in one
transaction, one lead per form however often and however simultaneously it is sent, and
the limits per address and per phone."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from autoservice.consent import consent_text_current
from autoservice.models import ConsentRecord, OutboxMessage
from leads.models import Channel, EventKind, Lead, LeadEvent, LeadPhoto
from leads.services import (
    DRIVER_LEADS_PER_HOUR_PER_ADDRESS,
    DRIVER_LEADS_PER_HOUR_PER_PHONE,
    NOTIFY_NEW_LEAD,
    DriverRequestLimited,
    LeadInput,
    driver_request_submit,
    lead_create,
    photo_upload_store,
)
from tests.concurrency import restore_reference_data, run_together
from tests.factories import ShopFactory
from tests.photos import jpeg_bytes

IP = "203.0.113.7"
BROWSER = "Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile"


class Attach:
    """Stands for the calculator's estimate: records every lead it was called for."""

    def __init__(self) -> None:
        self.leads: list[Lead] = []

    def __call__(self, lead: Lead) -> str:
        self.leads.append(lead)
        return f"estimate of {lead.number}"


def _submit(
    shop,
    *,
    key: uuid.UUID | None = None,
    upload_token: str = "",
    phone: str = "+79161112233",
    ip: str | None = IP,
    channel: str = Channel.CALCULATOR,
    attach=None,
    now: dt.datetime | None = None,
):
    return driver_request_submit(
        shop=shop,
        channel=channel,
        contact=LeadInput(customer_name="Ирина", phone=phone, vehicle_make="Hyundai"),
        consent_text=consent_text_current(shop),
        submission_key=key or uuid.uuid4(),
        upload_token=upload_token or uuid.uuid4().hex,
        ip=ip,
        user_agent=BROWSER,
        attach=attach,
        now=now,
    )


def _photo(shop, upload_token: str, seed: int = 0) -> LeadPhoto:
    return photo_upload_store(
        shop=shop,
        upload_token=upload_token,
        client_id=uuid.uuid4(),
        filename=f"IMG_{seed}.jpg",
        chunks=[jpeg_bytes((320, 240), seed=seed)],
    )


# --- one request, written whole ----------------------------------------------------------


def test_request_writes_consent_lead_photos_timeline_and_notification_together(db):
    shop = ShopFactory(notification_emails="master@example.ru")
    upload_token = uuid.uuid4().hex
    photos = [_photo(shop, upload_token, seed) for seed in (1, 100)]
    attach = Attach()

    sent = _submit(shop, upload_token=upload_token, attach=attach)

    lead = sent.lead
    assert sent.created and sent.attached == f"estimate of {lead.number}"
    assert attach.leads == [lead]
    assert lead.channel == Channel.CALCULATOR and lead.phone == "+79161112233"
    consent = lead.consent
    assert consent.text == consent_text_current(shop)
    assert (consent.ip_address, consent.user_agent) == (IP, BROWSER)
    assert consent.accepted_at == lead.created_at
    assert sorted(lead.photos.values_list("pk", flat=True)) == sorted(p.pk for p in photos)
    created = LeadEvent.objects.get(lead=lead, kind=EventKind.CREATED)
    assert created.data["photos"] == 2
    assert OutboxMessage.objects.filter(kind=NOTIFY_NEW_LEAD, payload__lead_id=lead.pk).exists()


def test_a_failure_while_attaching_leaves_nothing_half_written(db):
    shop = ShopFactory(notification_emails="master@example.ru")
    upload_token = uuid.uuid4().hex
    photo = _photo(shop, upload_token)

    def broken_attach(lead):
        raise RuntimeError("the estimate could not be saved")

    with pytest.raises(RuntimeError):
        _submit(shop, upload_token=upload_token, attach=broken_attach)

    assert not Lead.objects.filter(shop=shop).exists()
    assert not ConsentRecord.objects.filter(shop=shop).exists()
    assert not OutboxMessage.objects.filter(shop=shop).exists()
    photo.refresh_from_db()
    assert photo.lead is None  # still waiting: the driver sends again and it goes along


def test_the_same_file_sent_twice_is_attached_once(db):
    shop = ShopFactory()
    upload_token = uuid.uuid4().hex
    first = _photo(shop, upload_token, seed=3)
    _photo(shop, upload_token, seed=3)  # the plain form posted its files a second time
    other = _photo(shop, upload_token, seed=100)

    lead = _submit(shop, upload_token=upload_token).lead

    assert sorted(lead.photos.values_list("pk", flat=True)) == sorted([first.pk, other.pk])


def test_only_driver_channels_go_through_the_drivers_service(db):
    with pytest.raises(ValueError):
        _submit(ShopFactory(), channel=Channel.PHONE)


# --- the same form sent again ------------------------------------------------------------


def test_form_sent_twice_returns_the_first_lead_and_attaches_nothing_more(db):
    shop = ShopFactory(notification_emails="master@example.ru")
    key = uuid.uuid4()
    attach = Attach()

    first = _submit(shop, key=key, attach=attach)
    again = _submit(shop, key=key, attach=attach)

    assert first.created and not again.created
    assert again.lead == first.lead and again.attached is None
    assert attach.leads == [first.lead]  # the estimate is made once
    assert Lead.objects.filter(shop=shop).count() == 1
    assert ConsentRecord.objects.filter(shop=shop).count() == 1
    assert OutboxMessage.objects.filter(shop=shop).count() == 1


def test_form_already_sent_is_never_refused_by_the_limits(db):
    shop = ShopFactory()
    now = timezone.now()
    for _n in range(DRIVER_LEADS_PER_HOUR_PER_PHONE - 1):
        _submit(shop, now=now - dt.timedelta(minutes=10))
    key = uuid.uuid4()
    last = _submit(shop, key=key, now=now)  # the request that reaches the limit

    again = _submit(shop, key=key, now=now + dt.timedelta(seconds=5))  # its retry

    assert again.lead == last.lead and not again.created
    with pytest.raises(DriverRequestLimited):
        _submit(shop, now=now + dt.timedelta(seconds=5))  # a new one is over the limit


def test_same_key_in_another_shop_is_another_request(db):
    key = uuid.uuid4()
    shop, other_shop = ShopFactory(), ShopFactory()

    mine = _submit(shop, key=key)
    theirs = _submit(other_shop, key=key)

    assert theirs.created and theirs.lead != mine.lead and theirs.lead.shop == other_shop


# --- limits -------------------------------------------------------------------------------


def test_address_limit_counts_every_driver_channel_and_says_when_to_come_back(db):
    shop = ShopFactory(phone="+74951234567")
    now = timezone.now()
    started = now - dt.timedelta(minutes=38)
    for n in range(DRIVER_LEADS_PER_HOUR_PER_ADDRESS):
        channel = Channel.PHOTO if n % 2 else Channel.CALCULATOR
        _submit(shop, phone=f"+7916{n:07d}", channel=channel, now=started)

    with pytest.raises(DriverRequestLimited) as limited:
        _submit(shop, phone="+79169999999", now=now)

    # The oldest of the 30 leaves the hour 22 minutes from now.
    assert limited.value.retry_after_s == 22 * 60
    assert "через 22 мин." in limited.value.message
    assert "адреса" in limited.value.message and "+74951234567" in limited.value.message
    assert Lead.objects.filter(shop=shop).count() == DRIVER_LEADS_PER_HOUR_PER_ADDRESS
    assert ConsentRecord.objects.filter(shop=shop).count() == DRIVER_LEADS_PER_HOUR_PER_ADDRESS
    # Another address, and the same address an hour after the first requests, are welcome.
    assert _submit(shop, phone="+79169999999", ip="198.51.100.1", now=now).created
    later = started + dt.timedelta(hours=1, seconds=1)
    assert _submit(shop, phone="+79169999998", now=later).created


def test_phone_limit_applies_from_any_address_and_frees_as_the_hour_slides(db):
    shop = ShopFactory()
    now = timezone.now()
    for minutes_ago in (50, 40, 30, 20, 10):
        _submit(shop, ip=f"198.51.100.{minutes_ago}", now=now - dt.timedelta(minutes=minutes_ago))

    with pytest.raises(DriverRequestLimited) as limited:
        _submit(shop, ip="192.0.2.1", now=now)

    assert limited.value.retry_after_s == 10 * 60  # when the one of 50 minutes ago expires
    assert "через 10 мин." in limited.value.message and "номера" in limited.value.message
    assert _submit(shop, ip="192.0.2.1", now=now + dt.timedelta(minutes=10)).created


def test_retry_after_is_rounded_up_to_the_minute_it_names(db):
    shop = ShopFactory()
    now = timezone.now()
    for _n in range(DRIVER_LEADS_PER_HOUR_PER_PHONE):
        _submit(shop, now=now - dt.timedelta(minutes=59, seconds=30))

    with pytest.raises(DriverRequestLimited) as limited:
        _submit(shop, now=now)

    assert limited.value.retry_after_s == 60 and "через 1 мин." in limited.value.message


def test_limits_are_per_shop_and_ignore_requests_taken_by_staff(db):
    shop, other_shop = ShopFactory(), ShopFactory()
    now = timezone.now()
    for _n in range(DRIVER_LEADS_PER_HOUR_PER_PHONE):
        _submit(other_shop, now=now)
        lead_create(
            shop=shop,
            channel=Channel.PHONE,
            data=LeadInput(customer_name="Ирина", phone="+79161112233"),
        )

    assert _submit(shop, now=now).created


# --- simultaneous sends (several web workers, committed data) ----------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_eight_simultaneous_sends_of_one_form_make_one_lead():
    restore_reference_data()
    shop = ShopFactory(notification_emails="master@example.ru")
    key, upload_token = uuid.uuid4(), uuid.uuid4().hex
    photo = _photo(shop, upload_token)
    attach = Attach()

    results = run_together(
        8, lambda _i: _submit(shop, key=key, upload_token=upload_token, attach=attach)
    )

    lead = Lead.objects.get(shop=shop)
    assert [r.lead.pk for r in results] == [lead.pk] * 8
    assert sum(r.created for r in results) == 1
    assert [a.pk for a in attach.leads] == [lead.pk]
    assert list(lead.photos.values_list("pk", flat=True)) == [photo.pk]
    assert ConsentRecord.objects.filter(shop=shop).count() == 1
    assert OutboxMessage.objects.filter(shop=shop).count() == 1


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_lead_committed_by_another_writer_while_ours_is_written_is_returned_not_raised():
    """The race the unique key decides: another writer (one that takes no shop lock) has
    inserted a lead with this key but not committed when we look, so we go on, and our
    insert waits on the unique index until it commits. The constraint fires; the driver
    must get that lead, not a server error, and nothing of ours may stay."""
    restore_reference_data()
    shop = ShopFactory(notification_emails="master@example.ru")
    key = uuid.uuid4()
    inserted, may_commit = threading.Event(), threading.Event()
    attach = Attach()

    def other_writer() -> Lead:
        try:
            with transaction.atomic():
                lead = Lead.objects.create(
                    shop=shop,
                    number=1000,
                    submission_key=key,
                    channel=Channel.CALCULATOR,
                    customer_name="Ирина",
                    phone="+79161112233",
                )
                inserted.set()
                assert may_commit.wait(30)
            return lead
        finally:
            connections.close_all()

    def ours():
        try:
            return _submit(shop, key=key, attach=attach)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        theirs = pool.submit(other_writer)
        assert inserted.wait(10)
        mine = pool.submit(ours)
        deadline = time.monotonic() + 15
        while not _someone_waits_for_a_row_lock():
            assert not mine.done(), f"ours finished without meeting the other lead: {mine.result()}"
            assert time.monotonic() < deadline, "ours never reached the unique index"
            time.sleep(0.02)
        may_commit.set()
        their_lead = theirs.result(timeout=30)
        result = mine.result(timeout=30)

    assert result.lead.pk == their_lead.pk and not result.created
    assert Lead.objects.filter(shop=shop).count() == 1
    assert attach.leads == []  # our insert failed before the estimate was made
    # Our consent, lead, timeline and notification were undone with our savepoint.
    assert not ConsentRecord.objects.filter(shop=shop).exists()
    assert not LeadEvent.objects.filter(lead__shop=shop).exists()
    assert not OutboxMessage.objects.filter(shop=shop).exists()
