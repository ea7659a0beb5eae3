"""The shop's stream of change hints (Server-Sent Events), served by the events process.

`GET /events/shop/` under uvicorn (Procfile `events`): staff only, the stream of their own
shop (there is no way to ask for another's), ids and event types only. Served by runserver or
gunicorn (WSGI) it answers 204 at once: a stream would hold a sync worker for ever, and a 204
tells the browser's EventSource to stop, so the page keeps polling.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import push
from .models import Membership

log = logging.getLogger(__name__)

# How long the browser waits before reconnecting after the stream ends.
RETRY_MS = 2000


@sync_to_async
def _membership(user_id: int) -> Membership | None:
    """The user's membership while they are active staff of an active shop, else None.

    Then the database connection is closed: under ASGI each request's sync code has a thread
    (and so a connection) of its own, and an open stream would otherwise hold one for hours:
    200 open inboxes would be 200 PostgreSQL connections."""
    try:
        return (
            Membership.objects.select_related("shop")
            .filter(user_id=user_id, user__is_active=True, shop__is_active=True)
            .first()
        )
    finally:
        connection.close()


@never_cache
@require_GET
async def shop_stream(request: HttpRequest) -> HttpResponse:
    if not isinstance(request, ASGIRequest) or not push.push_enabled():
        return HttpResponse(status=204)
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=403)
    membership = await _membership(user.pk)
    if membership is None:
        return HttpResponse(status=403)
    client = push.hub.counter_client()
    try:
        connection_id = await push.connection_open(client, user.pk)
        if connection_id is None:
            # EventSource gives up on a 429; the page polls, as with no stream at all.
            return HttpResponse(status=429)
        queue = await push.hub.subscribe(membership.shop_id)
    except (redis.RedisError, OSError) as exc:
        log.warning("push: stream refused, Redis unavailable: %s", exc)
        return HttpResponse(status=503)
    response = StreamingHttpResponse(
        _events(user_id=user.pk, shop_id=membership.shop_id, queue=queue, conn=connection_id),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache, no-store"
    # nginx must pass every event on as it comes, not fill a buffer first.
    response["X-Accel-Buffering"] = "no"
    return response


async def _events(
    *, user_id: int, shop_id: int, queue: asyncio.Queue, conn: str
) -> AsyncIterator[str]:
    heartbeat = settings.EVENTS_HEARTBEAT_SECONDS
    client = push.hub.counter_client()
    checked_at = time.monotonic()
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        while True:
            try:
                data = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except TimeoutError:
                data = None
            if data is push.CLOSED:
                return
            # Rights are looked at again while the stream is open: a member removed from
            # the team or deactivated stops hearing at the next heartbeat.
            if time.monotonic() - checked_at >= heartbeat:
                member = await _membership(user_id)
                if member is None or member.shop_id != shop_id:
                    return
                checked_at = time.monotonic()
                try:
                    await push.connection_alive(client, user_id, conn)
                except (redis.RedisError, OSError):
                    return  # the page reconnects, or polls while Redis is away
            if data is None:
                yield ": heartbeat\n\n"
                continue
            payload = json.loads(data)
            yield f"id: {payload['id']}\ndata: {json.dumps(payload)}\n\n"
    finally:
        await push.hub.unsubscribe(shop_id, queue)
        try:
            await push.connection_close(client, user_id, conn)
        except (redis.RedisError, OSError):
            pass  # the entry expires by itself after three heartbeats
