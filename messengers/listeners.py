"""Shop events and lead escalations become outbox rows, in the cause's transaction."""

from autoservice import events
from autoservice.events import ShopEvent, event_listen
from leads.models import Lead
from leads.services import ESCALATION_LISTENERS

from . import services

BOOKING_ACTIONS = {
    events.BOOKING_CREATED: "created",
    events.BOOKING_MOVED: "moved",
    events.BOOKING_CANCELLED: "cancelled",
}


@event_listen("messengers")
def notify_staff(event: ShopEvent) -> None:
    if event.type == events.LEAD_CREATED:
        services.notify_new_lead(shop=event.shop, lead_id=event.data["lead_id"])
    elif event.type == events.OFFER_ACCEPTED:
        services.notify_offer_accepted(
            shop=event.shop,
            lead_id=event.data["lead_id"],
            offer_id=event.data["offer_id"],
            version=event.data["version"],
            total=event.data.get("accepted_total_rub") or "",
        )
    elif event.type in BOOKING_ACTIONS:
        services.notify_booking(
            shop=event.shop,
            lead_id=event.data["lead_id"],
            event_id=event.id,
            data=event.data,
            action=BOOKING_ACTIONS[event.type],
        )


def notify_managers_of_escalation(lead: Lead) -> None:
    services.notify_escalation(shop=lead.shop, lead_id=lead.pk)


if notify_managers_of_escalation not in ESCALATION_LISTENERS:
    ESCALATION_LISTENERS.append(notify_managers_of_escalation)
