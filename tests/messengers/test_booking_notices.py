"""Staff hear of visits in their messenger: a visit booked, moved or cancelled goes to the
lead's assignee when they linked a chat, otherwise to every on-duty advisor; whoever did it
on the phone is not told what they just did. Through the fake Telegram Bot API
(`sendMessage`, https://core.telegram.org/bots/api#sendmessage)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.models import BookingSettings
from booking.services import booking_cancel, booking_create, booking_move
from leads.models import Status
from messengers.models import ChatLink
from tests.booking.helpers import at, next_monday
from tests.factories import LeadFactory, MembershipFactory
from tests.messengers.conftest import TELEGRAM_CHAT

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(shop):
    BookingSettings.objects.create(shop=shop, posts=2)
    return LeadFactory(shop=shop, status=Status.IN_PROGRESS, vehicle_make="Kia")


def _texts(telegram, chat):
    return [c.body["text"] for c in telegram.calls("sendMessage") if c.body["chat_id"] == chat]


def test_the_on_duty_advisors_hear_of_a_visit_booked_moved_and_cancelled(
    shop, lead, telegram, linked_advisor, django_capture_on_commit_callbacks
):
    off_duty = MembershipFactory(shop=shop)
    ChatLink.objects.create(membership=off_duty, kind="telegram", chat_id="555", on_duty=False)
    day = next_monday()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    with django_capture_on_commit_callbacks(execute=True):
        booking_move(booking=booking, start=at(day, "15:00"))
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking)

    booked, moved, cancelled = _texts(telegram, TELEGRAM_CHAT)
    assert booked.startswith(f"Запись по заявке №{lead.number}:") and "10:00" in booked
    assert "(клиент по ссылке)" in booked and "Kia" in booked
    assert reverse("leads:lead_detail", args=[lead.pk]) in booked
    assert f"{reverse('booking:board')}?day={day.isoformat()}" in booked
    assert "перенесён" in moved and "10:00 → " in moved and "15:00" in moved
    assert "отменена" in cancelled
    assert _texts(telegram, "555") == []


def test_the_assignee_alone_hears_and_not_of_what_they_did_themselves(
    shop, lead, telegram, linked_advisor, django_capture_on_commit_callbacks
):
    assignee = MembershipFactory(shop=shop)
    ChatLink.objects.create(membership=assignee, kind="telegram", chat_id="42", on_duty=False)
    lead.assignee = assignee
    lead.save(update_fields=["assignee"])
    day = next_monday()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    with django_capture_on_commit_callbacks(execute=True):
        booking_move(booking=booking, start=at(day, "12:00"), by=assignee)

    assert len(_texts(telegram, "42")) == 1  # the booking; the move was theirs
    assert _texts(telegram, TELEGRAM_CHAT) == []  # the lead has its own person
