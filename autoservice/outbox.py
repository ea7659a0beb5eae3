"""The outbox: notifications and outgoing events that are never lost.

An app registers a handler per message kind (in its AppConfig.ready) and calls
`outbox_put` inside the transaction that causes the message. After commit the message is
queued for Celery; when the broker is down, or the worker holding it dies, the periodic
`outbox_dispatch` (Celery beat) queues it again.

The guarantee is at least once, and it is honest about the one gap: a worker claims a row
(`sending`, with a lease) in its own short transaction, sends outside any row lock, then
marks the row `sent`. A worker killed between the receiver accepting a message and that mark
leaves the row `sending`; when the lease runs out it is sent again with the same message id
(`Message-ID` for e-mail), which is how the receiving side recognises the copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from .consent import consent_withdrawn
from .models import OutboxMessage, OutboxStatus, Shop

log = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]
HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 12
# A message younger than this is still on its way through on_commit: the dispatcher
# leaves it alone so that a healthy broker does not get it twice.
DISPATCH_GRACE = dt.timedelta(seconds=20)
UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# A receiver's wait up to this long is honoured by a delayed task; a longer one by the
# dispatcher (a worker holds a delayed task in memory until it is due).
SHORT_WAIT_SECONDS = 120


def outbox_lease() -> dt.timedelta:
    """How long a claimed row belongs to its worker; longer than the delivery task's hard
    time limit, so that a slow but living worker is never doubled."""
    return dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


class OutboxParked(Exception):  # noqa: N818 - a state, not an error
    """Raised by a handler when the receiver refused our credentials: the message is kept
    (status `parked`), not retried and not counted as an attempt, until `outbox_release`.

    `then` runs after the handler's transaction rolled back: the place to record, for the
    manager, why it was parked (a write inside the handler would be rolled back with it).
    """

    def __init__(self, reason: str, *, then: Callable[[], None] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.then = then


def register_handler(kind: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return decorator


def outbox_put(
    *, shop: Shop, kind: str, dedupe_key: str, payload: dict, subject_phone: str = ""
) -> OutboxMessage | None:
    """Write a message in the caller's transaction and queue it once that commits.

    `subject_phone` names the driver a message goes to: when that person has withdrawn
    consent to the processing of their data, nothing is written and None is returned.
    """
    if subject_phone and consent_withdrawn(shop=shop, phone=subject_phone):
        log.info("outbox %s not written: the recipient withdrew consent", dedupe_key)
        return None
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={"shop": shop, "kind": kind, "payload": payload, "subject_phone": subject_phone},
    )
    if created:
        transaction.on_commit(lambda: outbox_enqueue(message.pk))
    return message


def outbox_enqueue(message_id: int, *, countdown: float | None = None) -> bool:
    """Hand a message to Celery; a broker outage is logged, the dispatcher retries later."""
    from .tasks import outbox_deliver

    try:
        if countdown is None:
            outbox_deliver.delay(message_id)
        else:
            outbox_deliver.apply_async((message_id,), countdown=countdown)
    except Exception as exc:  # any broker error: the row stays pending, nothing is lost
        log.warning("outbox %s not queued (%s); the dispatcher will retry", message_id, exc)
        return False
    return True


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _claimable(now: dt.datetime) -> Q:
    # A receiver that asked us to wait (`not_before`, e.g. a 429 with retry_after) is not
    # called again before then, by the dispatcher or by a late copy of the task.
    waited = Q(not_before__isnull=True) | Q(not_before__lte=now)
    return (Q(status=OutboxStatus.PENDING) & waited) | Q(
        status=OutboxStatus.SENDING, lease_until__lt=now
    )


def outbox_claim(message_id: int) -> OutboxMessage | None:
    """Take a pending row (or one whose worker's lease ran out) for this worker.

    The claim is its own short transaction: no lock is held while the message is sent.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), pk=message_id)
            .first()
        )
        if message is None:
            return None  # sent, failed for good, or another worker holds it
        message.status = OutboxStatus.SENDING
        message.lease_until = now + outbox_lease()
        message.lease_token = uuid.uuid4().hex
        message.attempts += 1
        message.save(update_fields=["status", "lease_until", "lease_token", "attempts"])
    return message


def outbox_deliver_now(message_id: int) -> str:
    """Deliver one message: "sent", "failed" (to be retried, or for good), or "skipped"
    when there is nothing to do. Safe to call any number of times, from any worker."""
    message = outbox_claim(message_id)
    if message is None:
        return "skipped"
    mine = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, lease_token=message.lease_token
    )
    if message.subject_phone and consent_withdrawn(
        shop=message.shop_id, phone=message.subject_phone
    ):
        # Withdrawn after the message was written: it is never sent.
        mine.update(status=OutboxStatus.CANCELLED, lease_until=None)
        return "cancelled"
    handler = HANDLERS.get(message.kind)
    try:
        if handler is None:
            raise LookupError(f"no outbox handler for {message.kind!r}")
        # The handler sends, then records the delivery (e.g. on the lead's timeline); that
        # record and the `sent` mark commit together.
        with transaction.atomic():
            handler(message)
            marked = mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), lease_until=None)
    except OutboxParked as parked:
        mine.update(
            status=OutboxStatus.PARKED,
            lease_until=None,
            attempts=F("attempts") - 1,
            last_error=parked.reason[:2000],
        )
        if parked.then is not None:
            parked.then()
        log.info("outbox %s parked: %s", message.pk, parked.reason)
        return "parked"
    except Exception as exc:  # the handler's error, whatever it is, is the attempt's outcome
        gave_up = message.attempts >= MAX_ATTEMPTS
        now = timezone.now()
        # A handler's error may carry the receiver's own wait (`retry_after_seconds`, a
        # 429's Retry-After): the row is not sent again before it is over.
        wait = getattr(exc, "retry_after_seconds", None)
        not_before = now + dt.timedelta(seconds=wait) if wait else None
        mine.update(
            status=OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING,
            lease_until=None,
            next_attempt_at=not_before or now + _backoff(message.attempts),
            not_before=not_before,
            last_error=f"{exc.__class__.__name__}: {exc}"[:2000],
        )
        log.warning("outbox %s attempt %s failed: %s", message.pk, message.attempts, exc)
        if not_before is not None and not gave_up and wait <= SHORT_WAIT_SECONDS:
            # A short wait is queued to end on time (the dispatcher would come much later);
            # a copy that fires early finds the row not claimable and leaves it.
            outbox_enqueue(message.pk, countdown=wait + 0.5)
        return "failed"
    if not marked:
        # Our lease ran out mid-send and another worker took the row: it may send a copy.
        log.warning("outbox %s was sent after its lease ran out", message.pk)
    return "sent"


def outbox_release(messages: models.QuerySet[OutboxMessage]) -> int:
    """Parked messages among `messages` go back to pending and are queued again, oldest
    first (the sender fixed what made the receiver refuse them)."""
    ids = list(
        messages.filter(status=OutboxStatus.PARKED).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        return 0
    OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.PARKED).update(
        status=OutboxStatus.PENDING, next_attempt_at=timezone.now()
    )

    def queue() -> None:
        for message_id in ids:
            outbox_enqueue(message_id)

    transaction.on_commit(queue)
    return len(ids)


def outbox_due(now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Rows to queue again: pending ones whose time has come (past the on_commit grace),
    and rows whose worker vanished (lease run out)."""
    now = now or timezone.now()
    return list(
        OutboxMessage.objects.filter(
            Q(
                status=OutboxStatus.PENDING,
                next_attempt_at__lte=now,
                created_at__lte=now - DISPATCH_GRACE,
            )
            | Q(status=OutboxStatus.SENDING, lease_until__lt=now)
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


@dataclass(frozen=True)
class Backlog:
    """What has not been delivered yet: for health checks, metrics and the staff banner."""

    undelivered: int
    oldest_age_seconds: float | None
    failed_recently: int

    @property
    def oldest_age_minutes(self) -> int:
        return int((self.oldest_age_seconds or 0) // 60)

    @property
    def delayed(self) -> bool:
        age = self.oldest_age_seconds
        return age is not None and age > settings.OUTBOX_ALERT_SECONDS


def outbox_backlog(*, shop: Shop | None = None, now: dt.datetime | None = None) -> Backlog:
    """One query: undelivered rows and the age of the oldest, plus rows given up on in the
    last week (those need a person: the address is wrong or the server refuses)."""
    now = now or timezone.now()
    rows = OutboxMessage.objects.all() if shop is None else OutboxMessage.objects.filter(shop=shop)
    undelivered = Q(status__in=UNDELIVERED)
    failed = Q(status=OutboxStatus.FAILED, created_at__gte=now - dt.timedelta(days=7))
    figures = rows.filter(undelivered | failed).aggregate(
        undelivered=Count("pk", filter=undelivered),
        oldest=Min("created_at", filter=undelivered),
        failed=Count("pk", filter=failed),
    )
    oldest = figures["oldest"]
    return Backlog(
        undelivered=figures["undelivered"],
        oldest_age_seconds=None if oldest is None else max((now - oldest).total_seconds(), 0.0),
        failed_recently=figures["failed"],
    )


def outbox_cancel_for_subject(*, shop: Shop, phone: str) -> int:
    """Messages to this driver not yet sent are cancelled (they withdrew consent)."""
    return OutboxMessage.objects.filter(
        shop=shop, subject_phone=phone, status=OutboxStatus.PENDING
    ).update(status=OutboxStatus.CANCELLED, lease_until=None)
