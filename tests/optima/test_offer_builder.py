"""The offer is right: totals from plain numbers equal the server's to the kopeck, «оригинал»
and «быстрее всех» rank by the day the customer gets the part, the recommended option is
always offered when the 30 % rule finds one, the advisor chooses what goes in (and revises
without searching again), and nothing is accepted without the confirm step."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optima import offers
from optima.models import OfferStatus, OfferVersion, Search, SupplierAnswer
from optima.selectors import search_table
from tests.factories import LeadFactory, OfferVersionFactory, SupplierFactory

LATE = dt.time(23, 59, 59)  # orders are taken all day: the date is today + days + transit


def _offer(brand, number, price, days, quality, *, name="Бампер передний", qty=2, **extra):
    return {
        "brand": brand,
        "number_raw": number,
        "number_key": re.sub(r"[^0-9A-Z]", "", number.upper()),
        "name": name,
        "quality": quality,
        "price_rub": str(price),
        "delivery_days_max": days,
        "fetched_at": timezone.now().isoformat(),
        "qty": qty,
        "warranty_months": 12,
        "order_ref": {},
        **extra,
    }


def _search(shop, lead, answers):
    """A search with stored answers: {supplier: {number: [offers]}}; nobody is asked."""
    numbers = sorted({n for per_number in answers.values() for n in per_number})
    search = Search.objects.create(
        shop=shop,
        lead=lead,
        numbers=numbers,
        deadline_at=timezone.now(),
        finished_at=timezone.now(),
    )
    for supplier, per_number in answers.items():
        for number, rows in per_number.items():
            SupplierAnswer.objects.create(
                search=search, supplier=supplier, number_key=number, state="answered", offers=rows
            )
    return search


def _suppliers(shop):
    moscow = SupplierFactory(shop=shop, name="Склад в Москве", cutoff_time=LATE, transit_days=0)
    europe = SupplierFactory(shop=shop, name="Европа", cutoff_time=LATE, transit_days=0)
    return moscow, europe


def _today(shop):
    return timezone.now().astimezone(shop.tzinfo).date()


# --- ranking ----------------------------------------------------------------------------------


def test_original_is_the_one_the_customer_gets_soonest_then_the_cheaper(shop, advisor):
    moscow, europe = _suppliers(shop)
    lead = LeadFactory(shop=shop)
    search = _search(
        shop,
        lead,
        {
            europe: {"865114L000": [_offer("HYUNDAI/KIA", "86511-4L000", 20000, 21, "original")]},
            moscow: {
                "865114L000": [
                    _offer("HYUNDAI/KIA", "86511-4L000", 20910, 1, "original"),
                    _offer("HYUNDAI/KIA", "86511-4L000", 21500, 1, "original"),
                ]
            },
        },
    )
    version = offers.offer_build(lead=lead, search=search, by=advisor)
    (position,) = version.positions
    original = next(o for o in position["options"] if "оригинал" in offers.option_tags(o))
    assert original["supplier_name"] == "Склад в Москве"
    assert original["list_price_rub"] == "20910"
    assert original["delivery_date"] == (_today(shop) + dt.timedelta(days=1)).isoformat()
    # The page says why: sooner, and by how much the cheaper original is later.
    later = (_today(shop) + dt.timedelta(days=21)).strftime("%d.%m")
    assert "раньше всех" in original["why"] and later in original["why"]
    assert "910" in original["why"]


def test_fastest_mark_goes_to_the_earliest_date_with_cut_off_and_transit(shop):
    near = SupplierFactory(shop=shop, name="Быстрый", cutoff_time=LATE, transit_days=0)
    far = SupplierFactory(shop=shop, name="Дальний", cutoff_time=LATE, transit_days=3)
    lead = LeadFactory(shop=shop)
    # The far supplier promises one day but needs three more to reach the shop.
    search = _search(
        shop,
        lead,
        {
            far: {"865114L000": [_offer("SAT", "ST-1", 6000, 1, "aftermarket")]},
            near: {"865114L000": [_offer("TYG", "TY-1", 6500, 2, "aftermarket")]},
        },
    )
    (block,), _states = search_table(search)
    fastest = [r for r in block.rows if r.is_fastest]
    assert [r.supplier.name for r in fastest] == ["Быстрый"]
    assert fastest[0].delivery_date == min(r.delivery_date for r in block.rows)
    by_date, _states = search_table(search, sort="delivery")
    assert [r.supplier.name for r in by_date[0].rows] == ["Быстрый", "Дальний"]


def test_recommended_option_is_offered_even_when_it_is_also_the_original(shop, advisor):
    moscow, europe = _suppliers(shop)
    lead = LeadFactory(shop=shop)
    search = _search(
        shop,
        lead,
        {
            moscow: {
                "865114L000": [
                    _offer("HYUNDAI/KIA", "86511-4L000", 12000, 1, "original"),
                    _offer("SAT", "ST-HN01", 10000, 1, "aftermarket"),
                ]
            }
        },
    )
    version = offers.offer_build(lead=lead, search=search, by=advisor)
    (position,) = version.positions
    tags = [offers.option_tags(o) for o in position["options"]]
    assert tags == [["рекомендуем", "оригинал"], ["самый выгодный"]]
    assert position["options"][0]["why"] == ""  # one original: nothing to explain
    assert position["reasons"], "the driver is told why"
    assert offers.set_labels(version) == ["оригинал", "рекомендуем", "самый выгодный"]
    assert offers.choice_default(version) == {"0": 0}


def test_supplier_states_are_shown_as_readable_badges(shop):
    moscow, europe = _suppliers(shop)
    search = _search(shop, None, {moscow: {"865114L000": []}})
    SupplierAnswer.objects.create(search=search, supplier=europe, number_key="X1", state="timeout")
    _blocks, states = search_table(search)
    badges = {s["supplier"].name: s["badge"] for s in states}
    assert badges == {"Склад в Москве": "text-bg-success", "Европа": "text-bg-warning"}


# --- the builder --------------------------------------------------------------------------


def _solaris_lead_with_estimate(shop):
    from smartcalc import engine
    from smartcalc.services import estimate_attach_lead
    from tests.factories import EstimateFactory

    estimate = EstimateFactory(
        shop=shop,
        damages=[
            engine.Damage("taillamp_left", "broken", "2"),
            engine.Damage("door_front_left", "dent", "2"),
        ],
    )
    lead = LeadFactory(shop=shop)
    estimate_attach_lead(estimate=estimate, lead=lead)
    return lead, estimate


def test_estimate_lines_are_named_by_their_operation(shop):
    lead, _estimate = _solaris_lead_with_estimate(shop)
    names = [line["name"] for line in offers.estimate_lines(lead)]
    assert "фонарь задний левый: замена" in [n.lower() for n in names]
    assert not any("фонарь" in n.lower() and "окраск" in n.lower() for n in names)
    assert all(line["source"].startswith("estimate:") for line in offers.estimate_lines(lead))


def test_advisor_removes_a_part_picks_any_row_and_the_lines_and_revises_without_asking(
    shop, advisor, advisor_client
):
    moscow, europe = _suppliers(shop)
    lead, _estimate = _solaris_lead_with_estimate(shop)
    search = _search(
        shop,
        lead,
        {
            moscow: {
                "924014L000": [
                    _offer("HYUNDAI/KIA", "92401-4L000", 9000, 1, "original", name="Фонарь"),
                    _offer("DEPO", "221-1945L", 4000, 1, "aftermarket", name="Фонарь"),
                    _offer("TYC", "11-A473", 4200, 3, "aftermarket", name="Фонарь"),
                ],
                # A VW Polo bumper that came along in the search: not for this Solaris.
                "6RU807221": [_offer("VAG", "6RU807221", 15000, 2, "original", name="Бампер")],
            },
        },
    )
    version = offers.offer_build(lead=lead, search=search, by=advisor)
    assert {p["number"] for p in version.positions} == {"924014L000", "6RU807221"}
    answers_before = list(SupplierAnswer.objects.values_list("pk", "offers"))
    blocks = {b.number: b for b in offers.offer_blocks(search)}
    tyc = next(r for r in blocks["924014L000"].rows if r.offer["brand"] == "TYC")
    lamp_line = next(
        line["source"] for line in offers.estimate_lines(lead) if "фонарь" in line["name"].lower()
    )

    url = reverse("optima:offer_detail", args=[version.pk])
    page = advisor_client.get(url).content.decode()
    assert 'value="6RU807221|' in page and "Маржа" in page
    response = advisor_client.post(
        url, {"action": "compose", "line": [lamp_line], "pick": [f"924014L000|{tyc.key}"]}
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert [p["number"] for p in version.positions] == ["924014L000"]
    (option,) = version.positions[0]["options"]
    assert option["brand"] == "TYC"
    assert [line["source"] for line in version.labour] == [lamp_line]
    totals = offers.offer_totals(version, {"0": 0})
    assert totals.total_rub == Decimal(version.labour[0]["price_rub"]) + Decimal(
        option["customer_rub"]
    )
    assert totals.margin_rub == Decimal(option["customer_rub"]) - Decimal(option["purchase_rub"])
    page = advisor_client.get(url).content.decode()
    assert "Итого клиенту" in page

    # Sent, then revised: a new draft with the same parts and the same stored answers.
    offers.offer_send(version=version, by=advisor)
    response = advisor_client.post(url, {"action": "revise"})
    draft = OfferVersion.objects.get(offer=version.offer, number=2)
    assert response["Location"] == reverse("optima:offer_detail", args=[draft.pk])
    assert draft.status == OfferStatus.DRAFT and draft.search_id == search.pk
    assert draft.positions == version.positions and draft.labour == version.labour
    assert offers.offer_revise(version=version, by=advisor) == draft  # never two drafts
    assert list(SupplierAnswer.objects.values_list("pk", "offers")) == answers_before


def test_a_sent_offer_cannot_be_recomposed(shop, advisor):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    with pytest.raises(Exception, match="только черновик"):
        offers.offer_compose(version=version, estimate_sources=[], rows={})


def test_parts_search_from_a_calculator_lead_is_prefilled_with_catalogue_numbers(
    shop, advisor_client
):
    from smartcalc.models import DataVersion, ReferencePrice

    lead, estimate = _solaris_lead_with_estimate(shop)
    data = DataVersion.objects.get(is_current=True)
    ReferencePrice.objects.update_or_create(
        version=data,
        vehicle_model=estimate.generation.model,
        part="taillamp_left",
        defaults={
            "oem_number": "92401-4L000",
            "original_rub": Decimal("9000"),
            "source": "test",
        },
    )
    from smartcalc.selectors import estimate_part_numbers

    assert ("фонарь задний левый", "92401-4L000") in [
        (name.lower(), number) for name, number in estimate_part_numbers(estimate)
    ]
    html = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "92401-4L000" in html and "Подобрать запчасти из расчёта" in html


# --- the driver's page: totals and the confirm step ------------------------------------------


def _sent(shop, **kwargs):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT, **kwargs)
    version.valid_until = dt.date(2099, 1, 1)
    version.save()
    return version


def _page_total(html: str) -> int:
    """The page's own formula (offer.js): the labour and the checked options' data-price,
    added in kopecks from plain decimal strings."""

    def kopecks(text: str) -> int:
        assert re.fullmatch(r"\d+\.\d{2}", text), f"not a plain decimal: {text!r}"
        return int(text.replace(".", ""))

    total = kopecks(re.search(r'data-labour="([^"]*)"', html).group(1))
    for radio in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html):
        if " checked" in radio:
            total += kopecks(re.search(r'data-price="([^"]*)"', radio).group(1))
    return total


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250000"), places=2)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    labour=st.lists(prices, min_size=1, max_size=4),
    options=st.lists(st.lists(prices, min_size=1, max_size=3), min_size=1, max_size=4),
    data=st.data(),
)
def test_page_total_equals_the_server_total_for_every_choice(client, shop, labour, options, data):
    positions = [
        {
            "number": f"N{index}",
            "name": f"Деталь {index}",
            "reasons": [],
            "options": [
                {
                    "label": "ещё вариант",
                    "brand": "B",
                    "number": f"N{index}-{n}",
                    "quality": "aftermarket",
                    "supplier_id": 0,
                    "supplier_name": "П",
                    "list_price_rub": str(price),
                    "purchase_rub": str(price),
                    "customer_rub": str(price),
                    "delivery_date": "2026-12-01",
                    "number_key": f"N{index}{n}",
                }
                for n, price in enumerate(prices_of_position)
            ],
        }
        for index, prices_of_position in enumerate(options)
    ]
    version = _sent(
        shop,
        labour=[{"name": f"Работа {i}", "price_rub": str(p)} for i, p in enumerate(labour)],
        positions=positions,
    )
    choice = {
        str(index): data.draw(st.integers(0, len(p["options"]) - 1))
        for index, p in enumerate(positions)
    }
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    fields = {f"pos_{k}": str(v) for k, v in choice.items()}
    html = client.post(url, {**fields, "action": "change"}).content.decode()
    server = offers.option_total(version, choice)
    assert server == sum(labour) + sum(options[int(k)][v] for k, v in choice.items())
    assert Decimal(_page_total(html)) / 100 == server
    assert f'id="offer-total" data-empty="выберите детали" data-total="{server}"' in html
    review = client.post(url, {**fields, "action": "review"}).content.decode()
    assert f'name="total" value="{server}"' in review
    version.offer.delete()


def test_labour_total_is_a_plain_number_on_a_russian_page(client, shop):
    version = _sent(shop, labour=[{"name": "Работа и окраска", "price_rub": "18500.00"}])
    html = client.get(reverse("optima:offer_public", args=[shop.slug, version.offer.token]))
    assert 'data-labour="18500.00"' in html.content.decode()


def test_nothing_is_accepted_without_the_confirm_step(client, shop):
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    # «Принять выбранное» only shows what is being accepted.
    review = client.post(url, {"pos_0": "1", "action": "review"})
    html = review.content.decode()
    assert review.status_code == 200 and "Проверьте и подтвердите" in html
    for text in ("Ремонт и окраска двери", "SAT ST-HN01-000", "самый выгодный", "28.11.2026"):
        assert text in html
    assert "19\u202f500\u00a0₽" in html
    # A whole-set tap, an old "accept", a confirmation of another sum or another version:
    # nothing is accepted.
    attempts = [
        {"set": "оригинал"},
        {"pos_0": "1", "action": "accept"},
        {"pos_0": "1", "action": "confirm", "version": "1", "total": "7500.00"},
        {"pos_0": "1", "action": "confirm", "version": "2", "total": "19500.00"},
        {"pos_0": "1", "action": "confirm", "version": "1", "total": "19 500,00"},
        {"pos_0": "1", "action": "confirm", "version": "1"},
    ]
    for data in attempts:
        client.post(url, data)
        version.refresh_from_db()
        assert version.status == OfferStatus.SENT and version.accepted_at is None, data
    # The confirm step's own button records exactly what it listed; a double tap is one.
    confirm = {"pos_0": "1", "action": "confirm", "version": "1", "total": "19500.00"}
    assert client.post(url, confirm).status_code == 303
    assert client.post(url, confirm).status_code == 303
    version.refresh_from_db()
    assert version.status == OfferStatus.ACCEPTED
    assert version.accepted_choice == {"0": 1}
    assert version.accepted_total_rub == Decimal("19500.00")


def test_an_incomplete_choice_is_not_confirmed_and_keeps_the_picks(client, shop):
    version = _sent(shop)
    version.positions = version.positions * 2
    version.save()
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, {"pos_1": "1", "action": "review"})
    html = response.content.decode()
    assert response.status_code == 400 and "Выберите вариант для каждой детали" in html
    assert re.search(r'name="pos_1" value="1"[^>]*checked', html)
    assert "Проверьте и подтвердите" not in html


def test_the_driver_page_requires_the_csrf_token(shop):
    from django.test import Client

    version = _sent(shop)
    strict = Client(enforce_csrf_checks=True)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    confirm = {"pos_0": "1", "action": "confirm", "version": "1", "total": "19500.00"}
    assert strict.post(url, confirm).status_code == 403
    page = strict.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert strict.post(url, {**confirm, "csrfmiddlewaretoken": token}).status_code == 303
    version.refresh_from_db()
    assert version.status == OfferStatus.ACCEPTED


def test_the_original_explains_itself_against_every_original_found(shop, advisor):
    moscow, europe = _suppliers(shop)
    lead = LeadFactory(shop=shop)
    search = _search(
        shop,
        lead,
        {
            europe: {"865114L000": [_offer("HYUNDAI/KIA", "86511-4L000", 20000, 21, "original")]},
            moscow: {
                "865114L000": [
                    _offer("HYUNDAI/KIA", "86511-4L000", 20910, 1, "original"),
                    _offer("SAT", "ST-HN01", 9000, 1, "aftermarket"),
                ]
            },
        },
    )
    version = offers.offer_build(lead=lead, search=search, by=advisor)
    (block,) = offers.offer_blocks(search)
    keys = {r.offer["brand"] + r.supplier.name: r.key for r in block.rows}
    # Only the Moscow original offered: it still says the one from Europe is cheaper but later.
    offers.offer_compose(
        version=version,
        estimate_sources=[],
        rows={"865114L000": [keys["HYUNDAI/KIAСклад в Москве"], keys["SATСклад в Москве"]]},
    )
    original = version.positions[0]["options"][0]
    assert offers.option_tags(original) == ["оригинал"]
    assert "раньше всех" in original["why"] and "910" in original["why"]
    # The advisor offers the later original alone: no claim that it is the soonest.
    offers.offer_compose(
        version=version, estimate_sources=[], rows={"865114L000": [keys["HYUNDAI/KIAЕвропа"]]}
    )
    assert version.positions[0]["options"][0]["why"] == ""


def test_the_timeline_and_the_shop_mail_show_the_accepted_sum_formatted(client, shop):
    from django.core import mail

    from autoservice.models import OutboxMessage
    from autoservice.outbox import outbox_deliver_now
    from leads.models import EventKind, LeadEvent

    shop.notification_emails = "master@example.ru"
    shop.save()
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    client.post(url, {"pos_0": "1", "action": "confirm", "version": "1", "total": "19500.00"})
    message = OutboxMessage.objects.get(kind=offers.NOTIFY_OFFER_ACCEPTED)
    assert outbox_deliver_now(message.pk) == "sent"
    event = LeadEvent.objects.get(lead=version.offer.lead, kind=EventKind.NOTIFIED)
    assert event.text == "Клиент принял предложение на 19\u202f500\u00a0₽"
    assert "19\u202f500\u00a0₽" in mail.outbox[0].body and "19500.00" not in mail.outbox[0].body


def test_an_edited_estimate_line_stays_edited_when_the_offer_is_recomposed(
    shop, advisor, advisor_client
):
    lead, _estimate = _solaris_lead_with_estimate(shop)
    search = _search(shop, lead, {})
    version = offers.offer_build(lead=lead, search=search, by=advisor)
    first = version.labour[0]
    url = reverse("optima:offer_detail", args=[version.pk])
    page = advisor_client.get(url).content.decode()
    assert f'name="labour-0-source" value="{first["source"]}"' in page
    response = advisor_client.post(
        url,
        {
            "action": "labour",
            "labour-TOTAL_FORMS": "1",
            "labour-INITIAL_FORMS": "0",
            "labour-0-name": "Фонарь: замена со скидкой",
            "labour-0-price_rub": "1000",
            "labour-0-source": first["source"],
        },
    )
    assert response.status_code == 302
    version.refresh_from_db()
    offers.offer_compose(
        version=version,
        estimate_sources=[line["source"] for line in offers.estimate_lines(lead)],
        rows={},
    )
    names = [line["name"] for line in version.labour]
    assert names.count("Фонарь: замена со скидкой") == 1
    assert first["name"] not in names
    assert len(version.labour) == len(offers.estimate_lines(lead))
