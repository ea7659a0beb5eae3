"""The board's drop address (what board.js posts): the move form's rules and the move
service, answered in JSON; a refusal changes nothing and says why in Russian. The drag
itself in Chromium: tests/e2e/test_board_drag.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.models import Booking, BookingSettings
from leads.models import EventKind, LeadEvent
from tests.factories import LeadFactory

from .helpers import at, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(shop):
    BookingSettings.objects.create(shop=shop, posts=2)
    day = next_monday()
    mine = Booking.objects.create(
        shop=shop,
        lead=LeadFactory(shop=shop),
        post=1,
        starts_at=at(day, "10:00"),
        ends_at=at(day, "10:30"),
    )
    other = Booking.objects.create(
        shop=shop,
        lead=LeadFactory(shop=shop),
        post=2,
        starts_at=at(day, "11:00"),
        ends_at=at(day, "12:00"),
    )
    return day, mine, other


def _drop(client, booking, **form):
    return client.post(
        reverse("booking:board_move", args=[booking.pk]), form, HTTP_ACCEPT="application/json"
    )


def test_a_drop_on_a_free_time_and_post_moves_the_visit(advisor_client, advisor, visits):
    day, mine, _other = visits
    answer = _drop(advisor_client, mine, day=day.isoformat(), time="14:00", post="2")
    assert answer.status_code == 200 and answer.json()["ok"] is True
    mine.refresh_from_db()
    assert (mine.starts_at, mine.ends_at, mine.post) == (at(day, "14:00"), at(day, "14:30"), 2)
    moved = LeadEvent.objects.get(lead=mine.lead, kind=EventKind.NOTE, data__action="moved")
    assert moved.actor == advisor


@pytest.mark.parametrize(
    ("form", "status", "reason"),
    [
        ({"time": "11:30", "post": "2"}, 409, "Это время уже заняли — выберите другое."),
        ({"time": "19:50", "post": "1"}, 409, "Визит должен поместиться в часы работы сервиса"),
        ({"time": "25:00", "post": "1"}, 400, "Введите правильное время."),
        ({"time": "10:00", "post": "9"}, 400, "Выберите корректный вариант."),
    ],
)
def test_a_refused_drop_changes_nothing_and_says_why(advisor_client, visits, form, status, reason):
    day, mine, other = visits
    answer = _drop(advisor_client, mine, day=day.isoformat(), **form)
    assert answer.status_code == status
    assert answer.json()["ok"] is False and answer.json()["error"].startswith(reason)
    mine.refresh_from_db()
    assert (mine.starts_at, mine.post) == (at(day, "10:00"), 1)
    assert not LeadEvent.objects.filter(lead=mine.lead, data__action="moved").exists()


def test_the_day_board_lays_visits_on_the_time_grid(advisor_client, visits):
    day, mine, other = visits
    page = advisor_client.get(reverse("booking:board"), {"day": day.isoformat()})
    html = page.content.decode()
    assert f'data-day="{day.isoformat()}" data-time="10:00" data-post="1"' in html
    assert reverse("booking:board_move", args=[mine.pk]) in html
    assert f"занято: №{other.lead.number} до 12:00" in html  # its second half-hour


def test_without_script_a_plain_post_lands_on_the_visits_form_with_the_reason(
    advisor_client, visits
):
    day, mine, _other = visits
    url = reverse("booking:board_move", args=[mine.pk])
    answer = advisor_client.post(url, {"day": day.isoformat(), "time": "11:00", "post": "2"})
    assert answer.status_code == 302
    assert answer["Location"] == reverse("booking:staff_booking", args=[mine.pk])
    page = advisor_client.get(answer["Location"]).content.decode()
    assert "Это время уже заняли" in page
