"""From a calculator lead to the offer builder in the browser: «Подобрать запчасти из
расчёта» opens the search with the catalogue's numbers of the lead's VW Polo sedan and names
the part nobody numbered; the results and the builder filter their rows by brand, original
or analogue, stock and second-hand lines in the page. Screenshots at 1440×900 and 820×1180
go to $PARTS_SHOTS_DIR."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from optima.demo_supplier import start_in_thread
from optima.models import PricingSettings
from smartcalc import engine, services
from smartcalc.loader import load_calc_data
from smartcalc.models import Generation
from tests.factories import LeadFactory, SupplierFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("PARTS_SHOTS_DIR", "/tmp/shots-parts")
os.makedirs(SHOTS, exist_ok=True)
ANSWERS_TIMEOUT_MS = 20_000


def _log_in(page, live_server, membership) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))


def _polo_lead(shop):
    load_calc_data()  # the live server's database is flushed between browser tests
    generation = Generation.objects.get(
        model__make__name="Volkswagen", model__name="Polo", name="седан"
    )
    damages = [
        engine.Damage("bumper_front", "broken", "5"),
        engine.Damage("taillamp_left", "broken", "2"),
        engine.Damage("mirror_left", "broken", "2"),
    ]
    result = services.estimate_compute(
        shop=shop, generation=generation, body_type="sedan", damages=damages
    )
    estimate = services.estimate_save(
        shop=shop, generation=generation, body_type="sedan", damages=damages, result=result
    )
    lead = LeadFactory(
        shop=shop, vehicle_make="Volkswagen", vehicle_model="Polo седан", vehicle_year=2017
    )
    services.estimate_attach_lead(estimate=estimate, lead=lead)
    return lead


def _visible_rows(page, scope: str):
    return page.locator(f"{scope} tr[data-brand]:visible")


@pytest.mark.timeout(180)
def test_prefilled_search_and_row_filters_in_results_and_builder(
    desktop_page, live_server, shop, advisor
):
    lead = _polo_lead(shop)
    PricingSettings.objects.update_or_create(shop=shop, defaults={"allow_used_parts": False})
    page = desktop_page
    page.set_viewport_size({"width": 1440, "height": 900})
    with start_in_thread(seed=1, name="АвтоРесурс") as abcp:
        SupplierFactory(
            shop=shop,
            name="АвтоРесурс",
            kind="abcp",
            base_url=abcp.url,
            login="demo",
            secret="demo",
        )
        _log_in(page, live_server, advisor)
        page.goto(f"{live_server.url}/staff/leads/{lead.pk}/")
        page.get_by_role("link", name="Подобрать запчасти из расчёта").click()
        page.wait_for_url(re.compile(r"/staff/parts/\?"))
        expect(page.locator("#id_numbers")).to_have_value("6RU807221A\n6RU945095M")
        expect(page.locator(".parts-unknown")).to_contain_text(
            "номер не известен: зеркало левое — введите вручную"
        )
        page.screenshot(path=f"{SHOTS}/parts-search-prefilled-1440.png", full_page=True)

        page.get_by_role("button", name="Спросить всех поставщиков").click()
        page.wait_for_url(re.compile(r"/staff/parts/\d+/$"))
        expect(page.locator("#parts-table .supplier-states .badge").first).to_contain_text(
            "ответил", timeout=ANSWERS_TIMEOUT_MS
        )
        bar = page.locator("[data-rows-filter]")
        expect(bar).to_be_visible()
        all_rows = page.locator("#parts-table tr[data-brand]")
        total = all_rows.count()
        assert total > 2
        # Second-hand lines are hidden: the shop does not sell them.
        for row in _visible_rows(page, "#parts-table").all():
            assert row.get_attribute("data-condition") == "new"
        brands = bar.locator("[name=f-brand] option").all_inner_texts()[1:]
        assert len(brands) >= 2 and brands == sorted(brands)
        bar.locator("[name=f-brand]").select_option(brands[0])
        shown = _visible_rows(page, "#parts-table")
        assert 0 < shown.count() < total
        for row in shown.all():
            assert row.get_attribute("data-brand") == brands[0]
        expect(bar.locator(".rows-filter-count")).to_contain_text(f"из {total}")
        for block in page.locator("#parts-table .number-block").all():
            if not block.locator("tr[data-brand]:visible").count():
                expect(block.locator(".rows-filter-empty")).to_have_text(
                    "Все варианты этой детали скрыты фильтром."
                )
                expect(block.locator("table")).to_be_hidden()
        page.screenshot(path=f"{SHOTS}/parts-results-filtered-1440.png", full_page=True)
        page.set_viewport_size({"width": 820, "height": 1180})
        page.screenshot(path=f"{SHOTS}/parts-results-filtered-820.png", full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})
        bar.locator("[name=f-brand]").select_option("")
        bar.locator("[name=f-used]").check()
        expect(_visible_rows(page, "#parts-table")).to_have_count(total)

        # The builder: originals only, then analogues in stock; ticked rows stay in sight.
        page.get_by_role("button", name="Собрать предложение клиенту").click()
        page.wait_for_url(re.compile(r"/staff/parts/offers/\d+/$"))
        builder = page.locator("#offer-builder [data-rows-filter]")
        builder.locator("[name=f-quality]").select_option("original")
        for row in _visible_rows(page, "#offer-builder").all():
            ticked = row.locator("input[name=pick]").is_checked()
            assert ticked or row.get_attribute("data-quality") == "original"
        builder.locator("[name=f-quality]").select_option("analogue")
        builder.locator("[name=f-stock]").check()
        for row in _visible_rows(page, "#offer-builder").all():
            if not row.locator("input[name=pick]").is_checked():
                assert row.get_attribute("data-quality") != "original"
                assert row.get_attribute("data-in-stock") == "1"
        page.locator("#offer-builder").scroll_into_view_if_needed()
        page.screenshot(path=f"{SHOTS}/offer-builder-filtered-1440.png", full_page=True)
        page.set_viewport_size({"width": 820, "height": 1180})
        page.screenshot(path=f"{SHOTS}/offer-builder-filtered-820.png", full_page=True)


@pytest.mark.timeout(120)
def test_without_javascript_the_whole_table_shows(browser, live_server, shop, advisor):
    lead = _polo_lead(shop)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}, locale="ru-RU"
    )
    page = context.new_page()
    try:
        with start_in_thread(seed=1) as abcp:
            SupplierFactory(shop=shop, kind="abcp", base_url=abcp.url, login="demo", secret="demo")
            _log_in(page, live_server, advisor)
            page.goto(f"{live_server.url}/staff/parts/?lead={lead.pk}")
            expect(page.locator("#id_numbers")).to_have_value("6RU807221A\n6RU945095M")
            page.get_by_role("button", name="Спросить всех поставщиков").click()
            page.wait_for_url(re.compile(r"/staff/parts/\d+/$"))
            # No polling without JS: reload until every supplier has answered.
            for _attempt in range(40):
                if page.locator(".supplier-states .badge", has_text="ответил").count():
                    break
                page.wait_for_timeout(500)
                page.reload()
            expect(page.locator("[data-rows-filter]")).to_be_hidden()
            rows = page.locator("#parts-table tr[data-brand]")
            assert rows.count() > 0
            assert rows.count() == page.locator("#parts-table tr[data-brand]:visible").count()
    finally:
        context.close()
