"""autoservice's own holders of personal data: consent records and outbox messages."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from .models import ConsentRecord, OutboxMessage, Shop
from .personal_data import ErasureReport, Found, Scope, active_phones, export_row

CONSENTS = "consents"
OUTBOX = "outbox"
CONSENT_LABEL = _("согласия на обработку персональных данных")
OUTBOX_LABEL = _("исходящие сообщения")


def _years_before(moment: dt.datetime, years: int) -> dt.datetime:
    return moment - dt.timedelta(days=365 * years + years // 4)


class OwnProvider:
    name = "autoservice"

    def collect(self, scope: Scope) -> None:
        consents = ConsentRecord.objects.filter(shop=scope.shop)
        if scope.is_retention:
            # Evidence of consent (and the IP and browser it was given from) is kept while the
            # shop processes the person's data and then for the claim period (ГК РФ ст. 196).
            since = _years_before(scope.now, scope.policy.claim_period_years)
            still = active_phones(scope.shop, since)
            expired = (
                consents.filter(accepted_at__lt=since)
                .exclude(subject_phone__in=still)
                .filter(Q(ip_address__isnull=False) | ~Q(subject_phone="") | ~Q(user_agent=""))
            )
            scope.add("autoservice.ConsentRecord", expired.values_list("pk", flat=True))
        elif scope.phones:
            scope.add(
                "autoservice.ConsentRecord",
                consents.filter(subject_phone__in=scope.phones).values_list("pk", flat=True),
            )
        if scope.phones or scope.emails:
            text = OutboxMessage.objects.filter(shop=scope.shop).annotate(
                body=Cast("payload", TextField())
            )
            match = Q()
            for value in [*scope.phones, *scope.emails]:
                match |= Q(body__icontains=value)
            scope.add("autoservice.OutboxMessage", text.filter(match).values_list("pk", flat=True))

    def _consents(self, scope: Scope):
        return ConsentRecord.objects.filter(
            shop=scope.shop, pk__in=scope.ids("autoservice.ConsentRecord")
        ).select_related("text")

    def _outbox(self, scope: Scope):
        return OutboxMessage.objects.filter(
            shop=scope.shop, pk__in=scope.ids("autoservice.OutboxMessage")
        )

    def find(self, scope: Scope) -> list[Found]:
        consents = [
            export_row(
                c,
                ["subject_name", "subject_phone", "accepted_at", "ip_address", "user_agent"],
                withdrawn_at=c.withdrawn_at,
                text_title=c.text.title,
                text_version=c.text.version,
                text_body=c.text.body,
            )
            for c in self._consents(scope)
        ]
        outbox = [
            export_row(m, ["kind", "payload", "status", "created_at", "sent_at"])
            for m in self._outbox(scope)
        ]
        return [
            Found(CONSENTS, CONSENT_LABEL, consents),
            Found(OUTBOX, OUTBOX_LABEL, outbox),
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        # The record itself stays (requests and acts cite it, and it shows that consent
        # existed); who gave it and from where is destroyed.
        erased = self._consents(scope).update(
            subject_name="", subject_phone="", ip_address=None, user_agent=""
        )
        report.count(CONSENTS, CONSENT_LABEL, erased)
        deleted = self._outbox(scope).delete()[0]
        report.count(OUTBOX, OUTBOX_LABEL, deleted)

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        return set(
            ConsentRecord.objects.filter(shop=shop, accepted_at__gte=since)
            .exclude(subject_phone="")
            .values_list("subject_phone", flat=True)
        )
