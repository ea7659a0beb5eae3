"""Customers made directly as rows (the matching that makes them from requests is tested
with the customers services): a person with phones and cars, and their requests."""

from __future__ import annotations

from customers.models import Car, Customer, CustomerPhone
from tests.factories import LeadFactory


def make_customer(
    shop,
    *,
    name: str = "Ольга Смирнова",
    phones: tuple[str, ...] = ("+79161234567",),
    cars: tuple[dict, ...] = ({"make": "Kia", "model": "Rio", "year": 2017, "plate": "А123ВС77"},),
    **fields,
) -> Customer:
    customer = Customer.objects.create(shop=shop, name=name, **fields)
    for n, phone in enumerate(phones):
        CustomerPhone.objects.create(shop=shop, customer=customer, phone=phone, is_primary=n == 0)
    for car in cars:
        Car.objects.create(shop=shop, customer=customer, **car)
    return customer


def lead_of(customer: Customer, *, car: Car | None = None, **fields):
    """A request of this customer (from their primary phone, about their first car)."""
    car = car or customer.cars.first()
    phone = customer.phones.order_by("-is_primary", "id").first().phone
    return LeadFactory(
        shop=customer.shop,
        customer=customer,
        car=car,
        customer_name=customer.name,
        phone=phone,
        vehicle_make=car.make if car else "Kia",
        vehicle_model=car.model if car else "Rio",
        plate=car.plate if car else "",
        **fields,
    )
