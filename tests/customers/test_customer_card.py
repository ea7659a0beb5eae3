"""The staff customer card: contacts, consents, cars, manager, the whole history from every
app (requests with photos, estimates, offers with the choice, orders, acts, visits), what was
spent, notes and the customer's timeline; editing; the access log; another shop's customer
is a 404; the customers list and the search from anywhere with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from autoservice.consent import consent_record_make, consent_text_current
from autoservice.models import AccessAction, PersonalDataAccess
from autoservice.money import format_rub
from booking.models import Booking
from customers.models import CustomerEvent, EventKind
from leads.models import Status
from tests.customers.card_helpers import lead_of, make_customer
from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadPhotoFactory,
    MembershipFactory,
    OfferVersionFactory,
    SupplierOrderFactory,
)

pytestmark = pytest.mark.django_db


def _card(client, customer, **kwargs):
    return client.get(reverse("customers:customer_detail", args=[customer.pk]), **kwargs)


def test_card_shows_contacts_consents_cars_and_manager(advisor_client, shop, advisor):
    manager = MembershipFactory(shop=shop, user__first_name="Игорь", user__last_name="Петров")
    customer = make_customer(
        shop,
        phones=("+79161234567", "+74951234567"),
        cars=(
            {
                "make": "Kia",
                "model": "Rio",
                "year": 2017,
                "plate": "А123ВС77",
                "vin": "Z94CB41AAHR123456",
                "mileage_km": 84000,
                "mileage_at": dt.date(2026, 10, 1),
            },
            {"make": "Lada", "model": "Vesta", "year": 2021, "plate": "М777ОР199"},
        ),
        email="olga@example.ru",
        manager=manager,
        marketing_consent_at=timezone.now(),
        marketing_consent_source="форма заявки",
    )
    consent = consent_record_make(
        shop=shop,
        text=consent_text_current(shop),
        name=customer.name,
        phone="+79161234567",
        ip="203.0.113.5",
        user_agent="test",
    )
    customer.consent = consent
    customer.save()

    html = _card(advisor_client, customer).content.decode()
    assert "+7 916 123-45-67" in html and "+7 495 123-45-67" in html
    assert "olga@example.ru" in html and "SMS" in html
    assert "Z94CB41AAHR123456" in html and "84000 км" in html and "М777ОР199" in html
    assert "Персональный менеджер: Игорь Петров" in html
    assert f"текст версии {consent.text.version}" in html
    assert "На рекламу:" in html and "форма заявки" in html


def test_marketing_withdrawn_is_shown_as_withdrawn(advisor_client, shop):
    customer = make_customer(
        shop, marketing_consent_at=timezone.now(), marketing_withdrawn_at=timezone.now()
    )
    html = _card(advisor_client, customer).content.decode()
    assert "отозвано" in html


def test_card_gathers_the_history_of_every_app(advisor_client, shop, advisor):
    customer = make_customer(shop)
    first = lead_of(customer, status=Status.WON)
    photo = LeadPhotoFactory(lead=first)
    estimate = EstimateFactory(shop=shop)
    estimate.lead = first
    estimate.save()
    second = lead_of(customer, status=Status.BOOKED)
    version = OfferVersionFactory(
        offer__shop=shop,
        offer__lead=second,
        status="accepted",
        accepted_choice={"0": 1},
        accepted_total_rub=Decimal("19500.00"),
    )
    order = SupplierOrderFactory(shop=shop, version=version)
    act = IntakeRecordFactory(shop=shop, lead=second, sealed_at=timezone.now())
    start = timezone.now() + dt.timedelta(days=2)
    visit = Booking.objects.create(
        shop=shop, lead=second, post=1, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    someone_else = make_customer(shop, name="Другой", phones=("+79990000000",), cars=())
    lead_of(someone_else, car=None)

    html = _card(advisor_client, customer).content.decode()
    assert "2 обращения" in html
    for lead in (first, second):
        assert reverse("leads:lead_detail", args=[lead.pk]) in html
    assert reverse("leads:lead_photo", args=[first.pk, photo.pk, "thumb"]) in html
    assert reverse("smartcalc:estimate_detail", args=[estimate.pk]) in html
    total = estimate.versions.get().total_rub
    assert format_rub(total) in html
    assert reverse("optima:offer_detail", args=[version.pk]) in html
    assert "SAT ST-HN01-000" in html  # what the driver chose
    assert "Потрачено:" in html and format_rub(Decimal("19500")) in html
    assert reverse("optima:order_detail", args=[order.pk]) in html
    assert reverse("intake:intake_record", args=[act.pk]) in html
    assert reverse("booking:staff_booking", args=[visit.pk]) in html
    assert "Другой" not in html


def test_viewing_the_card_is_in_the_access_log(advisor_client, shop, advisor):
    customer = make_customer(shop)
    _card(advisor_client, customer)
    entry = PersonalDataAccess.objects.get(shop=shop, action=AccessAction.CUSTOMER_VIEWED)
    assert entry.object_type == "customer" and entry.object_id == str(customer.pk)
    assert entry.user == advisor.user


def test_another_shops_customer_is_404(advisor_client, other_shop):
    stranger = make_customer(other_shop)
    assert _card(advisor_client, stranger).status_code == 404
    response = advisor_client.post(
        reverse("customers:customer_detail", args=[stranger.pk]),
        {"action": "note", "text": "чужой"},
    )
    assert response.status_code == 404
    assert not CustomerEvent.objects.filter(customer=stranger).exists()


def test_manager_change_and_contacts_go_on_the_timeline(advisor_client, shop, advisor):
    customer = make_customer(shop)
    new_manager = MembershipFactory(shop=shop, user__first_name="Анна", user__last_name="Ли")
    url = reverse("customers:customer_detail", args=[customer.pk])
    response = advisor_client.post(
        url,
        {
            "action": "contacts",
            "name": "Ольга С.",
            "email": "o@example.ru",
            "preferred_channel": "whatsapp",
            "manager": new_manager.pk,
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.preferred_channel) == (
        "Ольга С.",
        "o@example.ru",
        "whatsapp",
    )
    assert customer.manager == new_manager
    manager_event = CustomerEvent.objects.get(customer=customer, kind=EventKind.MANAGER)
    assert manager_event.actor == advisor and "Анна Ли" in manager_event.text
    assert manager_event.data == {"old": None, "new": new_manager.pk}
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.CHANGED).exists()
    html = advisor_client.get(url).content.decode()
    assert "сменён персональный менеджер" in html and "Анна Ли" in html


def test_another_shops_staff_cannot_be_made_manager(advisor_client, shop, other_shop):
    customer = make_customer(shop)
    outsider = MembershipFactory(shop=other_shop)
    response = advisor_client.post(
        reverse("customers:customer_detail", args=[customer.pk]),
        {
            "action": "contacts",
            "name": "Ольга",
            "email": "",
            "preferred_channel": "sms",
            "manager": outsider.pk,
        },
    )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.manager is None


def test_a_bad_email_is_refused_in_russian_and_what_was_typed_stays(advisor_client, shop):
    customer = make_customer(shop)
    response = advisor_client.post(
        reverse("customers:customer_detail", args=[customer.pk]),
        {
            "action": "contacts",
            "name": "Новое имя",
            "email": "не-почта",
            "preferred_channel": "call",
            "manager": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Введите правильный адрес электронной почты." in html
    assert 'value="Новое имя"' in html and 'value="не-почта"' in html
    customer.refresh_from_db()
    assert customer.name == "Ольга Смирнова"


def test_note_is_added_to_the_customer_timeline(advisor_client, shop, advisor):
    customer = make_customer(shop)
    url = reverse("customers:customer_detail", args=[customer.pk])
    assert (
        advisor_client.post(
            url, {"action": "note", "text": "  Просит звонить после 18  "}
        ).status_code
        == 302
    )
    note = CustomerEvent.objects.get(customer=customer, kind=EventKind.NOTE)
    assert note.text == "Просит звонить после 18" and note.actor == advisor
    assert "Просит звонить после 18" in advisor_client.get(url).content.decode()
    empty = advisor_client.post(url, {"action": "note", "text": ""})
    assert empty.status_code == 400 and "Напишите текст заметки." in empty.content.decode()


def test_lead_page_names_the_regular_customer_and_manager(advisor_client, shop):
    manager = MembershipFactory(shop=shop, user__first_name="Игорь", user__last_name="Петров")
    customer = make_customer(shop, manager=manager)
    leads = [lead_of(customer) for _ in range(3)]
    html = advisor_client.get(reverse("leads:lead_detail", args=[leads[-1].pk])).content.decode()
    assert reverse("customers:customer_detail", args=[customer.pk]) in html
    assert "постоянный клиент: 3 обращения" in html
    assert "персональный менеджер: Игорь Петров" in html


# --- the list and the search from anywhere -------------------------------------------------


def _many(shop, n, offset=0):
    return [
        make_customer(
            shop,
            name=f"Клиент {i}",
            phones=(f"+7916{555 + offset}{i:04d}",),
            cars=(
                {
                    "make": "Kia",
                    "model": "Rio",
                    "plate": f"Е{i:03d}КХ77",
                    "vin": f"XW8ZZZ61Z{i:08d}",
                },
            ),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "query",
    ["8 (916) 555-00-02", "Клиент 2", "e002kx", "XW8ZZZ61Z00000002"],
    ids=["phone", "name", "plate-latin", "vin"],
)
def test_search_from_anywhere_finds_by_phone_name_plate_or_vin(advisor_client, shop, query):
    customers = _many(shop, 3)
    target = customers[2]
    lead_of(target)
    response = advisor_client.get(reverse("customers:search"), {"q": query})
    html = response.content.decode()
    assert reverse("customers:customer_detail", args=[target.pk]) in html
    for other in customers[:2]:
        assert reverse("customers:customer_detail", args=[other.pk]) not in html
    if query != "XW8ZZZ61Z00000002":  # a VIN is not on the request
        assert reverse("leads:lead_detail", args=[target.leads.get().pk]) in html
    entry = PersonalDataAccess.objects.get(action=AccessAction.CUSTOMERS_LISTED)
    assert entry.object_type == "search"


def test_search_box_is_in_every_staff_page(advisor_client):
    html = advisor_client.get(reverse("leads:inbox")).content.decode()
    assert f'action="{reverse("customers:search")}"' in html


def _queries(client, url, q) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, {"q": q}).status_code == 200
    return len(ctx.captured_queries)


def test_search_and_list_cost_the_same_queries_for_3_or_12_customers(advisor_client, shop):
    for c in _many(shop, 3):
        lead_of(c)
    search, listing = reverse("customers:search"), reverse("customers:customer_list")
    few = (_queries(advisor_client, search, "Клиент"), _queries(advisor_client, listing, ""))
    for c in _many(shop, 9, offset=1):
        lead_of(c)
    many = (_queries(advisor_client, search, "Клиент"), _queries(advisor_client, listing, ""))
    assert few == many


def test_list_shows_the_shops_customers_only(advisor_client, shop, other_shop):
    mine = make_customer(shop, name="Свой Клиент")
    make_customer(other_shop, name="Чужой Клиент")
    html = advisor_client.get(reverse("customers:customer_list")).content.decode()
    assert "Свой Клиент" in html and "Чужой Клиент" not in html
    assert "+7 916 123-45-67" in html and str(mine.cars.get()) in html
    entry = PersonalDataAccess.objects.get(action=AccessAction.CUSTOMERS_LISTED)
    assert entry.object_type == "customer_list"


def test_withdrawn_consent_hides_contacts_from_advisors_not_the_manager(
    advisor_client, manager, shop, client
):
    customer = make_customer(shop, email="olga@example.ru")
    record = consent_record_make(
        shop=shop,
        text=consent_text_current(shop),
        name=customer.name,
        phone="+79161234567",
        ip=None,
        user_agent="",
    )
    record.withdrawn_at = timezone.now()
    record.save()
    html = _card(advisor_client, customer).content.decode()
    assert "Контакты скрыты" in html
    assert "+7 916 123-45-67" not in html and "olga@example.ru" not in html
    client.force_login(manager.user)
    html = _card(client, customer).content.decode()
    assert "+7 916 123-45-67" in html and "отозвал согласие" in html


def test_card_costs_the_same_queries_for_two_or_six_requests(advisor_client, shop):
    customer = make_customer(shop)

    def add_history(n):
        for _ in range(n):
            lead = lead_of(customer)
            LeadPhotoFactory(lead=lead)
            OfferVersionFactory(
                offer__shop=shop,
                offer__lead=lead,
                status="accepted",
                accepted_choice={"0": 0},
                accepted_total_rub=Decimal("24000"),
            )
            IntakeRecordFactory(shop=shop, lead=lead)

    url = reverse("customers:customer_detail", args=[customer.pk])
    add_history(2)
    few = _queries(advisor_client, url, "")
    add_history(4)
    many = _queries(advisor_client, url, "")
    assert few == many
