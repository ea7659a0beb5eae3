"""The advisor drags a visit on the board (1440×900 desktop, Chromium's HTML5 drag and drop):
onto a free time and post the visit moves there in the database; onto a taken time it is
refused with the service's Russian reason and stays where it was."""

from __future__ import annotations

import os
import re

import pytest

from booking.models import Booking, BookingSettings
from tests.booking.helpers import at, next_monday
from tests.factories import LeadFactory, MembershipFactory, ShopFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SHOTS = os.environ.get("BOOKING_SHOTS_DIR", "/tmp/shots-booking")


def _board(live_server, page):
    shop = ShopFactory(name="Кузовной центр «Север»")
    BookingSettings.objects.create(shop=shop, posts=2)
    day = next_monday()
    mine = Booking.objects.create(
        shop=shop,
        lead=LeadFactory(shop=shop, customer_name="Иван"),
        post=1,
        starts_at=at(day, "10:00"),
        ends_at=at(day, "10:30"),
    )
    other = Booking.objects.create(
        shop=shop,
        lead=LeadFactory(shop=shop, customer_name="Пётр"),
        post=2,
        starts_at=at(day, "11:00"),
        ends_at=at(day, "12:00"),
    )
    advisor = MembershipFactory(shop=shop)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", advisor.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))
    page.goto(f"{live_server.url}/staff/bookings/?day={day.isoformat()}")
    return day, mine, other


def _cell(page, hhmm: str, post: int):
    return page.locator(f'td.board-cell[data-time="{hhmm}"][data-post="{post}"]')


@pytest.mark.timeout(90)
def test_dragging_a_visit_to_a_free_time_and_post_moves_it(live_server, desktop_page):
    page = desktop_page
    day, mine, _other = _board(live_server, page)
    card = _cell(page, "10:00", 1).locator(".booking-card")
    assert "Иван" in card.inner_text()

    with page.expect_navigation():  # the board reloads with the visit in its new place
        card.drag_to(_cell(page, "14:30", 2))

    mine.refresh_from_db()
    assert (mine.starts_at, mine.ends_at, mine.post) == (at(day, "14:30"), at(day, "15:00"), 2)
    assert "Иван" in _cell(page, "14:30", 2).inner_text()
    assert _cell(page, "10:00", 1).locator(".booking-card").count() == 0
    assert "Визит перенесён" in page.inner_text("body")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/board-drag-desktop.png", full_page=True)


@pytest.mark.timeout(90)
def test_dragging_onto_a_taken_time_is_refused_and_the_visit_stays(live_server, desktop_page):
    page = desktop_page
    day, mine, other = _board(live_server, page)
    card = _cell(page, "10:00", 1).locator(".booking-card")

    card.drag_to(_cell(page, "11:30", 2))  # post 2 is taken 11:00–12:00

    status = page.locator("#board-status")
    status.wait_for(state="visible")
    assert status.inner_text() == "Это время уже заняли — выберите другое."
    assert "Иван" in _cell(page, "10:00", 1).inner_text()  # still there, nothing reloaded
    mine.refresh_from_db()
    assert (mine.starts_at, mine.post) == (at(day, "10:00"), 1)
    other.refresh_from_db()
    assert (other.starts_at, other.post) == (at(day, "11:00"), 2)
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/board-drag-refused-desktop.png", full_page=True)
