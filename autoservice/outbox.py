"""The outbox: notifications and outgoing events that are never lost and never sent twice.

An app registers a handler per message kind (in its AppConfig.ready) and calls
`outbox_put` inside the transaction that causes the message. After commit the message is
queued for Celery; when the broker is down the periodic `outbox_dispatch` finds it later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage, OutboxStatus, Shop

log = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]
HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 12
# A message younger than this is still on its way through on_commit: the dispatcher
# leaves it alone so that a healthy broker never sees it twice.
DISPATCH_GRACE = dt.timedelta(seconds=20)


def register_handler(kind: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return decorator


def outbox_put(*, shop: Shop, kind: str, dedupe_key: str, payload: dict) -> OutboxMessage:
    """Write a message in the caller's transaction and queue it once that commits."""
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"shop": shop, "kind": kind, "payload": payload}
    )
    if created:
        transaction.on_commit(lambda: outbox_enqueue(message.pk))
    return message


def outbox_enqueue(message_id: int) -> bool:
    """Hand a message to Celery; a broker outage is logged, the dispatcher retries later."""
    from .tasks import outbox_deliver

    try:
        outbox_deliver.delay(message_id)
    except Exception as exc:  # any broker error: the row stays pending, nothing is lost
        log.warning("outbox %s not queued (%s); the dispatcher will retry", message_id, exc)
        return False
    return True


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def outbox_deliver_now(message_id: int) -> str:
    """Deliver one message under a row lock. Safe to call any number of times."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxStatus.PENDING)
            .first()
        )
        if message is None:
            return "skipped"  # already sent, failed for good, or another worker has it
        handler = HANDLERS.get(message.kind)
        try:
            if handler is None:
                raise LookupError(f"no outbox handler for {message.kind!r}")
            with transaction.atomic():
                handler(message)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            message.next_attempt_at = timezone.now() + _backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            log.warning("outbox %s attempt %s failed: %s", message.pk, message.attempts, exc)
            return "failed"
        message.status = OutboxStatus.SENT
        message.sent_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "sent_at", "attempts"])
        return "sent"


def outbox_due(now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        OutboxMessage.objects.filter(
            status=OutboxStatus.PENDING,
            next_attempt_at__lte=now,
            created_at__lte=now - DISPATCH_GRACE,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_dispatch(now: dt.datetime | None = None) -> int:
    """Queue every due message again; returns how many were handed to the broker."""
    queued = 0
    for message_id in outbox_due(now):
        if not outbox_enqueue(message_id):
            break  # the broker is still down: try again on the next beat
        queued += 1
    return queued
