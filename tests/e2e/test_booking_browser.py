"""A driver books, moves and cancels a visit on a 390×844 phone from the private page of
their request; the advisor sees it on the board."""

from __future__ import annotations

import os
import re

import pytest

from booking.models import Booking, BookingSettings, BookingStatus
from leads.models import Status
from tests.booking.helpers import at, next_monday
from tests.factories import LeadFactory, MembershipFactory, ShopFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SHOTS = os.environ.get("BOOKING_SHOTS_DIR", "/tmp/shots-booking")


def _log_in(page, live_server, membership) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))


@pytest.mark.timeout(120)
def test_driver_books_moves_and_cancels_on_a_phone(live_server, phone_page, desktop_page):
    os.makedirs(SHOTS, exist_ok=True)
    shop = ShopFactory(name="Кузовной центр «Север»")
    BookingSettings.objects.create(shop=shop, posts=1)
    lead = LeadFactory(shop=shop, customer_name="Иван")
    day = next_monday()
    taken = LeadFactory(shop=shop)
    Booking.objects.create(
        shop=shop, lead=taken, post=1, starts_at=at(day, "10:30"), ends_at=at(day, "11:00")
    )
    page = phone_page

    page.goto(f"{live_server.url}/s/{shop.slug}/photo/sent/{lead.public_token}/")
    assert page.locator('[data-step="received"][aria-current="step"]').count() == 1
    # Where the request is, every step named: received, estimate, offer, booked, car in, ready.
    assert page.locator(".booking-progress [data-step]").all_inner_texts() == [
        "Заявка получена",
        "Оценка",
        "Предложение",
        "Запись",
        "Машина в сервисе",
        "Готово",
    ]
    page.screenshot(path=f"{SHOTS}/private-page-phone.png", full_page=True)
    page.get_by_role("link", name="Записаться на визит").click()
    page.locator(f'a[data-day="{day.isoformat()}"]').click()
    page.wait_for_url(re.compile(rf"day={day.isoformat()}"))
    times = page.locator(".booking-slots label")
    assert "10:30" not in times.all_inner_texts()  # taken by another driver
    page.screenshot(path=f"{SHOTS}/pick-phone.png", full_page=True)
    page.get_by_text("10:00", exact=True).click()
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url(re.compile(r"/visit/"))
    assert "Вы записаны" in page.inner_text("h1")
    assert "10:00" in page.inner_text(".booking-when")
    with page.expect_download() as download:
        page.get_by_role("link", name="Добавить в календарь (.ics)").click()
    assert download.value.suggested_filename == "visit.ics"
    assert page.locator('[data-step="booked"][aria-current="step"]').count() == 1
    assert page.locator('[data-step="offer"]').inner_text().startswith("✓")
    page.screenshot(path=f"{SHOTS}/visit-phone.png", full_page=True)
    booking = Booking.objects.get(lead=lead)
    lead.refresh_from_db()
    assert lead.status == Status.BOOKED

    page.get_by_role("link", name="Перенести").click()
    page.locator(f'a[data-day="{day.isoformat()}"]').click()
    page.wait_for_url(re.compile(rf"day={day.isoformat()}"))
    page.get_by_text("15:00", exact=True).click()
    page.get_by_role("button", name="Перенести на это время").click()
    page.wait_for_url(re.compile(r"/visit/[^/]+/$"))
    assert "15:00" in page.inner_text(".booking-when")
    booking.refresh_from_db()
    assert booking.starts_at == at(day, "15:00")

    advisor = MembershipFactory(shop=shop)
    _log_in(desktop_page, live_server, advisor)
    desktop_page.set_viewport_size({"width": 1440, "height": 900})
    desktop_page.goto(f"{live_server.url}/staff/bookings/?day={day.isoformat()}&view=week")
    assert "15:00–15:30" in desktop_page.inner_text(".booking-board")
    desktop_page.screenshot(path=f"{SHOTS}/board-desktop.png", full_page=True)
    desktop_page.set_viewport_size({"width": 820, "height": 1180})
    desktop_page.goto(f"{live_server.url}/staff/bookings/?day={day.isoformat()}")
    desktop_page.screenshot(path=f"{SHOTS}/board-tablet.png", full_page=True)
    desktop_page.locator(".booking-card").last.click()
    desktop_page.wait_for_url(re.compile(r"/staff/bookings/\d+/$"))
    desktop_page.screenshot(path=f"{SHOTS}/visit-staff-tablet.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Отменить запись").click()
    page.wait_for_selector("text=Запись отменена")
    page.screenshot(path=f"{SHOTS}/cancelled-phone.png", full_page=True)
    booking.refresh_from_db()
    lead.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert lead.status == Status.IN_PROGRESS
    assert page.locator('[data-step="estimate"][aria-current="step"]').count() == 1
