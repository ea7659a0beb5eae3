"""Celery tasks of the webhooks (each with its own time limits, see autoservice.tasks)."""

from celery import shared_task


# Below WEBHOOK_LEASE_SECONDS (a row is never taken from a living worker) and above the
# request's own limit (WEBHOOK_TIMEOUT_SECONDS), so a slow receiver is recorded as failed.
@shared_task(ignore_result=True, time_limit=45, soft_time_limit=35)
def webhook_deliver(delivery_id: int) -> str:
    from .delivery import delivery_attempt

    return delivery_attempt(delivery_id)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=20)
def webhooks_dispatch() -> int:
    from .delivery import deliveries_dispatch

    return deliveries_dispatch()


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=240)
def webhooks_prune() -> int:
    from .delivery import deliveries_prune

    return deliveries_prune()
