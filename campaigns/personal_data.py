"""Personal data in the messages to customers: the phone, the e-mail and the text (it names
the driver and the car). Exported with the person's data; erased by deleting the messages, so
their links (landing, unsubscribe) answer 404 from then on. The requests they brought are
leads and are erased with the leads. The retention run deletes messages that brought no
request once the shop's period for requests that never became a job has passed."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from autoservice.personal_data import ErasureReport, Found, Scope, export_row

from .models import CampaignMessage

MESSAGES = ("campaign_messages", _("рекламные сообщения и напоминания"))
LABEL = "campaigns.CampaignMessage"


class CampaignsProvider:
    name = "campaigns"

    def collect(self, scope: Scope) -> None:
        messages = CampaignMessage.objects.filter(shop=scope.shop)
        if scope.is_retention:
            before = scope.now - dt.timedelta(days=round(scope.policy.lost_lead_months * 30.44))
            messages = messages.filter(created_at__lt=before, response__isnull=True)
        else:
            if not (scope.phones or scope.emails):
                return
            match = Q(phone__in=scope.phones) if scope.phones else Q(pk__in=[])
            for email in scope.emails:
                match |= Q(email__iexact=email)
            messages = messages.filter(match)
        scope.add(LABEL, messages.values_list("pk", flat=True))

    def _messages(self, scope: Scope):
        return CampaignMessage.objects.filter(shop=scope.shop, pk__in=scope.ids(LABEL))

    def find(self, scope: Scope) -> list[Found]:
        rows = self._messages(scope).select_related("campaign", "rule").order_by("pk")
        return [
            Found(
                *MESSAGES,
                [
                    export_row(
                        m,
                        ["phone", "email", "text", "status", "created_at", "clicked_at"],
                        campaign=m.campaign.name if m.campaign_id else None,
                        reminder=m.rule.name if m.rule_id else None,
                    )
                    for m in rows
                ],
            )
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        _total, by_model = self._messages(scope).delete()
        report.count(*MESSAGES, by_model.get(LABEL, 0))

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        return set()
