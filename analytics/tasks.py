from celery import shared_task


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def refresh_facts() -> int:
    """Beat, every 10 minutes: each shop's analytics rollups follow what changed."""
    from .services import facts_refresh_all

    return facts_refresh_all()


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=240)
def weekly_summary() -> int:
    """Beat, Monday morning: each shop's managers get last week's key figures by e-mail
    (through the outbox: once per shop and week, whatever happens to the worker)."""
    from .notifications import weekly_summaries_queue

    return weekly_summaries_queue()
