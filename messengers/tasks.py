"""Celery tasks of the messengers (each with its own time limits, see autoservice.tasks)."""

from celery import shared_task


# Well below the beat interval: a poll never overlaps the next one for long.
@shared_task(ignore_result=True, time_limit=50, soft_time_limit=40)
def messengers_poll() -> int:
    from .services import bots_poll

    return bots_poll()
