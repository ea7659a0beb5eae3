from celery import shared_task

from .services import bookings_remind


@shared_task(name="booking.remind")
def booking_remind() -> int:
    """Celery beat: the reminder e-mails for tomorrow's visits."""
    return bookings_remind()
