"""The advisors' list of calculator estimates shows the newest first."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from smartcalc.models import Estimate
from tests.factories import EstimateFactory


def test_estimates_list_shows_the_newest_first(advisor_client, shop):
    older = EstimateFactory(shop=shop)
    newer = EstimateFactory(shop=shop)
    Estimate.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    Estimate.objects.filter(pk=newer.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    response = advisor_client.get(reverse("smartcalc:estimate_list"))
    assert [e.pk for e in response.context["estimates"]] == [newer.pk, older.pk]
