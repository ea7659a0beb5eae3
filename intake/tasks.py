from celery import shared_task


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=240)
def seal_digest_daily() -> int:
    """Beat, every morning: each shop's managers get the current head of its chain of seals
    by e-mail (through the outbox), a copy of it outside the database."""
    from .services import seal_digests_queue

    return seal_digests_queue()
