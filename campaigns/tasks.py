from celery import shared_task


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=580)
def send_due_reminders() -> int:
    """Beat, hourly: each shop's reminders once its local morning has come
    (CAMPAIGN_REMINDER_HOUR); a reminder already sent is never written again."""
    from .services import reminders_send_all

    return reminders_send_all()
