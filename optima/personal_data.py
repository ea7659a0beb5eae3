"""Personal data in parts offers: the offers of an erased request, the driver's acceptance
(address and browser it came from) and questions. PDFs are not stored."""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from autoservice.personal_data import ErasureReport, Found, Scope, export_row, outbox_collect_for

from .models import CustomerOffer, OfferVersion

OFFERS = ("offers", _("предложения по запчастям"))
VERSIONS = ("offer_versions", _("версии предложений и согласия клиента"))


class OptimaProvider:
    name = "optima"

    def collect(self, scope: Scope) -> None:
        lead_ids = scope.ids("leads.Lead")
        if lead_ids:
            offers = CustomerOffer.objects.filter(shop=scope.shop, lead_id__in=lead_ids)
            scope.add("optima.CustomerOffer", offers.values_list("pk", flat=True))
            versions = OfferVersion.objects.filter(offer__in=offers)
            outbox_collect_for(scope=scope, version_id=set(versions.values_list("pk", flat=True)))

    def _offers(self, scope: Scope):
        return CustomerOffer.objects.filter(
            shop=scope.shop, pk__in=scope.ids("optima.CustomerOffer")
        )

    def find(self, scope: Scope) -> list[Found]:
        offers = list(self._offers(scope).select_related("lead"))
        versions = OfferVersion.objects.filter(offer__in=offers).order_by("offer_id", "number")
        return [
            Found(
                *OFFERS,
                [export_row(o, ["created_at"], lead_number=o.lead.number) for o in offers],
            ),
            Found(
                *VERSIONS,
                [
                    export_row(
                        v,
                        [
                            "number",
                            "status",
                            "labour",
                            "positions",
                            "valid_until",
                            "sent_at",
                            "accepted_at",
                            "accepted_choice",
                            "accepted_total_rub",
                            "accepted_ip",
                            "accepted_user_agent",
                            "question",
                        ],
                        offer_id=v.offer_id,
                    )
                    for v in versions
                ],
            ),
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        offers = list(self._offers(scope))
        for offer in offers:
            offer.token = secrets.token_urlsafe(
                24
            )  # the driver's offer link answers 404 from now on
            offer.save(update_fields=["token"])
        report.count(*OFFERS, len(offers))
        versions = OfferVersion.objects.filter(offer__in=offers)
        report.count(
            *VERSIONS,
            versions.update(accepted_ip=None, accepted_user_agent="", question=""),
        )

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        return set()
