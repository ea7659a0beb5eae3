"""Live push to open staff pages, on real processes: the Procfile's `events` process
(uvicorn, the ASGI app) with a redis-server of the test's own, streams read over HTTP as a
browser's EventSource reads them, and Debian's chromium for the inbox itself.

The promises: an event is published once its change commits, never for a rollback, and a
Redis outage does not fail the change; a stream tells only its own shop's staff, and only
while they are staff; what it carries is ids, never names or phones; one person holds a
bounded number of streams, freed when they disconnect. The browser side (a driver's lead in
an open inbox, the polling fallback) is tests/e2e/test_push_browser.py."""

from __future__ import annotations

import time

import pytest
import redis
from django.db import transaction
from django.urls import reverse

from autoservice import push
from leads import services
from leads.models import Lead
from tests.factories import MembershipFactory, ShopFactory, UserFactory
from tests.realstack import PUSH_HEARTBEAT_S, EventsServer, SseClient, wait_for

pytestmark = pytest.mark.timeout(90)


def _session(client, membership) -> str:
    client.force_login(membership.user)
    return client.cookies["sessionid"].value


def _lead(shop, name: str = "Анна Смирнова", phone: str = "+79161234567") -> Lead:
    data = services.LeadInput(customer_name=name, phone=phone, vehicle_make="Kia")
    lead, _created = services.lead_create(shop=shop, channel="photo", data=data)
    return lead


def _wait_open(stream: SseClient, push_events: EventsServer) -> None:
    wait_for(
        lambda: any(text == ": connected" for _at, text in stream.lines),
        seconds=10,
        what="the stream is open",
        context=push_events.log,
    )


# --- publishing ---------------------------------------------------------------------


def test_event_is_published_after_commit_and_never_for_a_rollback(
    db, settings, django_capture_on_commit_callbacks
):
    assert settings.REDIS_URL, "the tests run against this machine's Redis (REDIS_URL)"
    shop = ShopFactory()
    listener = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(push.shop_channel(shop.pk))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _lead(shop, name="Откат")
            raise RuntimeError("the form failed after the lead was written")
        lead = _lead(shop)
        assert _next_message(listener, 0.5) is None, "published before the commit"
    assert len(callbacks) == 1  # the rolled-back lead left nothing to publish
    message = _next_message(listener, 5)
    assert message is not None
    assert message.count('"lead.created"') == 1
    assert f'"lead": {lead.pk}' in message
    assert _next_message(listener, 0.5) is None, "the rolled-back lead was told too"
    listener.close()


def _next_message(listener, seconds: float) -> str | None:
    """The next published message within `seconds` (subscribe confirmations skipped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=max(0.0, deadline - time.monotonic()))
        if message is not None and message["type"] == "message":
            return message["data"].decode()
    return None


def test_lead_is_saved_when_redis_is_down(db, settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    shop = ShopFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead = _lead(shop)
    assert callbacks, "the publish ran (and failed quietly)"
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert push.push_publish(shop_id=shop.pk, payload={"id": "evt_x"}) is False


def test_pages_offer_a_stream_only_with_redis(advisor_client, settings):
    settings.REDIS_URL = None  # the embedded default (`make run`): the inbox only polls
    page = advisor_client.get(reverse("leads:inbox")).content.decode()
    assert "data-push-url" not in page and 'id="inbox-poller"' in page
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    page = advisor_client.get(reverse("leads:inbox")).content.decode()
    assert 'data-push-url="/events/shop/"' in page
    settings.EVENTS_URL_PREFIX = ""  # switched off by the operator
    page = advisor_client.get(reverse("leads:inbox")).content.decode()
    assert "data-push-url" not in page


def test_stream_under_wsgi_answers_204_so_the_page_polls(advisor_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    response = advisor_client.get("/events/shop/")
    assert response.status_code == 204


# --- the events process -------------------------------------------------------------


def test_stream_tells_own_shop_ids_only_and_other_shops_nothing(push_events, push_redis, client):
    shop, other = ShopFactory(), ShopFactory()
    advisor = MembershipFactory(shop=shop)
    mine = SseClient(push_events.port, _session(client, advisor))
    theirs = SseClient(push_events.port, _session(client, MembershipFactory(shop=other)))
    try:
        assert mine.status == theirs.status == 200, push_events.log()
        assert mine.response.getheader("Content-Type").startswith("text/event-stream")
        assert mine.response.getheader("X-Accel-Buffering") == "no"
        _wait_open(mine, push_events)
        _wait_open(theirs, push_events)
        lead = _lead(shop)
        services.lead_change_status(lead=lead, status="in_progress", by=None)
        wait_for(lambda: len(mine.events()) >= 2, seconds=10, what="two events", context=mine.raw)
        assert [(e["type"], e["lead"]) for e in mine.events()] == [
            ("lead.created", lead.pk),
            ("lead.status_changed", lead.pk),
        ]
        # Ids and types only: no name, phone or car goes through the stream.
        assert {key for e in mine.events() for key in e} == {"id", "type", "lead"}
        assert "Анна" not in mine.raw() and "1234567" not in mine.raw()
        # The other shop's stream stays open (heartbeats) and hears nothing of it.
        seen = len(theirs.lines)
        wait_for(
            lambda: any(t == ": heartbeat" for _a, t in theirs.lines[seen:]),
            seconds=5,
            what="a heartbeat on the other shop's stream",
        )
        assert theirs.events() == []
        # Redis goes away: the streams end (the pages reconnect and refetch, or poll), and a
        # new stream is refused until it is back.
        push_redis.stop()
        assert mine.ended.wait(5) and theirs.ended.wait(5), push_events.log()
        assert SseClient(push_events.port, _session(client, advisor)).status == 503
    finally:
        mine.close()
        theirs.close()


def test_only_staff_get_a_stream_lose_it_when_removed_and_hold_two_at_most(
    push_events, push_redis, client
):
    shop = ShopFactory()
    assert SseClient(push_events.port, None).status == 403
    client.force_login(UserFactory())  # signed in, staff of no shop
    assert SseClient(push_events.port, client.cookies["sessionid"].value).status == 403

    advisor = MembershipFactory(shop=shop)
    stream = SseClient(push_events.port, _session(client, advisor))
    try:
        _wait_open(stream, push_events)
        advisor.user.is_active = False
        advisor.user.save()
        # Rights are looked at again at the next heartbeat: the stream ends.
        assert stream.ended.wait(PUSH_HEARTBEAT_S * 5), stream.raw()
        _lead(shop)
        assert stream.events() == []
    finally:
        stream.close()
    _limit_and_free(push_events, push_redis, client)


def _limit_and_free(push_events: EventsServer, push_redis, client) -> None:
    """One person holds at most EVENTS_MAX_PER_USER (2 here) streams; a closed one is freed."""
    advisor = MembershipFactory(shop=ShopFactory())
    session = _session(client, advisor)
    first, second = SseClient(push_events.port, session), SseClient(push_events.port, session)
    try:
        _wait_open(first, push_events)
        _wait_open(second, push_events)
        assert SseClient(push_events.port, session).status == 429  # the page polls
        first.close()
        # The server notices the closed connection and forgets it at once.
        key = f"push:conns:{advisor.user_id}"
        counts = redis.Redis.from_url(push_redis.url)
        wait_for(lambda: counts.zcard(key) == 1, seconds=5, what="the closed stream is freed")
        again = SseClient(push_events.port, session)
        assert again.status == 200
        again.close()
    finally:
        first.close()
        second.close()
