"""A manager builds a campaign (filter → count and preview → send), each consenting customer
gets one SMS through the outbox (fake SMS.ru: tests/sms/contracts/README.md,
https://sms.ru/api/send), the driver opens the landing and asks for the free diagnosis, the
lead is tied to the campaign and the analytics count it; the unsubscribe link stops
everything and stands on the customer's timeline."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignMessage, CampaignResponse
from customers.models import CustomerEvent
from leads.models import Lead, LeadEvent
from sms.models import SmsMessage
from tests.campaigns.conftest import make_car, make_customer
from tests.factories import OfferVersionFactory


def _audience(shop):
    old = timezone.now() - dt.timedelta(days=400)
    kia = make_customer(shop, phone="+79161110001", name="Иван Петров", last_seen_at=old)
    make_car(kia, make="Kia", model="Rio")
    no_consent = make_customer(shop, phone="+79161110002", consent=False, last_seen_at=old)
    make_car(no_consent, make="Kia", model="Rio")
    recent = make_customer(shop, phone="+79161110003")  # seen today
    make_car(recent, make="Kia", model="Rio")
    other_make = make_customer(shop, phone="+79161110004", last_seen_at=old)
    make_car(other_make, make="Lada", model="Vesta")
    return kia


def _build(manager_client, **fields):
    data = {
        "name": "Весенняя диагностика Kia",
        "make": "kia",
        "model": "",
        "not_seen_months": "6",
        "text": "{имя}, приглашаем {авто} на бесплатную диагностику: {ссылка}",
    }
    data.update(fields)
    return manager_client.post(reverse("campaigns:campaign_new"), data)


def test_campaign_reaches_only_consenting_owners_and_brings_a_counted_lead(
    shop, manager_client, smsru, django_capture_on_commit_callbacks
):
    kia = _audience(shop)
    response = _build(manager_client)
    campaign = Campaign.objects.get(shop=shop)
    assert response.status_code == 302
    preview = manager_client.get(response["Location"]).content.decode()
    assert "Получит 1 клиент" in preview
    assert "Иван, приглашаем Kia Rio на бесплатную диагностику" in preview
    assert not smsru.sends()  # nothing goes out before the confirmation

    send_url = reverse("campaigns:campaign_send", args=[campaign.pk])
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(send_url)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(send_url)  # a second tap sends nothing
    (sent,) = smsru.sends()
    assert sent.form["to"] == "79161110001"
    message = CampaignMessage.objects.get(campaign=campaign)
    assert message.customer == kia
    assert SmsMessage.objects.get().dedupe_key == f"campaign:{message.pk}"

    landing_url = re.search(r"https?://\S+/m/[\w-]+/(?=\s)", sent.form["msg"]).group(0)
    path = landing_url.split("://", 1)[1].split("/", 1)[1]
    page = manager_client.get("/" + path)
    assert page.status_code == 200
    assert "Записаться на бесплатную диагностику" in page.content.decode()
    done = manager_client.post("/" + path)
    manager_client.post("/" + path)  # tapped twice: still one lead
    lead = Lead.objects.get(shop=shop, channel="campaign")
    assert f"Заявка №{lead.number} принята" in done.content.decode()
    assert lead.customer == kia and lead.phone == "+79161110001"
    assert lead.vehicle_make == "Kia"
    response_row = CampaignResponse.objects.get()
    assert response_row.campaign == campaign and response_row.lead == lead
    assert LeadEvent.objects.filter(lead=lead, text__contains="Весенняя диагностика").exists()

    OfferVersionFactory(
        offer__shop=shop,
        offer__lead=lead,
        status="accepted",
        accepted_at=timezone.now(),
        accepted_total_rub=Decimal("15400.00"),
    )
    figures = manager_client.get(reverse("analytics:analytics_campaigns")).content.decode()
    row = re.search(r"Весенняя диагностика Kia.*?</tr>", figures, re.S).group(0)
    cells = re.findall(r'<td class="text-end">([^<]*)</td>', row)
    # sent, delivered, opened, leads, accepted offers, money
    assert cells[0] == "1" and cells[2] == "1" and cells[3] == "1" and cells[4] == "1"
    assert "15" in cells[5] and "400" in cells[5] and "₽" in cells[5]


def test_unsubscribe_stops_messages_and_stands_on_the_timeline(
    client, shop, manager_client, smsru, django_capture_on_commit_callbacks
):
    kia = _audience(shop)
    _build(manager_client)
    campaign = Campaign.objects.get(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("campaigns:campaign_send", args=[campaign.pk]))
    message = CampaignMessage.objects.get()

    page = client.get(reverse("campaigns:unsubscribe", args=[message.token]))
    assert page.status_code == 200
    assert "Вы отписались от рекламных сообщений" in page.content.decode()
    kia.refresh_from_db()
    assert kia.marketing_withdrawn_at is not None and not kia.has_marketing_consent
    line = CustomerEvent.objects.get(customer=kia, kind="consent")
    assert "Отказался от рекламных сообщений" in line.text

    _build(manager_client, name="Вторая волна")
    second = Campaign.objects.get(name="Вторая волна")
    preview = manager_client.get(reverse("campaigns:campaign", args=[second.pk])).content.decode()
    assert "Получат 0 клиентов" in preview
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("campaigns:campaign_send", args=[second.pk]))
    assert len(smsru.sends()) == 1  # only the first campaign's SMS ever went


def test_a_forged_token_is_404(client, shop):
    make_customer(shop)
    assert client.get("/m/1-AAAAAAAAAAAA/").status_code == 404
    assert client.get("/m/zz-forged/stop/").status_code == 404


def test_another_shops_campaign_is_404_and_advisors_are_refused(
    shop, other_shop, manager_client, advisor
):
    foreign = Campaign.objects.create(shop=other_shop, name="Чужая", text="{ссылка}")
    assert manager_client.get(reverse("campaigns:campaign", args=[foreign.pk])).status_code == 404
    send = manager_client.post(reverse("campaigns:campaign_send", args=[foreign.pk]))
    assert send.status_code == 404
    advisor_client = Client()
    advisor_client.force_login(advisor.user)
    assert advisor_client.get(reverse("campaigns:list")).status_code == 403
    assert advisor_client.get(reverse("campaigns:campaign_new")).status_code == 403


def test_a_bad_template_is_refused_in_russian_and_nothing_typed_is_lost(shop, manager_client):
    response = _build(manager_client, text="{имя}, скидка {процент}!", name="Скидки")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Неизвестная вставка {процент}" in page
    assert 'value="Скидки"' in page and "скидка {процент}!" in page
    assert not Campaign.objects.exists()


def test_rules_page_creates_and_edits_a_rule(shop, manager_client):
    response = manager_client.post(
        reverse("campaigns:rule_new"),
        {
            "name": "Шины",
            "kind": "seasonal",
            "enabled": "on",
            "interval_months": "12",
            "warranty_months": "12",
            "days_before": "14",
            "spring_date": "31.02",
            "autumn_date": "01.10",
            "mileage_step_km": "10000",
            "text": "{имя}, пора менять шины: {ссылка}",
        },
    )
    assert response.status_code == 400
    assert "Дата в виде ДД.ММ" in response.content.decode()
    assert 'value="Шины"' in response.content.decode()
    listing = manager_client.get(reverse("campaigns:list"))
    assert listing.status_code == 200


def test_a_customer_with_an_e_mail_also_gets_a_letter_with_both_links(
    shop, manager_client, smsru, mailoutbox, django_capture_on_commit_callbacks
):
    kia = _audience(shop)
    kia.email = "ivan@example.ru"
    kia.save()
    _build(manager_client)
    campaign = Campaign.objects.get(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("campaigns:campaign_send", args=[campaign.pk]))
    message = CampaignMessage.objects.get()
    (letter,) = mailoutbox
    assert letter.to == ["ivan@example.ru"]
    assert "бесплатную диагностику" in letter.subject
    assert f"/m/{message.token}/" in letter.body and f"/m/{message.token}/stop/" in letter.body
    message.refresh_from_db()
    assert message.email_sent_at is not None


def test_erasing_a_person_deletes_their_messages_and_kills_the_links(
    client, shop, manager_client, smsru, django_capture_on_commit_callbacks
):
    from autoservice import personal_data

    _audience(shop)
    _build(manager_client)
    campaign = Campaign.objects.get(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("campaigns:campaign_send", args=[campaign.pk]))
    message = CampaignMessage.objects.get()
    subject = {"shop": shop, "phones": frozenset({"+79161110001"}), "emails": frozenset()}
    found = {f.category: f for f in personal_data.subject_find(**subject)}
    assert found["campaign_messages"].items[0]["text"] == message.text
    act = personal_data.subject_erase(**subject)
    counts = {row["category"]: row["count"] for row in act.categories}
    assert counts["campaign_messages"] == 1
    assert not CampaignMessage.objects.exists()
    assert client.get(reverse("campaigns:landing", args=[message.token])).status_code == 404


def test_the_list_costs_the_same_queries_for_one_campaign_or_many(shop, manager_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert manager_client.get(reverse("campaigns:list")).status_code == 200
        return len(seen)

    Campaign.objects.create(shop=shop, name="Одна", text="{ссылка}")
    one = queries()
    for n in range(5):
        Campaign.objects.create(shop=shop, name=f"Ещё {n}", text="{ссылка}")
    assert queries() == one
