"""Response deadlines in working hours, escalation to managers, repeat requests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core import mail

from leads.services import LeadInput, lead_create, leads_escalate_overdue
from tests.factories import MembershipFactory

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def _create(shop, *, at, phone="+79120000001"):
    lead, _ = lead_create(
        shop=shop, channel="photo", data=LeadInput(customer_name="Иван", phone=phone), now=at
    )
    return lead


def test_deadline_counts_only_working_time(shop):
    shop.working_hours = {d: ["09:00", "20:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    shop.working_hours.update({"sat": None, "sun": None})
    shop.sla_minutes = 15
    shop.save()
    during = dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)  # Wednesday
    assert _create(shop, at=during).sla_due_at == during + dt.timedelta(minutes=15)
    late = dt.datetime(2026, 11, 25, 19, 55, tzinfo=MSK)
    assert _create(shop, at=late, phone="+79120000002").sla_due_at == dt.datetime(
        2026, 11, 26, 9, 10, tzinfo=MSK
    )
    friday_night = dt.datetime(2026, 11, 27, 23, 0, tzinfo=MSK)
    assert _create(shop, at=friday_night, phone="+79120000003").sla_due_at == dt.datetime(
        2026, 11, 30, 9, 15, tzinfo=MSK
    )


def test_overdue_lead_is_escalated_to_managers_once(shop, django_capture_on_commit_callbacks):
    manager = MembershipFactory(shop=shop, role="manager")
    MembershipFactory(shop=shop)  # advisors are not e-mailed
    shop.working_hours = {
        d: ["00:00", "23:59"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    shop.save()
    created = dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)
    lead = _create(shop, at=created)
    answered = _create(shop, at=created, phone="+79120000009")
    answered.first_response_at = created + dt.timedelta(minutes=3)
    answered.save()
    later = created + dt.timedelta(minutes=16)
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_escalate_overdue(now=later) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_escalate_overdue(now=later + dt.timedelta(minutes=5)) == 0
    lead.refresh_from_db()
    assert lead.escalated_at == later
    assert lead.events.filter(kind="escalated").count() == 1
    assert [m.to for m in mail.outbox] == [[manager.user.email]]
    assert f"№{lead.number}" in mail.outbox[0].subject


def test_repeat_request_within_a_day_is_linked_both_ways(shop):
    first_at = dt.datetime(2026, 11, 25, 10, 0, tzinfo=MSK)
    first = _create(shop, at=first_at)
    again = _create(shop, at=first_at + dt.timedelta(hours=5))
    much_later = _create(shop, at=first_at + dt.timedelta(hours=30), phone="+79120000001")
    assert again.repeat_of == first
    assert much_later.repeat_of is None
    assert first.events.filter(kind="repeat").exists()
    assert again.events.filter(kind="repeat").exists()


def test_same_phone_in_another_shop_is_not_a_repeat(shop, other_shop):
    at = dt.datetime(2026, 11, 25, 10, 0, tzinfo=MSK)
    _create(shop, at=at)
    assert _create(other_shop, at=at + dt.timedelta(hours=1)).repeat_of is None


def test_lead_numbers_are_per_shop(shop, other_shop):
    at = dt.datetime(2026, 11, 25, 10, 0, tzinfo=MSK)
    a = _create(shop, at=at, phone="+79120000011")
    b = _create(shop, at=at, phone="+79120000012")
    c = _create(other_shop, at=at, phone="+79120000013")
    assert (a.number, b.number, c.number) == (1, 2, 1)
