"""Sending deliveries: claim, sign, post through the outbound policy, record, retry.

Each delivery row is its own small outbox: written in the event's transaction, queued to
Celery after commit, claimed by a worker with a lease in a short transaction of its own, sent
with no lock held, then recorded. Celery beat (`webhooks-dispatch`) queues what is due again:
retries whose time has come and rows whose worker vanished. Delivery is at least once; a copy
carries the same `webhook-id`, which is what the receiver deduplicates by.

Why not the shared notification outbox: a webhook is retried for more than a day (the
schedule of the Standard Webhooks specification), a shop's broken receiver must not make the
platform's health check fail or show every advisor the "notifications are late" banner, and
one lead's events must reach an endpoint in the order they happened.

Outcome of an attempt (https://github.com/standard-webhooks/standard-webhooks spec,
"Delivery success and failure"): 2xx is delivered; 410 Gone switches the endpoint off at once;
anything else (another status, a redirect, a timeout, a refused connection, an address the
outbound policy refuses) is retried after WEBHOOK_RETRY_DELAYS_SECONDS with ±10 % jitter; when
they are spent, the delivery has failed, the endpoint is switched off and the managers get an
e-mail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import logging
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.consent import consent_withdrawn
from autoservice.outbound import OutboundRefused, RefusalReason, outbound_request

from . import signing
from .models import OPEN_STATUSES, DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

EXCERPT_CHARS = 500
# A receiver's Retry-After is honoured up to a day.
MAX_RETRY_AFTER_S = 24 * 3600.0
MAX_ANSWER_BYTES = 1024 * 1024


def retry_delays() -> list[float]:
    return [float(s) for s in settings.WEBHOOK_RETRY_DELAYS_SECONDS]


def max_attempts() -> int:
    return len(retry_delays()) + 1


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt, with jitter so that many deliveries
    failed together do not all come back at the same second."""
    delays = retry_delays()
    base = delays[min(attempts, len(delays)) - 1]
    return dt.timedelta(seconds=base * random.uniform(0.9, 1.1))  # noqa: S311 - jitter only


@contextlib.contextmanager
def _bookkeeping() -> Iterator[None]:
    """A short transaction of the delivery's own records, committed without waiting for the
    disk (PostgreSQL's synchronous_commit off, for this transaction only). Safe because
    delivery is at least once: a claim lost in a database crash makes the row claimable
    again, a lost "delivered" mark makes it sent again with the same webhook-id; neither
    loses an event. It halves the cost of a delivery on a busy disk."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def _earlier_open() -> Exists:
    """An earlier delivery of the same subject to the same endpoint is not finished yet."""
    return Exists(
        WebhookDelivery.objects.filter(
            endpoint=OuterRef("endpoint"),
            subject=OuterRef("subject"),
            status__in=OPEN_STATUSES,
            pk__lt=OuterRef("pk"),
        )
    )


def _claimable(now: dt.datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now
    )


def delivery_enqueue(delivery_id: int) -> bool:
    """Hand a delivery to Celery; a broker outage is logged, beat queues it again later."""
    from .tasks import webhook_deliver

    try:
        webhook_deliver.delay(delivery_id)
    except Exception as exc:  # any broker error: the row stays pending, nothing is lost
        log.warning("webhook delivery %s not queued (%s); beat will retry", delivery_id, exc)
        return False
    return True


def delivery_enqueue_on_commit(delivery_id: int) -> None:
    transaction.on_commit(lambda: delivery_enqueue(delivery_id))


# One statement claims the row: due, its endpoint on, first in its line. A row another
# worker is claiming at the same moment is re-checked by PostgreSQL after that one commits
# (and no longer matches), so two workers never hold it together.
_CLAIM_SQL = """
UPDATE webhooks_webhookdelivery AS d
   SET status = 'sending', lease_until = %(lease_until)s, lease_token = %(token)s,
       attempts = d.attempts + 1, last_attempt_at = %(now)s
 WHERE d.id = %(id)s
   AND ((d.status = 'pending' AND d.next_attempt_at <= %(now)s)
        OR (d.status = 'sending' AND d.lease_until < %(now)s))
   AND EXISTS (SELECT 1 FROM webhooks_webhookendpoint AS e
                WHERE e.id = d.endpoint_id AND e.enabled)
   AND NOT EXISTS (SELECT 1 FROM webhooks_webhookdelivery AS p
                    WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject
                      AND p.status IN ('pending', 'sending') AND p.id < d.id)
"""


def delivery_claim(delivery_id: int, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Take a due delivery that is first in its line, for this worker, in a short
    transaction of its own. None: not due, finished, held by another worker, its endpoint
    is off, or an earlier delivery of the same subject is still open."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with _bookkeeping():
        with connection.cursor() as cursor:
            cursor.execute(
                _CLAIM_SQL,
                {"id": delivery_id, "now": now, "lease_until": now + _lease(), "token": token},
            )
            if cursor.rowcount != 1:
                return None
    return (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, lease_token=token)
        .first()
    )


def _consent_gone(delivery: WebhookDelivery) -> bool:
    if delivery.lead_id is None:
        return False
    from leads.models import Lead

    lead = Lead.objects.filter(pk=delivery.lead_id).only("phone", "consent_withdrawn_at").first()
    if lead is None:
        return False
    return lead.is_consent_withdrawn or consent_withdrawn(shop=delivery.shop_id, phone=lead.phone)


@dataclass(frozen=True)
class _Outcome:
    status: int | None  # None: no HTTP answer (refused, timed out, connection failed)
    excerpt: str = ""
    error: str = ""  # for people, in the delivery log
    retry_after_s: float | None = None  # the receiver's own Retry-After, in seconds


def _redirect_error(status: int | str) -> str:
    return _("Сервер перенаправляет запрос (%(status)s): укажите адрес, куда он ведёт.") % {
        "status": status
    }


def _retry_after(value: str) -> float | None:
    """Retry-After in seconds (the spec: honour it, e.g. on 429 and 503); the HTTP-date form
    and nonsense are ignored."""
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    return None


def _post(delivery: WebhookDelivery) -> _Outcome:
    """One signed POST of the delivery's frozen payload through the outbound policy."""
    endpoint = delivery.endpoint
    body = signing.body_bytes(delivery.payload)
    timestamp = int(time.time())
    headers = signing.headers(
        secrets=endpoint.signing_secrets(),
        msg_id=delivery.event_id,
        timestamp=timestamp,
        body=body,
    )
    try:
        answer = outbound_request(
            "POST",
            endpoint.url,
            headers=headers,
            body=body,
            timeout_s=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=MAX_ANSWER_BYTES,
            max_redirects=0,  # the spec: a redirect is a failure, the URL is to be updated
        )
    except OutboundRefused as refused:
        if refused.reason == RefusalReason.REDIRECTS:
            return _Outcome(None, error=_redirect_error("3xx"))
        return _Outcome(None, error=refused.message)
    except TimeoutError:
        return _Outcome(
            None, error=_("Сервер не ответил за %(s)s с.") % {"s": settings.WEBHOOK_TIMEOUT_SECONDS}
        )
    except (OSError, http.client.HTTPException) as exc:
        return _Outcome(None, error=_("Не удалось соединиться: %(error)s") % {"error": exc})
    excerpt = answer.body[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    error = _redirect_error(answer.status) if 300 <= answer.status < 400 else ""
    return _Outcome(answer.status, excerpt, error, _retry_after(answer.header("retry-after")))


def delivery_attempt(delivery_id: int) -> str:
    """Make one attempt if the delivery is due and first in its line. Returns what happened:
    "delivered", "retry", "failed", "cancelled" or "skipped". Safe to call any number of
    times, from any worker."""
    delivery = delivery_claim(delivery_id)
    if delivery is None:
        return "skipped"
    mine = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, lease_token=delivery.lease_token
    )
    if _consent_gone(delivery):
        mine.update(
            status=DeliveryStatus.CANCELLED,
            lease_until=None,
            last_error=_("Клиент отозвал согласие на обработку персональных данных."),
        )
        _enqueue_next(delivery)
        return "cancelled"
    outcome = _post(delivery)
    status, error = outcome.status, outcome.error
    now = timezone.now()
    recorded = {
        "lease_until": None,
        "last_status_code": status,
        "response_excerpt": outcome.excerpt,
        "last_error": error[:500],
    }
    if status is not None and 200 <= status < 300:
        with _bookkeeping():
            mine.update(status=DeliveryStatus.DELIVERED, delivered_at=now, **recorded)
        _enqueue_next(delivery)
        return "delivered"
    endpoint = delivery.endpoint
    if status == 410:
        _give_up(
            mine,
            recorded,
            endpoint,
            _("Сервер ответил 410 Gone: он больше не принимает события."),
        )
        return "failed"
    if delivery.attempts >= max_attempts():
        _give_up(
            mine,
            recorded,
            endpoint,
            _("Событие %(event)s не доставлено за %(n)s попыток: последняя ошибка — %(error)s")
            % {
                "event": delivery.event_id,
                "n": delivery.attempts,
                "error": error or _("код ответа %(status)s") % {"status": status},
            },
        )
        return "failed"
    with _bookkeeping():
        mine.update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now
            + max(
                retry_delay(delivery.attempts),
                dt.timedelta(seconds=outcome.retry_after_s or 0),
            ),
            **recorded,
        )
    log.info(
        "webhook delivery %s attempt %s failed (%s %s)",
        delivery.pk,
        delivery.attempts,
        status,
        error,
    )
    return "retry"


def _give_up(mine, recorded: dict, endpoint: WebhookEndpoint, reason: str) -> None:
    """The delivery failed for good: it, the endpoint switched off and the managers' e-mail
    commit together."""
    from .services import endpoint_disable

    with transaction.atomic():
        mine.update(status=DeliveryStatus.FAILED, **recorded)
        endpoint_disable(endpoint=endpoint, reason=reason, notify=True)


def _enqueue_next(delivery: WebhookDelivery) -> None:
    """The next delivery of the same subject to the same endpoint goes now, not at the next
    beat."""
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            subject=delivery.subject,
            status=DeliveryStatus.PENDING,
            pk__gt=delivery.pk,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        delivery_enqueue(following)


def deliveries_due(now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    """Deliveries to queue again: due, first in their line, endpoint on; and rows whose
    worker vanished (lease run out)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(_claimable(now), endpoint__enabled=True)
        .exclude(_earlier_open())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def deliveries_dispatch(now: dt.datetime | None = None) -> int:
    queued = 0
    for delivery_id in deliveries_due(now):
        if not delivery_enqueue(delivery_id):
            break  # the broker is still down: the next beat tries again
        queued += 1
    return queued


def deliveries_prune(now: dt.datetime | None = None) -> int:
    """The log keeps finished deliveries WEBHOOK_LOG_RETENTION_DAYS; open ones stay."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    deleted, _by_model = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status__in=OPEN_STATUSES)
    ).delete()
    return deleted
