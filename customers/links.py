"""The driver's own page by private link, and the short-lived key that lets the photo form
fill itself in from that page.

Apps above (leads, optima, intake, booking, sms) put `driver_page_url(customer)` beside the
withdrawal link in every message to the driver. The photo form reads
`prefill_read(token)`: the key is signed and expires, and carries ids only, never the phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from autoservice.phones import format_phone

from .models import Car, Customer

PREFILL_SALT = "customers.prefill"
PREFILL_MAX_AGE_S = 2 * 3600


def driver_page_path(customer: Customer) -> str:
    return reverse("customers:driver_page", args=[customer.page_token])


def driver_page_url(customer: Customer | None) -> str:
    """The absolute link for a message; "" when there is no customer to link."""
    if customer is None:
        return ""
    return settings.SITE_URL + driver_page_path(customer)


def driver_page_url_for(obj: object) -> str:
    """The link for anything that names a customer (a lead: `lead.customer`)."""
    return driver_page_url(getattr(obj, "customer", None))


def prefill_token(customer: Customer, car: Car | None = None) -> str:
    return signing.dumps(
        {"c": customer.pk, "car": car.pk if car else None, "s": customer.shop_id},
        salt=PREFILL_SALT,
        compress=True,
    )


@dataclass(frozen=True)
class Prefill:
    customer: Customer
    car: Car | None
    phone: str

    def initial(self) -> dict:
        """Initial values of the driver's contact form."""
        data = {"customer_name": self.customer.name, "phone": format_phone(self.phone)}
        if self.customer.email:
            data["email"] = self.customer.email
        # The form offers call / WhatsApp / Telegram: the customer's channel when it is one.
        if self.customer.preferred_channel in ("call", "whatsapp", "telegram"):
            data["preferred_contact"] = self.customer.preferred_channel
        if self.car is not None:
            data.update(
                vehicle_make=self.car.make,
                vehicle_model=self.car.model,
                vehicle_year=self.car.year,
                plate=self.car.plate,
            )
        return data


def prefill_read(token: str, *, shop_id: int) -> Prefill | None:
    """The customer (and car) a valid, unexpired key of this shop names; None otherwise."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=PREFILL_SALT, max_age=PREFILL_MAX_AGE_S)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != shop_id:
        return None
    customer = (
        Customer.objects.filter(pk=data.get("c"), shop_id=shop_id, merged_into__isnull=True)
        .prefetch_related("phones")
        .first()
    )
    if customer is None:
        return None
    phones = list(customer.phones.all())
    if not phones:
        return None
    car = customer.cars.filter(pk=data.get("car")).first() if data.get("car") else None
    return Prefill(customer=customer, car=car, phone=phones[0].phone)
