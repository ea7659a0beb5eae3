"""The analytics page against a small history whose every figure is computed by hand.

The history (shop in Moscow time, open Mon–Fri 09:00–18:00, SLA 15 minutes), in a week
that starts on Monday `M` two weeks before the current one:

| lead | source     | written         | first answer      | by | path                       |
|------|------------|-----------------|-------------------|----|----------------------------|
| L1   | photo      | Mon 10:00       | 10:04 (240 s)     | A  | offer, accepted, car in, won |
| L2   | calculator | Mon 11:00       | 11:10 (600 s)     | A  | offer sent, lost «Дорого»  |
| L3   | photo      | Tue 19:30 (shut)| Wed 09:05 (48900 s)| B | lost «Не дозвонились»      |
| L4   | phone      | Wed 12:00       | 12:31 (1860 s)    | B  | booked, won                |
| L5   | photo      | Thu 14:00       | never             | —  | new                        |
| L6   | API (CRM)  | Thu 15:00       | 15:02 (120 s)     | A  | offer, accepted            |
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import panels
from analytics.services import facts_rebuild
from autoservice.apitokens import token_create
from autoservice.models import Role
from leads import services as lead_services
from leads.models import Status
from optima.models import DeliveryRecord, SupplierAnswer
from smartcalc import engine
from smartcalc import services as calc_services
from tests.factories import (
    CustomerOfferFactory,
    EstimateFactory,
    IntakeRecordFactory,
    MembershipFactory,
    OfferVersionFactory,
    OptimaSearchFactory,
    ShopFactory,
    SupplierFactory,
)

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
HOURS = {day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
HOURS |= {"sat": None, "sun": None}


def _monday() -> dt.date:
    today = timezone.now().astimezone(MSK).date()
    return today - dt.timedelta(days=today.weekday() + 14)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(_monday() + dt.timedelta(days=day), dt.time(hour, minute), MSK)


def _option(tags, customer, purchase, supplier, quality):
    return {
        "label": tags[0],
        "tags": tags,
        "brand": "BRAND",
        "number": "N1",
        "name": "Деталь",
        "quality": quality,
        "supplier_id": supplier.pk,
        "supplier_name": supplier.name,
        "list_price_rub": str(purchase),
        "purchase_rub": str(purchase),
        "customer_rub": str(customer),
        "vat_rub": "0",
        "vat_on_top_rub": "0",
        "delivery_date": "2026-12-01",
        "order_ref": {},
        "number_key": "N1",
        "in_stock": True,
    }


@pytest.fixture
def history(db):
    shop = ShopFactory(working_hours=HOURS, sla_minutes=15, timezone="Europe/Moscow")
    anna = MembershipFactory(shop=shop, user__first_name="Анна", user__last_name="Орлова")
    boris = MembershipFactory(shop=shop, user__first_name="Борис", user__last_name="Рябов")
    manager = MembershipFactory(shop=shop, role=Role.MANAGER)
    alpha = SupplierFactory(shop=shop, name="Альфа")
    beta = SupplierFactory(shop=shop, name="Бета")
    token, _secret = token_create(shop=shop, name="CRM")

    drivers = iter(range(1000))

    def lead(channel, when, **kwargs):
        # Each request from a driver of its own: a returning customer's request would go
        # to their personal manager and change whose figures it is.
        phone = f"+7916000{next(drivers):04d}"
        made, _created = lead_services.lead_create(
            shop=shop,
            channel=channel,
            data=lead_services.LeadInput(customer_name="Водитель", phone=phone),
            now=when,
            **kwargs,
        )
        return made

    def move(target, path, by, first, reason=""):
        when = first
        for status in path:
            lead_services.lead_change_status(
                lead=target,
                status=status,
                by=by,
                now=when,
                reason=reason if status == Status.LOST else "",
            )
            when += dt.timedelta(hours=1)

    def offer(target, labour, positions, sent, accepted=None, choice=None, total=None):
        return OfferVersionFactory(
            offer=CustomerOfferFactory(shop=shop, lead=target),
            status="accepted" if accepted else "sent",
            labour=[{"name": "Работы", "price_rub": str(labour)}],
            positions=positions,
            sent_at=sent,
            accepted_at=accepted,
            accepted_choice=choice or {},
            accepted_total_rub=total,
        )

    l1 = lead("photo", at(0, 10))
    move(l1, [Status.IN_PROGRESS], anna, at(0, 10, 4))
    offer(
        l1,
        10000,
        [
            {
                "options": [
                    _option(["рекомендуем"], 12000, 8000, alpha, "oe_replacement"),
                    _option(["оригинал"], 15000, 11000, beta, "original"),
                    _option(["самый выгодный"], 9000, 6000, alpha, "aftermarket"),
                ]
            },
            {
                "options": [
                    _option(["оригинал"], 5000, 3500, beta, "original"),
                    _option(["самый выгодный"], 3000, 2000, alpha, "aftermarket"),
                ]
            },
        ],
        sent=at(0, 12),
        accepted=at(0, 15),
        choice={"0": 0, "1": 1},
        total=Decimal("25000"),
    )
    move(l1, [Status.OFFER_SENT, Status.OFFER_ACCEPTED, Status.BOOKED, Status.WON], anna, at(0, 12))
    intake = IntakeRecordFactory(shop=shop, lead=l1)
    intake.sealed_at = at(1, 9)
    intake.save(update_fields=["sealed_at"])

    l2 = lead("calculator", at(0, 11))
    move(l2, [Status.IN_PROGRESS], anna, at(0, 11, 10))
    offer(
        l2,
        5000,
        [
            {
                "options": [
                    _option(["оригинал"], 8000, 6000, beta, "original"),
                    _option(["самый выгодный"], 4000, 2500, alpha, "aftermarket"),
                ]
            }
        ],
        sent=at(0, 12),
    )
    move(l2, [Status.OFFER_SENT, Status.LOST], anna, at(0, 12), reason="Дорого")

    l3 = lead("photo", at(1, 19, 30))
    move(l3, [Status.IN_PROGRESS, Status.LOST], boris, at(2, 9, 5), reason="Не дозвонились")

    l4 = lead("phone", at(2, 12))
    move(l4, [Status.IN_PROGRESS, Status.BOOKED, Status.WON], boris, at(2, 12, 31))

    lead("photo", at(3, 14))

    l6 = lead("phone", at(3, 15), via_token=token)
    move(l6, [Status.IN_PROGRESS], anna, at(3, 15, 2))
    offer(
        l6,
        2000,
        [
            {
                "options": [
                    _option(["рекомендуем"], 7000, 5000, alpha, "oe_replacement"),
                    _option(["оригинал"], 9000, 7000, beta, "original"),
                    _option(["самый выгодный"], 5500, 4000, alpha, "aftermarket"),
                ]
            }
        ],
        sent=at(3, 16),
        accepted=at(4, 10),
        choice={"0": 1},
        total=Decimal("11000"),
    )
    move(l6, [Status.OFFER_SENT, Status.OFFER_ACCEPTED], anna, at(3, 16))

    # Suppliers: number N1 priced by both (Альфа 1000 ₽, Бета 1200 ₽), number N2 failed.
    search = OptimaSearchFactory(shop=shop, numbers=["N1", "N2"])
    for supplier, number, state, ms, price in (
        (alpha, "N1", "answered", 300, "1000.00"),
        (beta, "N1", "answered", 500, "1200.00"),
        (alpha, "N2", "error", 40, None),
        (beta, "N2", "timeout", 4000, None),
    ):
        SupplierAnswer.objects.create(
            search=search,
            supplier=supplier,
            number_key=number,
            state=state,
            elapsed_ms=ms,
            fetched_at=at(1, 12),
            offers=[{"number_key": number, "price_rub": price}] if price else [],
        )
    promised = _monday() + dt.timedelta(days=3)
    for arrived, in_stock in ((promised, True), (promised + dt.timedelta(days=2), False)):
        DeliveryRecord.objects.create(
            shop=shop,
            supplier=alpha,
            brand="B",
            number="N1",
            promised_on=promised,
            claimed_in_stock=True,
            arrived_on=arrived,
            was_in_stock=in_stock,
            created_at=at(1, 12),
        )

    estimate = EstimateFactory(shop=shop)
    calc_services.estimate_revise(
        estimate=estimate,
        by=anna,
        damages=[
            engine.Damage("door_front_left", "dent", "2"),
            engine.Damage("bumper_front", "crack", "1"),
        ],
        extras=[engine.ExtraItem("Кронштейн бампера", part_rub=Decimal("1500"))],
        note="После осмотра",
    )
    facts_rebuild(shop=shop)
    return {"shop": shop, "manager": manager, "anna": anna, "estimate": estimate}


def _page(client, member):
    client.force_login(member.user)
    today = timezone.now().astimezone(MSK).date()
    response = client.get(
        reverse("analytics:analytics"), {"from": _monday().isoformat(), "to": today.isoformat()}
    )
    assert response.status_code == 200
    return response


def _panel(response, key) -> panels.Panel:
    for section in response.context["sections"]:
        for panel in section.panels:
            if panel.key == key:
                return panel
    raise AssertionError(key)


def _rows(panel) -> list[list[str]]:
    return [[cell.text for cell in row] for row in panel.rows]


def _text(value: str) -> str:
    return value.replace("\u202f", " ").replace("\u00a0", " ")


def test_key_figures_match_the_hand_computed_history(client, history):
    response = _page(client, history["manager"])
    kpis = {label: _text(value) for label, value, _hint in response.context["kpis"]}
    assert kpis["Заявок"] == "6"
    # Responses 120, 240, 600, 1860, 48900 s: the median is 600 s.
    assert kpis["Медиана первого ответа"] == "10 мин"
    # In time: L1, L2, L3 (the clock waited for the opening), L6; late: L4, L5 unanswered.
    assert kpis["Ответили в срок"] == "67 %"
    assert kpis["Пришли в нерабочее время"] == "1"
    assert kpis["Конверсия в выполненные"] == "33,3 %"  # L1 and L4 of 6
    assert kpis["Средний чек"] == "18 000 ₽"  # (25 000 + 11 000) / 2
    assert kpis["Рекомендацию (+30 %) приняли"] == "50 %"  # L1 took it, L6 did not


def test_speed_panels(client, history):
    response = _page(client, history["manager"])
    distribution = _panel(response, "response-distribution")
    assert [(r[0], r[1]) for r in _rows(distribution)] == [
        ("до 5 мин", "2"),
        ("5–15 мин", "1"),
        ("15–30 мин", "0"),
        ("30–60 мин", "1"),
        ("1–4 ч", "0"),
        ("4–24 ч", "1"),
        ("сутки и больше", "0"),
        ("нет ответа", "1"),
    ]
    # p90 of 120, 240, 600, 1860, 48900: 1860 + 0.6 × 47040 = 30084 s.
    assert "8 ч 21 мин" in distribution.note

    advisors = {r[0]: r[1:] for r in _rows(_panel(response, "response-advisors"))}
    # Анна: 120, 240, 600 → median 240 s, p90 240 + 0.8 × 360 = 528 s.
    assert advisors["Анна Орлова"] == ["3", "4 мин", "9 мин", _pct("100,0")]
    # Борис: 1860, 48900 → median 25380 s, p90 1860 + 0.9 × 47040 = 44196 s.
    assert advisors["Борис Рябов"] == ["2", "7 ч 03 мин", "12 ч 17 мин", _pct("50,0")]
    assert advisors["не назначен"] == ["1", "—", "—", _pct("0,0")]

    sources = {r[0]: r[1:] for r in _rows(_panel(response, "response-sources"))}
    # Фото: 240 and 48900 s (L5 unanswered) → median 24570 s, p90 240 + 0.9 × 48660 = 44034 s.
    assert sources["фото"] == ["3", "6 ч 50 мин", "12 ч 14 мин", _pct("66,7")]
    assert sources["API (CRM)"] == ["1", "2 мин", "2 мин", _pct("100,0")]

    grid = _rows(_panel(response, "response-grid"))
    assert grid[1][0] == "Вт" and grid[1][1 + 19] == "815,0"  # L3: 48900 s at 19:00 on Tuesday
    assert grid[0][1 + 10] == "4,0" and grid[3][1 + 14] == "—"  # L5 never answered


def _pct(text: str) -> str:
    return f"{text}\u202f%"


def test_funnel_panels(client, history):
    response = _page(client, history["manager"])
    funnel = _rows(_panel(response, "funnel"))
    assert [(r[0], r[1]) for r in funnel] == [
        ("Заявка", "6"),
        ("Связались", "5"),
        ("Расчёт или предложение отправлено", "4"),
        ("Предложение принято", "3"),
        ("Записан", "2"),
        ("Машина принята", "2"),
        ("Выполнена", "2"),
    ]
    assert funnel[2][2] == _pct("80,0") and funnel[6][3] == _pct("33,3")

    by_source = {r[0]: r[1:] for r in _rows(_panel(response, "funnel-sources"))}
    # Steps 0–6, lost, conversion to won.
    assert by_source["фото"] == ["3", "2", "1", "1", "1", "1", "1", "1", _pct("33,3")]
    assert by_source["калькулятор"] == ["1", "1", "1", "0", "0", "0", "0", "1", _pct("0,0")]
    assert by_source["звонок"] == ["1", "1", "1", "1", "1", "1", "1", "0", _pct("100,0")]
    assert by_source["API (CRM)"] == ["1", "1", "1", "1", "0", "0", "0", "0", _pct("0,0")]

    reasons = _rows(_panel(response, "lost-reasons"))
    assert reasons == [["Дорого", "1", _pct("50,0")], ["Не дозвонились", "1", _pct("50,0")]]


def test_money_panels(client, history):
    response = _page(client, history["manager"])
    value = _panel(response, "offer-value")
    # Sent with the preselected option: 10 000 + 12 000 + 5 000; 5 000 + 8 000; 2 000 + 7 000.
    assert "Отправлено 49 000 ₽ в 3 заявках, принято 36 000 ₽ в 2" in _text(value.note)
    assert "средний чек 18 000 ₽" in _text(value.note)

    picks = {r[0]: r[1] for r in _rows(_panel(response, "picks"))}
    assert picks == {
        "рекомендуемый": "1",
        "оригинал": "1",
        "самый выгодный": "1",
        "другой вариант": "0",
    }
    assert "был в 2 позициях, выбран в 1 — 50" in _text(_panel(response, "picks").note)

    margins = _rows(_panel(response, "margins"))
    assert [[_text(c) for c in row] for row in margins] == [
        ["Альфа", "неоригинал", "1", "3 000 ₽", "2 000 ₽", "1 000 ₽", "33,3 %"],
        ["Альфа", "ОЕМ-качество", "1", "12 000 ₽", "8 000 ₽", "4 000 ₽", "33,3 %"],
        ["Бета", "оригинал", "1", "9 000 ₽", "7 000 ₽", "2 000 ₽", "22,2 %"],
    ]


def test_estimate_honesty_panel(client, history):
    response = _page(client, history["manager"])
    first, last = history["estimate"].versions.order_by("number")
    before = Decimal(first.result["subtotal_rub"])
    found = ((Decimal(last.result["subtotal_rub"]) - before) * 100 / before).quantize(
        Decimal("0.01")
    )
    low, high = Decimal(first.result["hidden_low_pct"]), Decimal(first.result["hidden_high_pct"])
    row = _rows(_panel(response, "calibration-models"))[0]
    assert row[0] == "Hyundai Solaris" and row[1] == "1"
    assert _text(row[3]) == f"{float(found):.1f} %".replace(".", ",")
    below, above = int(found < low), int(found > high)
    assert row[4:] == [_pct("0,0" if below or above else "100,0"), str(below), str(above)]
    assert found > 0  # the bracket found at inspection raised the price


def test_supplier_panels(client, history):
    response = _page(client, history["manager"])
    answers = {r[0]: r[1:] for r in _rows(_panel(response, "supplier-answers"))}
    assert answers["Альфа"] == ["2", "300", _pct("0,0"), _pct("50,0")]
    assert answers["Бета"] == ["2", "500", _pct("50,0"), _pct("0,0")]
    speed = {r[0]: r[1:] for r in _rows(_panel(response, "supplier-speed"))}
    assert speed == {"Альфа": ["1", "300"], "Бета": ["1", "500"]}
    prices = {r[0]: r[1:] for r in _rows(_panel(response, "supplier-prices"))}
    assert prices["Альфа"] == ["1", _pct("100,0"), _pct("0,0")]
    assert prices["Бета"] == ["1", _pct("0,0"), _pct("20,0")]
    deliveries = _rows(_panel(response, "supplier-deliveries"))
    assert [r[1:] for r in deliveries] == [["Альфа", "2", _pct("50,0"), _pct("50,0")]]


def test_advisor_sees_only_own_leads(client, history):
    response = _page(client, history["anna"])
    kpis = {label: _text(value) for label, value, _hint in response.context["kpis"]}
    assert kpis["Заявок"] == "3"
    assert kpis["Медиана первого ответа"] == "4 мин"
    keys = {panel.key for section in response.context["sections"] for panel in section.panels}
    assert "supplier-answers" not in keys and "calibration-models" not in keys
    assert "Мои показатели" in response.content.decode()


def test_export_csv_and_xlsx_carry_the_panel_numbers(client, history):
    client.force_login(history["manager"].user)
    today = timezone.now().astimezone(MSK).date()
    query = {"from": _monday().isoformat(), "to": today.isoformat()}
    url = reverse("analytics:analytics_export", args=["funnel", "csv"])
    content = client.get(url, query).content.decode("utf-8-sig")
    lines = content.strip().splitlines()
    assert lines[0] == "Шаг;Заявок;От предыдущего;От всех"
    assert lines[1].startswith("Заявка;6;")
    assert lines[3].startswith("Расчёт или предложение отправлено;4;80,0;")

    from io import BytesIO

    from openpyxl import load_workbook

    url = reverse("analytics:analytics_export", args=["margins", "xlsx"])
    book = load_workbook(BytesIO(client.get(url, query).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[2][:6] == ("Альфа", "неоригинал", 1, 3000, 2000, 1000)


def test_other_shop_sees_none_of_it(client, history):
    stranger = MembershipFactory(role=Role.MANAGER)
    client.force_login(stranger.user)
    response = client.get(reverse("analytics:analytics"), {"days": "365"})
    kpis = {label: value for label, value, _hint in response.context["kpis"]}
    assert kpis["Заявок"] == "0"


def test_bad_period_is_a_russian_400_and_unknown_panel_a_404(client, history):
    client.force_login(history["manager"].user)
    response = client.get(
        reverse("analytics:analytics"), {"from": "2026-05-01", "to": "2026-04-01"}
    )
    assert response.status_code == 400
    assert "Начало периода позже конца" in response.content.decode()
    url = reverse("analytics:analytics_export", args=["nothing", "csv"])
    assert client.get(url).status_code == 404


def test_one_scan_on_postgresql_gives_the_portable_queries_figures(history):
    """The page's single GROUPING SETS scan and the per-block queries that the embedded
    SQLite default runs agree on every figure of the history."""
    from analytics.selectors import Period, Scope, speed_and_funnel

    today = timezone.now().astimezone(MSK).date()
    for advisor in (None, history["anna"]):
        scope = Scope(shop=history["shop"], period=Period(_monday(), today), advisor=advisor)
        one = speed_and_funnel(scope, grouping_sets=True)
        many = speed_and_funnel(scope, grouping_sets=False)
        keys = [k for k in many["totals"] if k != "refreshed_at"]
        assert {k: one["totals"][k] for k in keys} == {k: many["totals"][k] for k in keys}
        assert one["grid"] == many["grid"]
        for name in ("advisors", "sources"):
            strip = [{k: r[k] for k in many[name][0] if k in r} for r in one[name]]
            assert strip == many[name]
        assert one["periods"] == many["periods"] and one["lost_reasons"] == many["lost_reasons"]
