"""The manager opens the analytics page at the staff viewports: every chart is drawn (SVG from
the server, no script), its numbers open as a table under it, a period preset changes the
figures, and a chart downloads as XLSX. Screenshots go to /tmp/shots-analytics/."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.services import facts_rebuild
from leads import services as lead_services
from leads.models import Status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/tmp/shots-analytics")
VIEWPORTS = {"desktop": (1440, 900), "tablet": (820, 1180)}


@pytest.fixture
def history(shop, advisor):
    now = timezone.now()
    for days_ago, answered in ((2, True), (10, True), (50, False), (80, True)):
        lead, _created = lead_services.lead_create(
            shop=shop,
            channel="photo",
            data=lead_services.LeadInput(customer_name="Водитель", phone=f"+7916000{days_ago:04d}"),
            now=now - dt.timedelta(days=days_ago),
        )
        if answered:
            lead_services.lead_change_status(
                lead=lead,
                status=Status.IN_PROGRESS,
                by=advisor,
                now=lead.created_at + dt.timedelta(minutes=days_ago),
            )
    facts_rebuild(shop=shop)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_reads_charts_tables_and_exports(browser, live_server, manager, history, viewport):
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="ru-RU", accept_downloads=True
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", manager.user.username)
        page.fill("#id_password", "correct-horse-42")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/staff/"))
        page.goto(f"{live_server.url}/staff/analytics/")
        expect(page.get_by_role("heading", name="Аналитика сервиса")).to_be_visible()
        leads = page.locator(".analytics-kpi-value").first
        expect(leads).to_have_text("4")
        chart = page.locator("#panel-response-distribution svg[role=img]")
        expect(chart).to_be_visible()
        assert chart.bounding_box()["width"] > 300
        table = page.locator("#panel-response-distribution table")
        expect(table).to_be_hidden()
        page.locator("#panel-response-distribution summary").click()
        expect(table).to_be_visible()
        expect(table).to_contain_text("до 5 мин")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"analytics-{viewport}.png"), full_page=True)

        page.get_by_role("link", name="30 дней").click()
        page.wait_for_url(re.compile(r"days=30"))
        expect(page.locator(".analytics-kpi-value").first).to_have_text("2")

        with page.expect_download() as download:
            page.locator("#panel-funnel").get_by_role("link", name="XLSX").click()
        assert download.value.suggested_filename.startswith("funnel-")
        assert download.value.suggested_filename.endswith(".xlsx")
    finally:
        context.close()
