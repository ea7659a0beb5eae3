"""The lead page's small actions: the status list shows where the lead is now, an advisor
takes a lead with one tap, the timeline shows money as money, phones read as phones."""

from __future__ import annotations

import re
from decimal import Decimal

from django.urls import reverse

from autoservice.outbox import outbox_deliver_now, outbox_put
from leads.models import EventKind, Status
from optima.offers import NOTIFY_OFFER_ACCEPTED
from tests.factories import LeadFactory, MembershipFactory, OfferVersionFactory


def _selected_status(html: str) -> str:
    select = re.search(r'<select name="status".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([a-z_]+)" selected>', select).group(1)


def test_status_dropdown_preselects_the_current_status_not_the_next(advisor_client, shop):
    lead = LeadFactory(shop=shop, status=Status.IN_PROGRESS)
    html = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert _selected_status(html) == "in_progress"
    assert "в работе (сейчас)" in html


def test_sending_the_status_form_unchanged_changes_nothing(advisor_client, shop):
    lead = LeadFactory(shop=shop, status=Status.IN_PROGRESS)
    url = reverse("leads:lead_detail", args=[lead.pk])
    response = advisor_client.post(url, {"action": "status", "status": "in_progress"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Status.IN_PROGRESS
    assert not lead.events.filter(kind=EventKind.STATUS).exists()


def test_assign_to_me_makes_the_advisor_responsible(advisor_client, advisor, shop):
    other = MembershipFactory(shop=shop)
    lead = LeadFactory(shop=shop, assignee=other)
    url = reverse("leads:lead_detail", args=[lead.pk])
    html = advisor_client.get(url).content.decode()
    form = re.search(r'<form[^>]*id="assign-me".*?</form>', html, re.S).group(0)
    assert f'name="assignee" value="{advisor.pk}"' in form and "Назначить меня" in form
    advisor_client.post(url, {"action": "assign", "assignee": advisor.pk})
    lead.refresh_from_db()
    assert lead.assignee == advisor
    assert 'id="assign-me"' not in advisor_client.get(url).content.decode()


def test_timeline_shows_an_accepted_offer_total_formatted_as_money(advisor_client, shop):
    version = OfferVersionFactory(offer__shop=shop, accepted_total_rub=Decimal("75642.00"))
    message = outbox_put(
        shop=shop,
        kind=NOTIFY_OFFER_ACCEPTED,
        dedupe_key=f"test-accepted-{version.pk}",
        payload={"version_id": version.pk, "question": False},
    )
    assert outbox_deliver_now(message.pk) == "sent"
    event = version.offer.lead.events.get(kind=EventKind.NOTIFIED)
    assert event.text == "Клиент принял предложение на 75\u202f642\u00a0₽"
    page = advisor_client.get(reverse("leads:lead_detail", args=[version.offer.lead.pk]))
    assert "75642.00" not in page.content.decode()


def test_inbox_and_lead_page_show_phones_formatted(advisor_client, shop):
    lead = LeadFactory(shop=shop, phone="+74951234567")
    inbox = advisor_client.get(reverse("leads:inbox")).content.decode()
    assert "+7 495 123-45-67" in inbox and ">+74951234567<" not in inbox
    page = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "+7 495 123-45-67" in page
    assert 'href="tel:+74951234567"' in page
