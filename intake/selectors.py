"""Reads of intake records for other apps (the REST API)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from autoservice.models import Shop

from .export import record_json, record_queryset
from .models import Addendum, IntakeRecord


def records_for_api(shop: Shop) -> QuerySet[IntakeRecord]:
    """The shop's records with everything their JSON needs, in a fixed number of queries."""
    return record_queryset().filter(shop=shop)


def records_updated_since(
    queryset: QuerySet[IntakeRecord], since: dt.datetime
) -> QuerySet[IntakeRecord]:
    """Records made, sealed, returned or given an addendum since `since` (as the old API)."""
    return queryset.filter(
        Q(created_at__gte=since)
        | Q(sealed_at__gte=since)
        | Q(return_record__created_at__gte=since)
        | Exists(Addendum.objects.filter(record=OuterRef("pk"), created_at__gte=since))
    )


def record_as_json(record: IntakeRecord) -> dict:
    """A record as the CRM sees it (documented in intake/API.md)."""
    return record_json(record)
