from celery import shared_task


@shared_task(
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=45,
)
def process_photo(photo_id: int) -> None:
    """Renditions of one photo; safe to run twice (the files are simply made again)."""
    from .photos import photo_process

    photo_process(photo_id)


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def escalate_overdue_leads() -> int:
    from .services import leads_escalate_overdue

    return leads_escalate_overdue()


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=50)
def process_stuck_photos() -> int:
    """Beat, every minute: photos whose processing was never queued (the broker was down
    when they arrived) or never finished (the worker died) are queued again."""
    from .photos import photos_requeue_stuck

    return photos_requeue_stuck()


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def purge_abandoned_uploads() -> int:
    """Retention: photos of forms never sent are deleted after a day."""
    from .photos import photos_purge_abandoned

    return photos_purge_abandoned()
