"""The shop events listener: writes deliveries in the event's transaction, never calls out."""

from autoservice.events import ShopEvent, event_listen

from .services import deliveries_record


@event_listen("webhooks")
def record_webhook_deliveries(event: ShopEvent) -> None:
    deliveries_record(event)
