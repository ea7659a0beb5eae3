"""E-mails about supplier orders, delivered through the outbox: the order itself to a
price-list supplier (with an XLSX), and an alert to the shop when an order needs a person."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from autoservice.mail import send_templated
from autoservice.models import OutboxMessage
from autoservice.outbox import register_handler
from leads.models import EventKind
from leads.services import lead_event_add

from .ordering import NOTIFY_ORDER_ALERT, NOTIFY_ORDER_EMAIL, order_xlsx
from .ordering_models import SupplierOrder

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _order(message: OutboxMessage) -> SupplierOrder:
    return SupplierOrder.objects.select_related("shop", "supplier", "version__offer__lead").get(
        pk=message.payload["order_id"]
    )


@register_handler(NOTIFY_ORDER_EMAIL)
def send_order_to_supplier(message: OutboxMessage) -> None:
    order = _order(message)
    if not order.supplier.order_email:
        raise ValueError("the supplier has no order address")
    send_templated(
        template="optima/email/supplier_order",
        context={"order": order, "shop": order.shop, "lines": list(order.lines.all())},
        shop=order.shop,
        to=[order.supplier.order_email],
        message_id=f"supplier-order-{order.pk}",
        attachments=[(f"zakaz-{order.client_number}.xlsx", order_xlsx(order), XLSX)],
    )
    lead_event_add(
        lead=order.version.offer.lead,
        kind=EventKind.NOTIFIED,
        text=_("Заказ %(number)s отправлен поставщику «%(supplier)s» на %(to)s")
        % {
            "number": order.client_number,
            "supplier": order.supplier.name,
            "to": order.supplier.order_email,
        },
        supplier_order=order.pk,
    )


@register_handler(NOTIFY_ORDER_ALERT)
def tell_shop_about_the_order(message: OutboxMessage) -> None:
    order = _order(message)
    to = order.shop.notification_email_list
    if not to:
        return  # the timeline has it
    send_templated(
        template="optima/email/order_alert",
        context={
            "order": order,
            "lead": order.version.offer.lead,
            "text": message.payload["text"],
            "link": settings.SITE_URL + reverse("optima:order_detail", args=[order.pk]),
        },
        shop=order.shop,
        to=to,
        message_id=f"supplier-order-alert-{message.pk}",
    )
