"""Reads the calculator offers to the other apps."""

from __future__ import annotations

from smartcalc import engine
from smartcalc.selectors import estimate_latest_for_lead
from smartcalc.services import estimate_attach_lead, estimate_revise
from tests.factories import EstimateFactory, LeadFactory


def test_the_newest_estimate_version_of_a_lead_is_offered(shop, advisor):
    lead = LeadFactory(shop=shop)
    assert estimate_latest_for_lead(lead) is None
    estimate = estimate_attach_lead(estimate=EstimateFactory(shop=shop), lead=lead)
    assert estimate_latest_for_lead(lead).number == 1
    estimate_revise(
        estimate=estimate,
        by=advisor,
        damages=[engine.Damage("bumper_front", "crack", "2")],
        extras=[],
        note="после осмотра",
    )
    latest = estimate_latest_for_lead(lead)
    assert latest.number == 2 and latest.note == "после осмотра"
    assert estimate_latest_for_lead(LeadFactory(shop=shop)) is None
