"""The e-mail to the shop's managers when an endpoint is switched off (through the outbox)."""

from django.conf import settings
from django.urls import reverse

from autoservice.mail import send_templated
from autoservice.models import OutboxMessage
from autoservice.outbox import register_handler
from autoservice.services import shop_managers

from .models import WebhookEndpoint
from .services import NOTIFY_DISABLED


@register_handler(NOTIFY_DISABLED)
def send_endpoint_disabled(message: OutboxMessage) -> None:
    endpoint = WebhookEndpoint.objects.select_related("shop").get(
        pk=message.payload["endpoint_id"], shop_id=message.shop_id
    )
    emails = sorted({m.user.email for m in shop_managers(endpoint.shop) if m.user.email})
    if not emails:
        return
    send_templated(
        template="webhooks/email/endpoint_disabled",
        context={
            "endpoint": endpoint,
            "shop": endpoint.shop,
            "page_url": settings.SITE_URL
            + reverse("webhooks:endpoint", kwargs={"endpoint_id": endpoint.pk}),
        },
        shop=endpoint.shop,
        to=emails,
        message_id=f"webhook-disabled-{message.pk}",
    )
