from celery import shared_task

from .services import sms_status_poll as _poll


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=280)
def sms_status_poll() -> int:
    """Beat: delivery reports of SMS accepted by the gateways."""
    return _poll()
