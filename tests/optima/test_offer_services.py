"""The offer and supplier actions, through the services and through the pages that call them:
the pages only parse the request, the services write, and an unknown POST action is refused."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from autoservice.models import OutboxMessage
from autoservice.outbox import outbox_deliver_now
from leads.models import EventKind, LeadEvent
from optima import offers, services
from optima.models import (
    MarkupRule,
    OfferStatus,
    PriceListRow,
    PricingSettings,
    Supplier,
    SupplierDiscount,
)
from tests.factories import LeadFactory, OfferVersionFactory, ShopFactory, SupplierFactory


def _sent(shop, **kwargs):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT, **kwargs)
    version.valid_until = dt.date(2099, 1, 1)
    version.save()
    return version


# --- POST actions are dispatched through a table -------------------------------------------


def test_unknown_action_on_the_offer_page_is_refused_and_changes_nothing(advisor_client, shop):
    version = OfferVersionFactory(offer__shop=shop)
    url = reverse("optima:offer_detail", args=[version.pk])
    for data in ({"action": "withdraw"}, {}):
        response = advisor_client.post(url, data)
        assert response.status_code == 400
        assert "Неизвестное действие" in response.content.decode()
    version.refresh_from_db()
    assert version.status == OfferStatus.DRAFT
    assert version.labour == [{"name": "Ремонт и окраска двери", "price_rub": "12000.00"}]


def test_unknown_action_on_the_supplier_page_is_refused_and_changes_nothing(manager_client, shop):
    supplier = SupplierFactory(shop=shop, name="Старое имя")
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]),
        {"action": "delete", "name": "Новое имя", "kind": "abcp"},
    )
    assert response.status_code == 400
    assert "Неизвестное действие «delete»" in response.content.decode()
    assert Supplier.objects.get(pk=supplier.pk).name == "Старое имя"


def test_unknown_action_on_the_driver_page_is_refused_and_nothing_is_accepted(client, shop):
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, {"pos_0": "0", "action": "accept"})
    assert response.status_code == 400
    assert "Неизвестное действие" in response.content.decode()
    version.refresh_from_db()
    assert version.status == OfferStatus.SENT and version.accepted_at is None


def test_price_list_cannot_be_loaded_before_the_supplier_is_saved(manager_client, shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = manager_client.post(
        reverse("optima:supplier_create"),
        {"action": "pricelist", "file": SimpleUploadedFile("p.csv", b"brand;number;price\n")},
    )
    assert response.status_code == 400
    assert "Сначала сохраните поставщика" in response.content.decode()
    assert not Supplier.objects.exists() and not PriceListRow.objects.exists()


# --- the driver's acceptance and question --------------------------------------------------


def test_acceptance_keeps_the_address_and_browser_it_is_given(shop):
    version = _sent(shop)
    offers.offer_accept(
        version=version,
        choice={"0": 1},
        confirmed_total_rub=Decimal("19500.00"),
        ip="203.0.113.9",
        user_agent="Phone/1.0 " + "x" * 500,
    )
    version.refresh_from_db()
    assert version.status == OfferStatus.ACCEPTED
    assert version.accepted_ip == "203.0.113.9"
    assert version.accepted_user_agent.startswith("Phone/1.0 ")
    assert len(version.accepted_user_agent) == offers.USER_AGENT_MAX_CHARS
    assert version.accepted_total_rub == Decimal("19500.00")


def test_acceptance_without_a_known_address_is_still_kept(shop):
    version = _sent(shop)
    offers.offer_accept(
        version=version,
        choice={"0": 0},
        confirmed_total_rub=Decimal("36000.00"),
        ip=None,
        user_agent="",
    )
    version.refresh_from_db()
    assert version.status == OfferStatus.ACCEPTED and version.accepted_ip is None


def test_driver_page_passes_the_browser_to_the_acceptance(client, shop):
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(
        url,
        {"pos_0": "0", "action": "confirm", "version": "1", "total": "36000.00"},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Mozilla/5.0 (Android 14)",
    )
    assert response.status_code == 303
    version.refresh_from_db()
    assert version.accepted_ip == "198.51.100.4"
    assert version.accepted_user_agent == "Mozilla/5.0 (Android 14)"


def test_an_empty_question_is_refused_and_nothing_is_written(shop):
    version = _sent(shop)
    with pytest.raises(ValidationError, match="Напишите вопрос"):
        offers.offer_ask(version=version, question="   ")
    version.refresh_from_db()
    assert version.question == ""
    assert not LeadEvent.objects.filter(lead=version.offer.lead, kind=EventKind.NOTE).exists()
    assert not OutboxMessage.objects.exists()


def test_driver_question_reaches_the_timeline_and_the_shop(client, shop):
    shop.notification_emails = "master@example.ru"
    shop.save()
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, {"action": "question", "question": "  А покраска входит?  "})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.question == "А покраска входит?"
    note = LeadEvent.objects.get(lead=version.offer.lead, kind=EventKind.NOTE)
    assert note.text == "Вопрос клиента по предложению: А покраска входит?"
    message = OutboxMessage.objects.get(kind=offers.NOTIFY_OFFER_ACCEPTED)
    assert message.payload == {"version_id": version.pk, "question": True}
    assert outbox_deliver_now(message.pk) == "sent"
    assert mail.outbox[0].to == ["master@example.ru"]
    notified = LeadEvent.objects.get(lead=version.offer.lead, kind=EventKind.NOTIFIED)
    assert notified.text == "Клиент задал вопрос по предложению"


def test_empty_question_on_the_driver_page_keeps_the_picked_options(client, shop):
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, {"action": "question", "question": "", "pos_0": "1"})
    assert response.status_code == 400
    assert "Напишите вопрос" in response.content.decode()
    assert response.context["choice"] == {"0": 1}


def test_sent_offer_mail_is_written_to_the_lead_timeline(shop, advisor):
    lead = LeadFactory(shop=shop, email="driver@example.ru")
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    offers.offer_send(version=version, by=advisor)
    message = OutboxMessage.objects.get(kind=offers.NOTIFY_OFFER_SENT)
    assert outbox_deliver_now(message.pk) == "sent"
    assert mail.outbox[0].to == ["driver@example.ru"]
    event = LeadEvent.objects.get(lead=lead, kind=EventKind.NOTIFIED)
    assert event.text == "Предложение отправлено клиенту на driver@example.ru"


# --- labour lines ----------------------------------------------------------------------------


def test_labour_of_a_sent_offer_stays_as_the_driver_saw_it(shop):
    version = _sent(shop)
    with pytest.raises(ValidationError, match="только в черновике"):
        offers.offer_labour_set(version=version, lines=[("Окраска", Decimal("100"))])
    version.refresh_from_db()
    assert version.labour == [{"name": "Ремонт и окраска двери", "price_rub": "12000.00"}]


def test_labour_form_on_a_sent_offer_says_why_it_is_refused(manager_client, shop):
    version = _sent(shop)
    response = manager_client.post(
        reverse("optima:offer_detail", args=[version.pk]),
        {
            "action": "labour",
            "labour-TOTAL_FORMS": "1",
            "labour-INITIAL_FORMS": "0",
            "labour-0-name": "Окраска",
            "labour-0-price_rub": "100",
        },
    )
    assert response.status_code == 400
    assert "только в черновике" in response.content.decode()
    version.refresh_from_db()
    assert version.labour == [{"name": "Ремонт и окраска двери", "price_rub": "12000.00"}]


def test_labour_service_replaces_the_draft_lines(shop):
    version = OfferVersionFactory(offer__shop=shop)
    offers.offer_labour_set(
        version=version,
        lines=[("Снятие бампера", Decimal("1500")), ("Окраска", Decimal("8900.50"))],
    )
    version.refresh_from_db()
    assert version.labour == [
        {"name": "Снятие бампера", "price_rub": "1500.00", "vat_rub": "0.00"},
        {"name": "Окраска", "price_rub": "8900.50", "vat_rub": "0.00"},
    ]


# --- pricing rules ---------------------------------------------------------------------------

RULES = {
    "rules-round_to_rub": "50",
    "rules-search_deadline_s": "5",
    "rules-recommend_threshold_pct": "25",
    "rules-offer_valid_days": "4",
}


def _markup_form(rules: list[dict], extra: list[dict]) -> dict:
    data = {
        **RULES,
        "markup-TOTAL_FORMS": str(len(rules) + len(extra)),
        "markup-INITIAL_FORMS": str(len(rules)),
    }
    for index, row in enumerate([*rules, *extra]):
        for key, value in row.items():
            data[f"markup-{index}-{key}"] = value
    return data


def test_pricing_page_adds_changes_and_removes_markup_bands(manager_client, shop):
    keep = MarkupRule.objects.create(shop=shop, price_from_rub=0, markup_pct=40)
    drop = MarkupRule.objects.create(shop=shop, price_from_rub=5000, markup_pct=30)
    data = _markup_form(
        [
            {"id": keep.pk, "quality": "", "price_from_rub": "0", "markup_pct": "35"},
            {"id": drop.pk, "quality": "", "price_from_rub": "5000", "markup_pct": "30"},
        ],
        [{"quality": "original", "price_from_rub": "0", "markup_pct": "22"}],
    )
    data["markup-1-DELETE"] = "on"
    response = manager_client.post(reverse("optima:suppliers"), data)
    assert response.status_code == 302
    assert sorted(
        MarkupRule.objects.filter(shop=shop).values_list("quality", "price_from_rub", "markup_pct")
    ) == [("", Decimal("0"), Decimal("35")), ("original", Decimal("0"), Decimal("22"))]
    rules = PricingSettings.objects.get(shop=shop)
    assert rules.round_to_rub == 50 and rules.offer_valid_days == 4


def test_pricing_service_refuses_rows_of_another_shop(shop, other_shop):
    mine = services.pricing_settings(shop)
    theirs = MarkupRule.objects.create(shop=other_shop, price_from_rub=0, markup_pct=10)
    theirs.markup_pct = Decimal("99")
    with pytest.raises(ValueError):
        services.pricing_rules_save(shop=shop, settings=mine, markups=[theirs])
    with pytest.raises(ValueError):
        services.pricing_rules_save(shop=other_shop, settings=mine)
    services.pricing_rules_save(shop=shop, settings=mine, markups_removed=[theirs])
    theirs.refresh_from_db()
    assert theirs.shop == other_shop and theirs.markup_pct == Decimal("10")


# --- suppliers -------------------------------------------------------------------------------

SUPPLIER = {
    "name": "Автодеталь",
    "kind": "abcp",
    "base_url": "https://id1.public.api.abcp.ru",
    "login": "api@id1",
    "secret": "pa55-word",
    "options": "{}",
    "discount_pct": "5",
    "cutoff_time": "15:00",
    "transit_days": "1",
    "timeout_s": "4",
    "is_active": "on",
}


def test_new_supplier_is_connected_with_its_discounts(manager_client, shop, other_shop):
    response = manager_client.post(
        reverse("optima:supplier_create"),
        {
            "action": "save",
            **SUPPLIER,
            "discount-TOTAL_FORMS": "2",
            "discount-INITIAL_FORMS": "0",
            "discount-0-brand": "SAT",
            "discount-0-quality": "",
            "discount-0-discount_pct": "20",
            "discount-1-brand": "",
            "discount-1-quality": "original",
            "discount-1-discount_pct": "3",
        },
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get()
    assert supplier.shop == shop and supplier.secret == "pa55-word"
    assert sorted(supplier.discounts.values_list("brand", "quality", "discount_pct")) == [
        ("", "original", Decimal("3")),
        ("SAT", "", Decimal("20")),
    ]


def test_removed_discount_is_deleted_and_the_others_stay(manager_client, shop):
    supplier = SupplierFactory(shop=shop)
    gone = SupplierDiscount.objects.create(supplier=supplier, brand="SAT", discount_pct=20)
    kept = SupplierDiscount.objects.create(supplier=supplier, brand="TYG", discount_pct=10)
    response = manager_client.post(
        reverse("optima:supplier_edit", args=[supplier.pk]),
        {
            **SUPPLIER,
            "discount-TOTAL_FORMS": "2",
            "discount-INITIAL_FORMS": "2",
            "discount-0-id": gone.pk,
            "discount-0-brand": "SAT",
            "discount-0-discount_pct": "20",
            "discount-0-DELETE": "on",
            "discount-1-id": kept.pk,
            "discount-1-brand": "TYG",
            "discount-1-discount_pct": "12",
        },
    )
    assert response.status_code == 302
    assert list(supplier.discounts.values_list("brand", "discount_pct")) == [("TYG", Decimal("12"))]


def test_supplier_service_refuses_a_supplier_of_another_shop(shop, other_shop):
    theirs = SupplierFactory(shop=other_shop, name="Чужой")
    theirs.name = "Мой"
    with pytest.raises(ValueError):
        services.supplier_save(shop=shop, supplier=theirs)
    theirs.refresh_from_db()
    assert theirs.name == "Чужой" and theirs.shop == other_shop


# --- asking suppliers ------------------------------------------------------------------------


def test_price_list_supplier_is_asked_from_its_loaded_rows(shop):
    supplier = SupplierFactory(shop=shop, kind="pricelist", base_url="")
    count, errors = services.pricelist_load(
        supplier=supplier,
        content=b"brand;number;price;qty;delivery_days\nDEPO;221-1191L;9 800,50;2;1\n",
        filename="price.csv",
        confirm=False,
    )
    assert (count, errors) == (1, [])
    answer = services.supplier_ask(
        supplier=supplier, number="2211191L", deadline=time.monotonic() + 5
    )
    assert answer.state == "answered"
    assert [(o.brand, o.price_rub) for o in answer.offers] == [("DEPO", Decimal("9800.50"))]
    assert services.supplier_credentials(supplier)["rows"][0]["number_key"] == "2211191L"


def test_recheck_never_asks_a_supplier_of_another_shop(shop):
    stranger = SupplierFactory(shop=ShopFactory(), base_url="http://127.0.0.1:9")
    version = _sent(shop)
    for position in version.positions:
        for option in position["options"]:
            option["supplier_id"] = stranger.pk
    version.accepted_choice = {"0": 0}
    version.save()
    results = offers.offer_recheck(version.pk)
    assert [r["status"] for r in results] == ["supplier_gone"]
