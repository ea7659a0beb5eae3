"""Reads: what each campaign (or reminder rule) brought."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from optima.models import OfferStatus, OfferVersion

from .models import Campaign, CampaignMessage, CampaignResponse, MessageStatus, ReminderRule

SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED)


@dataclass(frozen=True)
class Figures:
    messages: int  # written (queued to the SMS outbox or e-mail)
    sent: int  # accepted by the SMS gateway, or the e-mail went out
    delivered: int
    clicked: int
    leads: int
    accepted: int
    accepted_rub: Decimal


def _figures(messages_by: str, ids: list[int]) -> dict[int, Figures]:
    if not ids:
        return {}
    rows = (
        CampaignMessage.objects.filter(**{f"{messages_by}__in": ids})
        .values(messages_by)
        .annotate(
            messages=Count("pk"),
            sent=Count("pk", filter=Q(status__in=SENT) | Q(email_sent_at__isnull=False)),
            delivered=Count("pk", filter=Q(status=MessageStatus.DELIVERED)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        )
    )
    leads = dict(
        CampaignResponse.objects.filter(**{f"{messages_by}__in": ids})
        .values(messages_by)
        .annotate(n=Count("pk"))
        .values_list(messages_by, "n")
    )
    # Offers the drivers accepted on the leads the messages brought, with their sums.
    accepted: dict[int, tuple[int, Decimal]] = {}
    path = f"offer__lead__campaign_response__{messages_by}"
    offers = (
        OfferVersion.objects.filter(status=OfferStatus.ACCEPTED, **{f"{path}__in": ids})
        .values(path)
        .annotate(n=Count("offer", distinct=True), rub=Sum("accepted_total_rub"))
    )
    for row in offers:
        accepted[row[path]] = (row["n"], row["rub"] or Decimal("0"))
    out = {}
    for row in rows:
        key = row[messages_by]
        n, rub = accepted.get(key, (0, Decimal("0")))
        out[key] = Figures(
            messages=row["messages"],
            sent=row["sent"],
            delivered=row["delivered"],
            clicked=row["clicked"],
            leads=leads.get(key, 0),
            accepted=n,
            accepted_rub=rub,
        )
    return out


def campaign_figures(campaigns: Iterable[Campaign]) -> dict[int, Figures]:
    return _figures("campaign", [c.pk for c in campaigns])


def rule_figures(rules: Iterable[ReminderRule]) -> dict[int, Figures]:
    return _figures("rule", [r.pk for r in rules])
