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


@shared_task(ignore_result=True, time_limit=120)
def escalate_overdue_leads() -> int:
    from .services import leads_escalate_overdue

    return leads_escalate_overdue()


@shared_task(ignore_result=True, time_limit=600)
def purge_abandoned_uploads() -> int:
    """Retention: photos of forms never sent are deleted after a day; stuck ones retried."""
    from .photos import _enqueue_processing, photos_pending_processing, photos_purge_abandoned

    for photo_id in photos_pending_processing():
        _enqueue_processing(photo_id)
    return photos_purge_abandoned()
