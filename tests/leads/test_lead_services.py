"""Lead actions called directly, the way other apps, the admin and tasks call them: the
rules hold whatever form or view is in front of them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads.models import EventKind, LeadEvent
from leads.services import lead_assign
from tests.factories import LeadFactory, MembershipFactory


def test_assignee_of_another_shop_is_refused(shop, other_shop, advisor):
    lead = LeadFactory(shop=shop)
    stranger = MembershipFactory(shop=other_shop)

    with pytest.raises(ValidationError) as refused:
        lead_assign(lead=lead, assignee=stranger, by=advisor)

    assert "не работает в вашем автосервисе" in refused.value.messages[0]
    lead.refresh_from_db()
    assert lead.assignee is None
    assert not LeadEvent.objects.filter(lead=lead, kind=EventKind.ASSIGNED).exists()


def test_assignee_of_another_shop_cannot_replace_the_current_one(shop, other_shop, advisor):
    lead = LeadFactory(shop=shop, assignee=advisor)

    with pytest.raises(ValidationError):
        lead_assign(lead=lead, assignee=MembershipFactory(shop=other_shop), by=advisor)

    lead.refresh_from_db()
    assert lead.assignee == advisor


def test_colleague_is_assigned_and_the_timeline_says_who(shop, advisor):
    lead = LeadFactory(shop=shop)
    colleague = MembershipFactory(shop=shop)

    lead_assign(lead=lead, assignee=colleague, by=advisor)

    lead.refresh_from_db()
    assert lead.assignee == colleague
    event = LeadEvent.objects.get(lead=lead, kind=EventKind.ASSIGNED)
    assert (event.actor, event.text) == (advisor, colleague.display_name)
    lead_assign(lead=lead, assignee=None, by=advisor)
    lead.refresh_from_db()
    assert lead.assignee is None
