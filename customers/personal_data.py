"""Personal data the customer base holds: the person (name, e-mail, consents), their phones,
their cars (VIN, plate) and their timeline. Registered with autoservice's registry in
CustomersConfig.ready().

A customer found by the subject's phone or e-mail goes whole, with every customer merged
into it (one person). The retention run takes the customers whose every request it erases.
The requests themselves stay for the shop's figures (leads' provider blanks them); their
link to the deleted customer and car is cleared by the foreign keys.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from autoservice.personal_data import ErasureReport, Found, Scope, export_row

from .models import Car, Customer, CustomerEvent, CustomerPhone

CUSTOMERS = ("customers", _("клиенты"))
PHONES = ("customer_phones", _("телефоны клиентов"))
CARS = ("customer_cars", _("автомобили клиентов"))
EVENTS = ("customer_events", _("записи истории клиентов"))
LABEL = "customers.Customer"


def _with_merged(shop: Shop, ids: set[int]) -> set[int]:
    """The customers merged into these and those these were merged into: one person."""
    found = set(ids)
    frontier = set(ids)
    while frontier:
        more = set(
            Customer.objects.filter(shop=shop)
            .filter(Q(merged_into__in=frontier) | Q(merged_from__in=frontier))
            .values_list("pk", flat=True)
        )
        frontier = more - found
        found |= frontier
    return found


class CustomersProvider:
    name = "customers"
    # Rows of the apps above hang on the customer (campaign messages cascade with it): they
    # count and erase their own first.
    erase_after_others = True

    def collect(self, scope: Scope) -> None:
        if scope.is_retention:
            return  # decided in erase(), once the leads' provider has said which requests go
        match = Q()
        if scope.phones:
            match |= Q(phones__phone__in=scope.phones)
        for value in scope.emails:
            match |= Q(email__iexact=value)
        if not (scope.phones or scope.emails):
            return
        ids = set(
            Customer.objects.filter(shop=scope.shop).filter(match).values_list("pk", flat=True)
        )
        scope.add(LABEL, _with_merged(scope.shop, ids))

    def _retention_ids(self, scope: Scope) -> set[int]:
        """Customers none of whose requests outlive this run."""
        erased = scope.ids("leads.Lead")
        if not erased:
            return set()
        touched = set(
            Customer.objects.filter(shop=scope.shop, leads__pk__in=erased).values_list(
                "pk", flat=True
            )
        )
        # Lead rows through the reverse relation: this app sits below leads.
        leads = Customer.leads.rel.related_model._default_manager
        keep = leads.filter(customer_id__in=touched).exclude(pk__in=erased)
        keep = keep.values_list("customer_id", flat=True)
        ids = touched - set(keep)
        return _with_merged(scope.shop, ids) if ids else set()

    def _customers(self, scope: Scope):
        return Customer.objects.filter(shop=scope.shop, pk__in=scope.ids(LABEL))

    def find(self, scope: Scope) -> list[Found]:
        customers = list(self._customers(scope).order_by("pk"))
        phones = CustomerPhone.objects.filter(customer__in=customers).order_by("pk")
        cars = Car.objects.filter(customer__in=customers).order_by("pk")
        events = CustomerEvent.objects.filter(customer__in=customers).order_by("created_at", "pk")
        return [
            Found(
                *CUSTOMERS,
                [
                    export_row(
                        c,
                        [
                            "name",
                            "email",
                            "preferred_channel",
                            "marketing_consent_at",
                            "marketing_consent_source",
                            "marketing_withdrawn_at",
                            "created_at",
                            "last_seen_at",
                        ],
                        customer_id=c.pk,
                    )
                    for c in customers
                ],
            ),
            Found(
                *PHONES,
                [export_row(p, ["phone", "is_primary"], customer_id=p.customer_id) for p in phones],
            ),
            Found(
                *CARS,
                [
                    export_row(
                        car,
                        ["make", "model", "generation", "year", "vin", "plate", "mileage_km"],
                        customer_id=car.customer_id,
                    )
                    for car in cars
                ],
            ),
            Found(
                *EVENTS,
                [
                    export_row(e, ["kind", "text", "created_at"], customer_id=e.customer_id)
                    for e in events
                ],
            ),
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        if scope.is_retention:
            scope.add(LABEL, self._retention_ids(scope))
        ids = scope.ids(LABEL)
        if not ids:
            return
        customers = Customer.objects.filter(shop=scope.shop, pk__in=ids)
        report.count(*PHONES, CustomerPhone.objects.filter(customer__in=customers).count())
        report.count(*CARS, Car.objects.filter(customer__in=customers).count())
        report.count(*EVENTS, CustomerEvent.objects.filter(customer__in=customers).count())
        # Another customer's timeline that names this one (a dismissed duplicate) forgets it.
        mentions = CustomerEvent.objects.filter(
            customer__shop=scope.shop, data__other__in=list(ids)
        ).exclude(customer__in=customers)
        report.count(*EVENTS, mentions.update(text="", data={}))
        # Deleting the rows takes their phones, cars, timelines and duplicate proposals; the
        # requests keep their figures, their link to the person is cleared.
        deleted = customers.count()
        customers.delete()
        report.count(*CUSTOMERS, deleted)

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        # A customer is processed only through their requests and acts, which their own
        # providers report; the customer row by itself keeps no phone alive.
        return set()
