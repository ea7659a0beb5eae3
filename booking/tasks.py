from celery import shared_task


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def remind_bookings() -> int:
    """Celery beat: the reminder e-mails for visits starting within a day."""
    from .services import bookings_remind

    return bookings_remind()
