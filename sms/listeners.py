"""The one-time code a driver asked for to open their own page again
(`customer.code_requested`): one SMS through the outbox, whatever the shop's other SMS."""

from __future__ import annotations

from django.utils.translation import gettext as _

from autoservice import events
from customers.codes import code_decrypt

from .models import Purpose, SmsSettings
from .services import _shop_line, sms_send


@events.event_listen("sms_codes")
def sms_on_code_requested(event: events.ShopEvent) -> None:
    """Writes the code's SMS row; never calls out. The text holds the code (it must); the
    event carried it encrypted."""
    if event.type != events.CUSTOMER_CODE_REQUESTED:
        return
    if not SmsSettings.objects.filter(shop=event.shop, enabled=True).exists():
        return
    code = code_decrypt(event.data["code_sealed"])
    text = _("%(shop)s: код для входа на вашу страницу: %(code)s. Никому его не сообщайте.") % {
        "shop": _shop_line(event.shop),
        "code": code,
    }
    sms_send(
        shop=event.shop,
        phone=event.data["phone"],
        text=text,
        purpose=Purpose.CODE,
        dedupe_key=f"code:{event.id}",
    )
