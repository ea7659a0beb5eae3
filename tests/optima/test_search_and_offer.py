"""From OEM numbers to the driver's acceptance, over real demo suppliers on loopback."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from leads.models import Status
from optima import offers
from optima.demo_supplier import start_in_thread
from optima.models import OfferStatus, OfferVersion, Search, SupplierAnswer
from tests.factories import LeadFactory, OfferVersionFactory, SupplierFactory


@pytest.fixture
def demo_suppliers():
    running = [
        start_in_thread(seed=1, name="Быстрый ABCP"),
        start_in_thread(seed=2, name="Армтек", latency_ms="50:120"),
        start_in_thread(seed=3, name="Сломанный", error_rate=1.0),
    ]
    yield running
    for handle in running:
        handle.stop()


@pytest.fixture
def connected(shop, demo_suppliers):
    fast, armtek, broken = demo_suppliers
    return [
        SupplierFactory(
            shop=shop,
            name="Быстрый ABCP",
            kind="abcp",
            base_url=fast.url,
            login="demo",
            secret="demo",
            discount_pct=Decimal("10"),
        ),
        SupplierFactory(
            shop=shop,
            name="Армтек",
            kind="armtek",
            base_url=armtek.url,
            login="demo",
            secret="demo",
            options={"VKORG": "4000", "KUNNR_RG": "43000001"},
        ),
        SupplierFactory(
            shop=shop,
            name="Сломанный",
            kind="abcp",
            base_url=broken.url,
            login="demo",
            secret="demo",
        ),
    ]


def _search(client, numbers: str, lead=None, capture=None):
    data = {"numbers": numbers}
    if lead is not None:
        data["lead"] = lead.pk
    with capture(execute=True):
        response = client.post(reverse("optima:parts_search"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return Search.objects.latest("created_at")


@pytest.mark.timeout(60)
def test_all_suppliers_are_asked_and_a_broken_one_does_not_spoil_the_table(
    advisor_client, connected, demo_suppliers, django_capture_on_commit_callbacks
):
    number = demo_suppliers[0].catalogue.oem_numbers[0]
    search = _search(
        advisor_client, f"  {number.lower()} ", capture=django_capture_on_commit_callbacks
    )
    states = {a.supplier.name: a.state for a in SupplierAnswer.objects.filter(search=search)}
    assert states["Сломанный"] == "error"
    assert states["Быстрый ABCP"] == "answered"
    html = advisor_client.get(reverse("optima:parts_results", args=[search.pk])).content.decode()
    assert "дешевле всех" in html and "быстрее всех" in html
    assert "Сломанный: ошибка" in html
    assert search.finished_at is not None


def test_numbers_are_checked_before_asking(advisor_client, connected):
    for text, message in [
        ("", "хотя бы один номер"),
        ("привет, ---", "Не похоже на номер"),
        ("\n".join(f"12345{i}" for i in range(60)), "Слишком много номеров"),
    ]:
        response = advisor_client.post(reverse("optima:parts_search"), {"numbers": text})
        assert response.status_code == 400
        assert message in response.content.decode()
    assert Search.objects.count() == 0


@pytest.mark.timeout(60)
def test_answers_are_cached_per_supplier_and_number(
    advisor_client, connected, demo_suppliers, django_capture_on_commit_callbacks
):
    number = demo_suppliers[0].catalogue.oem_numbers[1]
    _search(advisor_client, number, capture=django_capture_on_commit_callbacks)
    second = _search(advisor_client, number, capture=django_capture_on_commit_callbacks)
    cached = {a.supplier.name: a.from_cache for a in SupplierAnswer.objects.filter(search=second)}
    assert cached["Быстрый ABCP"] is True
    assert cached["Сломанный"] is False  # errors are not cached: asked again next time


@pytest.mark.timeout(90)
def test_offer_from_a_lead_is_sent_accepted_once_and_rechecked(
    client, advisor_client, advisor, connected, demo_suppliers, django_capture_on_commit_callbacks
):
    lead = LeadFactory(shop=advisor.shop, email="driver@example.ru")
    numbers = demo_suppliers[0].catalogue.oem_numbers[:2]
    search = _search(
        advisor_client, "\n".join(numbers), lead=lead, capture=django_capture_on_commit_callbacks
    )
    response = advisor_client.post(reverse("optima:offer_build", args=[search.pk]))
    version = OfferVersion.objects.get()
    assert response["Location"] == reverse("optima:offer_detail", args=[version.pk])
    assert version.positions and all(1 <= len(p["options"]) <= 3 for p in version.positions)
    with django_capture_on_commit_callbacks(execute=True):
        advisor_client.post(reverse("optima:offer_detail", args=[version.pk]), {"action": "send"})
    version.refresh_from_db()
    lead.refresh_from_db()
    assert version.status == OfferStatus.SENT and lead.status == Status.OFFER_SENT
    staff_page = advisor_client.get(
        reverse("optima:offer_detail", args=[version.pk])
    ).content.decode()
    link = re.search(r'id="offer-link">([^<]+)<', staff_page).group(1)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(path).content.decode()
    assert "закупка" not in page and "purchase" not in page  # staff-only figures stay hidden
    choice = {f"pos_{i}": "0" for i in range(len(version.positions))}
    review = client.post(path, {**choice, "action": "review"})
    total = re.search(r'name="total" value="([0-9.]+)"', review.content.decode()).group(1)
    assert Decimal(total) == offers.option_total(version, {k[4:]: 0 for k in choice})
    confirm = {**choice, "action": "confirm", "version": str(version.number), "total": total}
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(path, confirm, REMOTE_ADDR="10.9.8.7")
    assert accepted.status_code == 303
    version.refresh_from_db()
    lead.refresh_from_db()
    assert version.status == OfferStatus.ACCEPTED and version.accepted_ip == "10.9.8.7"
    assert lead.status == Status.OFFER_ACCEPTED
    assert len(version.recheck) == len(version.positions)
    assert {r["status"] for r in version.recheck} <= {"same", "price_up", "out_of_stock"}
    # A double tap on «Подтверждаю» is the same acceptance; another choice is refused.
    assert client.post(path, confirm).status_code == 303
    other = {**confirm, "total": "1.00"}
    again = client.post(path, other)
    assert again.status_code == 400 and "уже приняли" in again.content.decode()
    version.refresh_from_db()
    assert version.accepted_ip == "10.9.8.7"


def test_expired_offer_says_so_politely(client, shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    version.valid_until = version.created_at.date().replace(year=2020)
    version.save()
    page = client.get(reverse("optima:offer_public", args=[shop.slug, version.offer.token]))
    assert "больше не действует" in page.content.decode()
    refused = client.post(
        reverse("optima:offer_public", args=[shop.slug, version.offer.token]), {"pos_0": "0"}
    )
    assert refused.status_code == 400
    version.refresh_from_db()
    assert version.status == OfferStatus.SENT


def test_offer_link_of_another_shop_or_tampered_is_404(client, shop, other_shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    assert (
        client.get(
            reverse("optima:offer_public", args=[other_shop.slug, version.offer.token])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("optima:offer_public", args=[shop.slug, version.offer.token + "x"])
        ).status_code
        == 404
    )


def test_choice_out_of_range_is_refused(client, shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    version.valid_until = version.created_at.date().replace(year=2099)
    version.save()
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, {"pos_0": "7", "action": "review"})
    assert response.status_code == 400 and "Такого варианта нет" in response.content.decode()


@pytest.mark.timeout(60)
def test_credentials_never_reach_pages_or_logs(
    manager_client, shop, demo_suppliers, caplog, django_capture_on_commit_callbacks
):
    supplier = SupplierFactory(
        shop=shop,
        kind="abcp",
        base_url=demo_suppliers[0].url,
        login="demo",
        secret="wrong-Secret-4711",
    )
    with caplog.at_level(logging.DEBUG):
        search = _search(
            manager_client,
            demo_suppliers[0].catalogue.oem_numbers[0],
            capture=django_capture_on_commit_callbacks,
        )
        pages = [
            manager_client.get(reverse("optima:suppliers")).content.decode(),
            manager_client.get(
                reverse("optima:supplier_edit", args=[supplier.pk])
            ).content.decode(),
            manager_client.get(reverse("optima:parts_results", args=[search.pk])).content.decode(),
        ]
    answer = SupplierAnswer.objects.get(search=search, supplier=supplier)
    assert answer.state == "auth_error"
    for text in [*pages, caplog.text, answer.message]:
        assert "wrong-Secret-4711" not in text
    import hashlib

    md5 = hashlib.md5(b"wrong-Secret-4711").hexdigest()  # noqa: S324 (ABCP's scheme)
    assert md5 not in caplog.text


def test_editing_a_supplier_keeps_the_password_when_left_empty(manager_client, shop):
    supplier = SupplierFactory(
        shop=shop, secret="keep-me-123", base_url="https://id1.public.api.abcp.ru"
    )
    data = {
        "name": "Новое имя",
        "kind": "abcp",
        "base_url": "https://id1.public.api.abcp.ru",
        "login": "api@id1",
        "secret": "",
        "options": "{}",
        "discount_pct": "7.5",
        "cutoff_time": "15:00",
        "transit_days": "1",
        "timeout_s": "4",
        "is_active": "on",
        "discount-TOTAL_FORMS": "1",
        "discount-INITIAL_FORMS": "0",
        "discount-0-brand": "SAT",
        "discount-0-quality": "",
        "discount-0-discount_pct": "20",
    }
    assert (
        manager_client.post(reverse("optima:supplier_edit", args=[supplier.pk]), data).status_code
        == 302
    )
    supplier.refresh_from_db()
    assert supplier.secret == "keep-me-123" and supplier.name == "Новое имя"
    assert list(supplier.discounts.values_list("brand", "discount_pct")) == [("SAT", 20)]
    assert list(supplier.discounts.values_list("brand", "discount_pct")) == [("SAT", 20)]


def test_lead_page_offers_to_search_the_estimate_parts(advisor_client, advisor):
    from smartcalc import engine
    from smartcalc.models import Generation, ShopPartPrice
    from smartcalc.services import estimate_attach_lead
    from tests.factories import EstimateFactory

    model = Generation.objects.get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    ).model
    ShopPartPrice.objects.create(
        shop=advisor.shop,
        vehicle_model=model,
        part="headlamp_left",
        oem_number="92101-4L000",
        original_rub=Decimal("42000"),
    )
    estimate = EstimateFactory(
        shop=advisor.shop, damages=[engine.Damage("headlamp_left", "broken", "2")]
    )
    lead = LeadFactory(shop=advisor.shop)
    estimate_attach_lead(estimate=estimate, lead=lead)
    html = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "numbers=92101-4L000" in html
    assert "Подобрать запчасти из расчёта" in html


def test_a_whole_set_tap_only_preselects_and_accepts_nothing(client, shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    version.valid_until = version.created_at.date().replace(year=2099)
    version.save()
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    assert "самый выгодный" in client.get(url).content.decode()
    page = client.post(url, {"set": "самый выгодный"})
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'name="pos_0" value="1"[^>]*checked', html)
    assert 'data-total="19500.00"' in html
    version.refresh_from_db()
    assert version.status == OfferStatus.SENT and version.accepted_at is None


@pytest.mark.timeout(60)
def test_cross_numbers_of_the_shop_table_are_asked_and_shown_as_analogues(
    advisor_client, advisor, connected, demo_suppliers, django_capture_on_commit_callbacks
):
    from optima.models import CrossReference

    numbers = demo_suppliers[0].catalogue.oem_numbers
    CrossReference.objects.create(
        shop=advisor.shop, number_key="NOSUCH12345", analogue_brand="X", analogue_key=numbers[0]
    )
    search = _search(advisor_client, "NOSUCH-12345", capture=django_capture_on_commit_callbacks)
    assert search.crosses == {numbers[0]: "NOSUCH12345"}
    html = advisor_client.get(reverse("optima:parts_results", args=[search.pk])).content.decode()
    assert 'data-number="NOSUCH12345"' in html and "аналог" in html
    assert f'data-number="{numbers[0]}"' not in html
