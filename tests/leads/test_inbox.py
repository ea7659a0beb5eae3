"""The advisors' inbox: scoped, filtered, searchable, paginated, self-refreshing."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import LeadFactory, LeadPhotoFactory, MembershipFactory


def _rows(html: str) -> list[str]:
    return re.findall(r'data-lead-id="(\d+)"', html)


def test_inbox_shows_own_leads_newest_first_and_marks_unread(advisor_client, shop, other_shop):
    now = timezone.now()
    old = LeadFactory(shop=shop, created_at=now - dt.timedelta(hours=2), opened_at=now)
    new = LeadFactory(shop=shop, created_at=now)
    foreign = LeadFactory(shop=other_shop)
    html = advisor_client.get(reverse("leads:inbox")).content.decode()
    assert _rows(html) == [str(new.pk), str(old.pk)]
    assert str(foreign.pk) not in _rows(html)
    assert html.count("lead-unread") == 1
    assert "<title>(1) " in html


def test_query_count_does_not_grow_with_leads(advisor_client, shop):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert advisor_client.get(reverse("leads:inbox")).status_code == 200
        return len(queries)

    for _ in range(3):
        LeadPhotoFactory(lead=LeadFactory(shop=shop, assignee=MembershipFactory(shop=shop)))
    few = count()
    for _ in range(30):
        LeadPhotoFactory(lead=LeadFactory(shop=shop, assignee=MembershipFactory(shop=shop)))
    assert count() == few
    assert few <= 12


def test_filters_and_search(advisor_client, shop, advisor):
    mine = LeadFactory(shop=shop, assignee=advisor, status="in_progress", plate="А123ВС77")
    calc = LeadFactory(shop=shop, channel="calculator", customer_name="Пётр Сидоров")
    phone = LeadFactory(shop=shop, phone="+79035556677")
    url = reverse("leads:inbox")
    assert _rows(advisor_client.get(url, {"status": "in_progress"}).content.decode()) == [
        str(mine.pk)
    ]
    assert _rows(advisor_client.get(url, {"channel": "calculator"}).content.decode()) == [
        str(calc.pk)
    ]
    assert str(mine.pk) in _rows(
        advisor_client.get(url, {"assignee": str(advisor.pk)}).content.decode()
    )
    assert str(mine.pk) not in _rows(advisor_client.get(url, {"assignee": "none"}).content.decode())
    assert _rows(advisor_client.get(url, {"q": "8 903 555-66-77"}).content.decode()) == [
        str(phone.pk)
    ]
    assert _rows(advisor_client.get(url, {"q": "сидоров"}).content.decode()) == [str(calc.pk)]
    assert _rows(advisor_client.get(url, {"q": "a123bc"}).content.decode()) == [str(mine.pk)]


def test_a_plate_fragment_does_not_match_phone_digits(advisor_client, shop):
    plate = LeadFactory(shop=shop, plate="А123ВС77", phone="+79035550000")
    phone = LeadFactory(shop=shop, plate="К777КК77", phone="+79161231234")
    url = reverse("leads:inbox")
    assert _rows(advisor_client.get(url, {"q": "а123вс"}).content.decode()) == [str(plate.pk)]
    # Digits alone still search the phones (and the plates).
    found = _rows(advisor_client.get(url, {"q": "916 123"}).content.decode())
    assert found == [str(phone.pk)]


def test_period_filter_uses_the_shops_day(advisor_client, shop):
    today = LeadFactory(shop=shop)
    LeadFactory(shop=shop, created_at=timezone.now() - dt.timedelta(days=3))
    assert _rows(
        advisor_client.get(reverse("leads:inbox"), {"period": "today"}).content.decode()
    ) == [str(today.pk)]


def test_cursor_pagination_walks_every_lead_once(advisor_client, shop):
    base = timezone.now()
    leads = [LeadFactory(shop=shop, created_at=base - dt.timedelta(minutes=i)) for i in range(120)]
    # Same timestamp for two leads: the id breaks the tie, nothing is skipped.
    LeadFactory(shop=shop, created_at=leads[60].created_at)
    seen: list[str] = []
    url = reverse("leads:inbox")
    params: dict = {}
    while True:
        html = advisor_client.get(url, params).content.decode()
        seen += _rows(html)
        match = re.search(r"cursor=([A-Za-z0-9_\-]+)", html)
        if not match:
            break
        params = {"cursor": match.group(1)}
    assert len(seen) == 121 == len(set(seen))


def test_poll_returns_only_newer_leads_and_the_unread_badge(advisor_client, shop):
    first = LeadFactory(shop=shop, created_at=timezone.now() - dt.timedelta(minutes=5))
    html = advisor_client.get(reverse("leads:inbox")).content.decode()
    newest = re.search(r"newest=([A-Za-z0-9_\-]+)", html).group(1)
    arrived = LeadFactory(shop=shop)
    poll = advisor_client.get(reverse("leads:inbox_poll"), {"newest": newest}).content.decode()
    assert _rows(poll) == [str(arrived.pk)]
    assert str(first.pk) not in _rows(poll)
    assert 'data-new="1"' in poll
    assert 'data-unread="2"' in poll
    newer = re.search(r"newest=([A-Za-z0-9_\-]+)", poll).group(1)
    again = advisor_client.get(reverse("leads:inbox_poll"), {"newest": newer}).content.decode()
    assert _rows(again) == []


def test_first_lead_reaches_an_empty_inbox_by_poll(advisor_client, shop):
    html = advisor_client.get(reverse("leads:inbox")).content.decode()
    newest = re.search(r"newest=([A-Za-z0-9_\-]+)", html).group(1)
    arrived = LeadFactory(shop=shop)
    poll = advisor_client.get(reverse("leads:inbox_poll"), {"newest": newest}).content.decode()
    assert _rows(poll) == [str(arrived.pk)]


def test_row_and_lead_live_views_show_the_lead_as_it_is_now(advisor_client, shop):
    lead = LeadFactory(shop=shop, status="in_progress")
    row = advisor_client.get(reverse("leads:lead_row", args=[lead.pk])).content.decode()
    assert _rows(row) == [str(lead.pk)]
    assert "status-in_progress" in row
    live = advisor_client.get(reverse("leads:lead_live", args=[lead.pk])).content.decode()
    assert 'id="lead-status"' in live and "status-in_progress" in live
    assert 'id="lead-timeline"' in live
    assert lead.customer_name not in live  # no contacts in the live fragment


def test_load_more_is_an_htmx_fragment(advisor_client, shop):
    for _ in range(55):
        LeadFactory(shop=shop)
    html = advisor_client.get(reverse("leads:inbox")).content.decode()
    cursor = re.search(r"cursor=([A-Za-z0-9_\-]+)", html).group(1)
    fragment = advisor_client.get(
        reverse("leads:inbox"),
        {"cursor": cursor, "fragment": "rows"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert len(_rows(fragment)) == 5
    assert "<nav" not in fragment
