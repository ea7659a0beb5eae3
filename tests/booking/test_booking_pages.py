"""The driver's pages (book, visit, .ics, move, cancel), the advisor's board and forms,
and the manager's capacity settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from autoservice.models import OutboxMessage
from booking.ics import booking_ics
from booking.models import Booking, BookingSettings, BookingStatus
from booking.services import booking_create, bookings_remind
from leads.models import Status
from tests.factories import LeadFactory, MembershipFactory

from .helpers import at, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(shop):
    BookingSettings.objects.create(shop=shop, posts=1)
    return LeadFactory(shop=shop, email="driver@example.ru")


def test_the_driver_books_from_the_private_page(client, shop, lead):
    page = client.get(reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token]))
    book_url = reverse("booking:book", args=[shop.slug, lead.public_token])
    assert book_url in page.content.decode()
    assert 'data-step="received"' in page.content.decode()

    day = next_monday()
    picker = client.get(book_url, {"day": day.isoformat()})
    assert picker.status_code == 200
    start = at(day, "10:00").isoformat()
    assert f'value="{start}"' in picker.content.decode()

    sent = client.post(book_url, {"kind": "inspection", "day": day.isoformat(), "start": start})
    booking = Booking.objects.get(lead=lead)
    assert sent.url == reverse("booking:visit", args=[shop.slug, booking.token])
    visit = client.get(sent.url).content.decode()
    assert "Вы записаны" in visit
    assert reverse("booking:visit_ics", args=[shop.slug, booking.token]) in visit
    # The private page now says so, and a second booking is not offered.
    assert client.get(book_url).url == sent.url


def test_a_taken_time_is_refused_and_the_choice_kept(client, shop, lead):
    day = next_monday()
    start = at(day, "10:00")
    booking_create(lead=LeadFactory(shop=shop), start=start, kind="inspection")
    answer = client.post(
        reverse("booking:book", args=[shop.slug, lead.public_token]),
        {"kind": "inspection", "day": day.isoformat(), "start": start.isoformat()},
    )
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "Это время уже заняли — выберите другое." in page
    assert f'data-day="{day.isoformat()}" aria-current="date"' in page
    assert not Booking.objects.filter(lead=lead).exists()


def test_move_and_cancel_by_the_visits_link(client, shop, lead):
    day = next_monday()
    booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    move_url = reverse("booking:visit_move", args=[shop.slug, booking.token])
    assert client.get(move_url).status_code == 200
    moved = client.post(move_url, {"day": day.isoformat(), "start": at(day, "16:00").isoformat()})
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at(day, "16:00")

    client.post(reverse("booking:visit_cancel", args=[shop.slug, booking.token]))
    booking.refresh_from_db()
    lead.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert lead.status == Status.IN_PROGRESS
    again = client.get(reverse("booking:visit", args=[shop.slug, booking.token])).content.decode()
    assert "Запись отменена" in again


def test_another_shops_link_is_404(client, shop, lead, other_shop):
    booking = booking_create(lead=lead, start=at(next_monday(), "10:00"), kind="inspection")
    for name in ("booking:visit", "booking:visit_ics", "booking:visit_move"):
        assert client.get(reverse(name, args=[other_shop.slug, booking.token])).status_code == 404
    assert (
        client.get(reverse("booking:book", args=[other_shop.slug, lead.public_token])).status_code
        == 404
    )
    intruder = MembershipFactory(shop=other_shop)
    client.force_login(intruder.user)
    url = reverse("booking:staff_booking", args=[booking.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "cancel"}).status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.BOOKED


def _unfold(data: bytes) -> list[str]:
    return data.decode().replace("\r\n ", "").split("\r\n")


def test_ics_follows_rfc_5545(shop, lead):
    # RFC 5545 section 3.6.1 (VEVENT) and its example in 3.6.1 / 4: UID and DTSTAMP
    # required, DTSTART/DTEND as UTC "Z" date-times, CRLF lines, TEXT escaping (3.3.11).
    day = next_monday()
    booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    data = booking_ics(booking, url="https://sto.example.ru/v/x", now=at(day, "08:00"))
    assert data.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    lines = _unfold(data)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    assert fields["VERSION"] == "2.0"
    assert fields["UID"].startswith(f"booking-{booking.pk}-")
    assert fields["DTSTAMP"] == day.strftime("%Y%m%d") + "T050000Z"
    assert fields["DTSTART"] == day.strftime("%Y%m%d") + "T070000Z"  # 10:00 Moscow = 07:00 UTC
    assert fields["DTEND"] == day.strftime("%Y%m%d") + "T073000Z"
    assert fields["LOCATION"] == "Москва\\, ул. Ленина\\, 1"
    assert shop.name in fields["SUMMARY"]


def test_the_reminder_goes_the_day_before_with_the_ics(
    shop, lead, django_capture_on_commit_callbacks
):
    day = next_monday()
    booking = booking_create(lead=lead, start=at(day, "10:00"), kind="inspection")
    assert bookings_remind(now=at(day, "08:00") - dt.timedelta(days=2)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings_remind(now=at(day - dt.timedelta(days=1), "12:00")) == 1
    assert bookings_remind(now=at(day - dt.timedelta(days=1), "12:15")) == 0  # once
    assert OutboxMessage.objects.filter(shop=shop, kind="booking.reminder_email").count() == 1
    sent = mail.outbox[-1]
    assert sent.to == ["driver@example.ru"]
    assert reverse("booking:visit", args=[shop.slug, booking.token]) in sent.body
    assert sent.attachments[0][0] == "visit.ics"


def test_the_advisor_books_on_the_phones_behalf_and_moves_by_form(advisor_client, shop, lead):
    day = next_monday()
    board = advisor_client.get(reverse("booking:board"), {"day": day.isoformat()})
    assert board.status_code == 200
    # A day at the calendar's end is not a day anyone books: the board shows today.
    assert advisor_client.get(reverse("booking:board"), {"day": "9999-12-31"}).status_code == 200
    form = {"lead": lead.pk, "kind": "repair", "day": day.isoformat(), "time": "10:15", "post": ""}
    made = advisor_client.post(reverse("booking:staff_book"), form)
    booking = Booking.objects.get(lead=lead)
    assert made.url == reverse("booking:staff_booking", args=[booking.pk])
    assert booking.created_by is not None
    assert booking.ends_at - booking.starts_at == dt.timedelta(minutes=60)
    page = advisor_client.get(reverse("booking:board"), {"day": day.isoformat(), "view": "week"})
    assert lead.customer_name in page.content.decode()

    page = advisor_client.get(reverse("booking:staff_booking", args=[booking.pk])).content.decode()
    # The browser's date and time inputs take ISO values only: a local "07.12.2026" is blank.
    assert f'value="{day.isoformat()}"' in page
    assert 'value="10:15"' in page
    bad = advisor_client.post(
        reverse("booking:staff_booking", args=[booking.pk]),
        {"day": day.isoformat(), "time": "19:30", "post": "1"},
    )
    assert bad.status_code == 400
    assert "часы работы" in bad.content.decode()
    advisor_client.post(
        reverse("booking:staff_booking", args=[booking.pk]),
        {"day": day.isoformat(), "time": "13:00", "post": "1"},
    )
    booking.refresh_from_db()
    assert booking.starts_at == at(day, "13:00")


def test_the_manager_sets_posts_and_holidays(manager_client, shop):
    url = reverse("booking:capacity")
    form = {
        "posts": "3",
        "inspection_minutes": "45",
        "repair_minutes": "90",
        "horizon_days": "14",
        "notice_minutes": "60",
        "holidays_text": "01.01.2027, 2027-01-02\n32.13.2027",
    }
    bad = manager_client.post(url, form)
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Не понятны даты: 32.13.2027" in page
    assert "01.01.2027, 2027-01-02" in page  # nothing typed is lost
    form["holidays_text"] = "01.01.2027, 2027-01-02"
    assert manager_client.post(url, form).status_code == 302
    saved = BookingSettings.objects.get(shop=shop)
    assert saved.posts == 3
    assert saved.holidays == ["2027-01-01", "2027-01-02"]


def test_an_advisor_cannot_change_capacity(advisor_client):
    assert advisor_client.get(reverse("booking:capacity")).status_code == 403


def test_the_lead_page_shows_the_visit_and_offers_booking(advisor_client, shop, lead):
    page = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert f"{reverse('booking:staff_book')}?lead={lead.pk}" in page
    form = advisor_client.get(reverse("booking:staff_book"), {"lead": lead.pk}).content.decode()
    assert f'<option value="{lead.pk}" selected>' in form

    booking = booking_create(lead=lead, start=at(next_monday(), "10:00"), kind="inspection")
    page = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert reverse("booking:staff_booking", args=[booking.pk]) in page


def test_the_driver_picks_among_days_with_one_query_per_day(
    client, shop, lead, django_assert_max_num_queries
):
    url = reverse("booking:book", args=[shop.slug, lead.public_token])
    with django_assert_max_num_queries(40):  # 15 days ahead: a bookings query per day
        assert client.get(url).status_code == 200


def test_the_accepted_offer_leads_to_booking_the_repair(client, shop):
    from decimal import Decimal

    from optima import offers
    from optima.models import OfferStatus
    from tests.factories import OfferVersionFactory

    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    version.valid_until = dt.date(2099, 1, 1)
    version.save()
    offers.offer_accept(
        version=version,
        choice={"0": 0},
        confirmed_total_rub=Decimal("36000.00"),
        ip=None,
        user_agent="",
    )
    page = client.get(reverse("optima:offer_public", args=[shop.slug, version.offer.token]))
    lead = version.offer.lead
    book_url = reverse("booking:book", args=[shop.slug, lead.public_token]) + "?kind=repair"
    assert book_url in page.content.decode()
    picker = client.get(book_url).content.decode()
    assert 'btn-primary" href="?kind=repair"' in picker
