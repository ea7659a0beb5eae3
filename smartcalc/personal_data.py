"""Personal data in the calculator: the estimates of an erased request. They hold no name or
phone themselves, but they are the person's calculation: exported with the request, and their
public link dies with it. PDFs are rendered on request, never stored."""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from autoservice.personal_data import ErasureReport, Found, Scope, export_row

from .models import Estimate, EstimateVersion

ESTIMATES = ("estimates", _("расчёты стоимости ремонта"))
VERSIONS = ("estimate_versions", _("версии расчётов"))


class SmartcalcProvider:
    name = "smartcalc"

    def collect(self, scope: Scope) -> None:
        lead_ids = scope.ids("leads.Lead")
        if lead_ids:
            estimates = Estimate.objects.filter(shop=scope.shop, lead_id__in=lead_ids)
            scope.add("smartcalc.Estimate", estimates.values_list("pk", flat=True))

    def _estimates(self, scope: Scope):
        return Estimate.objects.filter(shop=scope.shop, pk__in=scope.ids("smartcalc.Estimate"))

    def find(self, scope: Scope) -> list[Found]:
        estimates = list(self._estimates(scope).select_related("lead"))
        versions = EstimateVersion.objects.filter(estimate__in=estimates).order_by(
            "estimate_id", "number"
        )
        return [
            Found(
                *ESTIMATES,
                [
                    export_row(
                        e,
                        ["body_type", "created_at"],
                        lead_number=e.lead.number if e.lead else None,
                    )
                    for e in estimates
                ],
            ),
            Found(
                *VERSIONS,
                [
                    export_row(
                        v,
                        ["number", "note", "inputs", "result", "total_rub", "created_at"],
                        estimate_id=v.estimate_id,
                    )
                    for v in versions
                ],
            ),
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        estimates = list(self._estimates(scope))
        for estimate in estimates:
            # A new token: the link the driver got answers 404 from now on.
            estimate.public_token = secrets.token_urlsafe(18)
            estimate.save(update_fields=["public_token"])
        report.count(*ESTIMATES, len(estimates))
        notes = EstimateVersion.objects.filter(estimate__in=estimates).exclude(note="")
        report.count(*VERSIONS, notes.update(note=""))

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        return set()
