"""Live push to the staff pages: a hint over Server-Sent Events that something changed.

The row in the database is the truth; the stream only says "lead 42 changed" so that an open
inbox or lead page fetches the row at once instead of at its next poll. Nothing personal goes
through it: ids and event types only; the page then asks the normal, permission-checked views
for the HTML. A hint that gets lost costs nothing but time: on every (re)connect the page
fetches what is new through the poll endpoint, and without a stream it keeps polling.

Publishing: every shop event (autoservice.events) is published to the shop's Redis channel
after its transaction commits (`transaction.on_commit`), so a rolled-back change is never
told, and a Redis outage never fails the change (the publish is logged and dropped).

Listening: the events process (uvicorn, ASGI) keeps one Redis subscription per process and
fans each message out to the open streams of that shop (`hub`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from functools import partial

import redis
import redis.asyncio as aredis
from django.conf import settings
from django.db import transaction

from .events import ShopEvent, event_listen

log = logging.getLogger(__name__)

# What a stream forwards: the changes an inbox row or a lead page shows.
PUSHED_EVENTS = frozenset(
    {
        "lead.created",
        "lead.status_changed",
        "lead.assigned",
        "estimate.created",
        "estimate.revised",
        "offer.sent",
        "offer.accepted",
        "intake.sealed",
    }
)
# Said when the hub loses Redis: the stream ends and the page reconnects (and refetches).
CLOSED = object()


def push_enabled() -> bool:
    """A stream exists only with Redis (the fan-out) and a URL to reach it; the embedded
    default (`make run`: SQLite, no Redis, runserver) polls as before."""
    return bool(settings.REDIS_URL and settings.EVENTS_URL_PREFIX)


def stream_url() -> str:
    """The URL an open staff page connects to, or "" when the page should only poll."""
    if not push_enabled():
        return ""
    return settings.EVENTS_URL_PREFIX.rstrip("/") + "/shop/"


def shop_channel(shop_id: int) -> str:
    """Pub/sub ignores Redis's database numbers: the channel names the database of REDIS_URL,
    so two installations sharing one Redis on different databases never hear each other."""
    database = (settings.REDIS_URL or "").rsplit("/", 1)[-1].split("?")[0]
    return f"push:{database if database.isdigit() else 0}:shop:{shop_id}"


def event_payload(event: ShopEvent) -> dict:
    """Ids and the type only: no name, phone, plate or amount leaves through the stream."""
    return {"id": event.id, "type": event.type, "lead": event.lead_id}


# --- publishing (any process that changes data: web, workers) ---------------------------

_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _clients[url]


def push_publish(*, shop_id: int, payload: dict) -> bool:
    """Publish now; False (logged) when Redis does not answer: the row is saved anyway and
    the open pages find it at their next fetch."""
    if not push_enabled():
        return False
    try:
        _redis().publish(shop_channel(shop_id), json.dumps(payload))
    except redis.RedisError as exc:
        log.warning("push: shop %s event %s not published: %s", shop_id, payload["id"], exc)
        return False
    return True


@event_listen("push")
def push_on_commit(event: ShopEvent) -> None:
    """Publish the event once its transaction has committed (never for a rollback)."""
    if event.type not in PUSHED_EVENTS or not push_enabled():
        return
    transaction.on_commit(
        partial(push_publish, shop_id=event.shop.pk, payload=event_payload(event))
    )


# --- listening (the events process) ----------------------------------------------------


class Hub:
    """One Redis subscription per process, fanned out to the open streams of each shop.

    200 open inboxes cost 200 idle sockets and queues here, and one Redis connection."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._client: aredis.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None
        self._queues: dict[str, set[asyncio.Queue]] = {}
        self._counter: aredis.Redis | None = None
        self._counter_url: str | None = None

    def counter_client(self) -> aredis.Redis:
        """A client of this process for short commands (the per-user connection count)."""
        if self._counter is None or self._counter_url != settings.REDIS_URL:
            self._counter_url = settings.REDIS_URL
            # A bounded pool: a burst of connecting pages waits its turn instead of opening
            # a Redis connection each.
            pool = aredis.BlockingConnectionPool.from_url(
                self._counter_url,
                max_connections=4,
                timeout=5,
                socket_connect_timeout=2,
                socket_timeout=2,
            )
            self._counter = aredis.Redis(connection_pool=pool)
        return self._counter

    def _lock_for_loop(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def subscribe(self, shop_id: int) -> asyncio.Queue:
        """A queue that receives the shop's payloads (and CLOSED if Redis goes away).
        Raises redis.RedisError when Redis cannot be reached."""
        channel = shop_channel(shop_id)
        async with self._lock_for_loop():
            if self._reader is None or self._reader.done() or self._url != settings.REDIS_URL:
                await self._reset()
                self._url = settings.REDIS_URL
                self._client = aredis.Redis.from_url(
                    self._url, socket_connect_timeout=2, health_check_interval=30
                )
                self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            queue: asyncio.Queue = asyncio.Queue(maxsize=200)
            if channel not in self._queues:
                await self._pubsub.subscribe(channel)
                self._queues[channel] = set()
            self._queues[channel].add(queue)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())
            return queue

    async def unsubscribe(self, shop_id: int, queue: asyncio.Queue) -> None:
        channel = shop_channel(shop_id)
        async with self._lock_for_loop():
            queues = self._queues.get(channel)
            if queues is None:
                return
            queues.discard(queue)
            if not queues:
                del self._queues[channel]
                try:
                    await self._pubsub.unsubscribe(channel)
                except (redis.RedisError, AttributeError, OSError):
                    pass  # the reader notices a dead connection and resets the hub

    async def _read(self) -> None:
        try:
            while True:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
                if message is None or message.get("type") != "message":
                    continue
                channel = message["channel"].decode()
                for queue in list(self._queues.get(channel, ())):
                    try:
                        queue.put_nowait(message["data"].decode())
                    except asyncio.QueueFull:
                        # A stream that cannot keep up gets closed; its page reconnects and
                        # refetches, which is cheaper than buffering without limit.
                        self._close(queue)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure: every stream reconnects
            log.warning("push: Redis subscription lost: %s", exc)
            for queues in list(self._queues.values()):
                for queue in list(queues):
                    self._close(queue)
            self._queues.clear()

    @staticmethod
    def _close(queue: asyncio.Queue) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(CLOSED)

    async def _reset(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        self._reader = None
        for closable in (self._pubsub, self._client):
            if closable is not None:
                try:
                    await closable.aclose()
                except Exception:  # noqa: BLE001, S110 - closing a dead connection
                    pass
        self._pubsub = self._client = None
        self._queues.clear()


hub = Hub()


# --- how many streams one person may hold open ------------------------------------------


def _connections_key(user_id: int) -> str:
    return f"push:conns:{user_id}"


async def connection_open(client: aredis.Redis, user_id: int) -> str | None:
    """Register a stream of this user; None when they already hold the allowed number.

    Each stream refreshes its entry at every heartbeat; an entry older than three heartbeats
    belongs to a process that died, and no longer counts."""
    key = _connections_key(user_id)
    now = time.time()
    stale_before = now - 3 * settings.EVENTS_HEARTBEAT_SECONDS
    await client.zremrangebyscore(key, 0, stale_before)
    if await client.zcard(key) >= settings.EVENTS_MAX_PER_USER:
        return None
    connection_id = uuid.uuid4().hex
    await client.zadd(key, {connection_id: now})
    await client.expire(key, 3 * settings.EVENTS_HEARTBEAT_SECONDS + 60)
    return connection_id


async def connection_alive(client: aredis.Redis, user_id: int, connection_id: str) -> None:
    key = _connections_key(user_id)
    await client.zadd(key, {connection_id: time.time()})
    await client.expire(key, 3 * settings.EVENTS_HEARTBEAT_SECONDS + 60)


async def connection_close(client: aredis.Redis, user_id: int, connection_id: str) -> None:
    await client.zrem(_connections_key(user_id), connection_id)
