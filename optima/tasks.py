from celery import shared_task


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def run_search(search_id: int) -> None:
    """One fan-out to all suppliers; idempotent (answers already saved are not asked again)."""
    from .services import search_run

    search_run(search_id)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def recheck_offer(version_id: int) -> None:
    """After the driver accepts: are the chosen parts still in stock at that price?"""
    from .offers import offer_recheck

    offer_recheck(version_id)


# The longest task of the project: the broker's visibility_timeout (settings) is above it.
@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def refresh_pricelists() -> dict:
    """Beat, nightly: price lists that suppliers publish at a URL."""
    from .services import pricelists_refresh

    return pricelists_refresh()


@shared_task(ignore_result=True, time_limit=90, soft_time_limit=75)
def place_supplier_orders(order_ids: list[int]) -> None:
    """After the advisor confirms: every supplier's order at once. Idempotent."""
    from .ordering import orders_place

    orders_place(order_ids)


@shared_task(ignore_result=True, time_limit=150, soft_time_limit=120)
def poll_supplier_orders() -> dict:
    """Beat: orders waiting to be placed, then the state of every open order."""
    from .ordering import orders_poll

    return orders_poll()


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def refresh_live_prices() -> dict:
    """Beat, daily: the suppliers' prices of the catalogue's OEM numbers for the shops that
    show supplier prices to drivers, within each supplier's daily quota."""
    from .live_prices import live_prices_refresh

    return live_prices_refresh()
