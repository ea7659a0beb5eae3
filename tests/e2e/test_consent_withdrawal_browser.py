"""A driver withdraws consent on a phone with JavaScript switched off, from the link on the
thank-you page; the shop's manager then reads who saw that driver's data in the access log."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from autoservice.consent import consent_text_current
from autoservice.models import AccessAction, PersonalDataAccess
from leads.models import Channel, Lead
from leads.services import LeadInput, driver_request_submit
from leads.withdrawal import consent_withdraw, withdrawal_subject, withdrawal_token
from tests.factories import MembershipFactory

from .conftest import PHONE

TABLET = {"viewport": {"width": 820, "height": 1180}, "locale": "ru-RU", "has_touch": True}
DESKTOP_WIDE = {"viewport": {"width": 1440, "height": 900}, "locale": "ru-RU"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SHOTS = "/tmp/shots-access"


def _lead(shop, phone: str = "+79031234567") -> Lead:
    return driver_request_submit(
        shop=shop,
        channel=Channel.PHOTO,
        contact=LeadInput(customer_name="Анна Смирнова", phone=phone),
        consent_text=consent_text_current(shop),
        submission_key=uuid.uuid4(),
        upload_token=uuid.uuid4().hex,
        ip="203.0.113.5",
        user_agent="Mozilla/5.0",
    ).lead


@pytest.mark.timeout(120)
def test_driver_withdraws_consent_on_a_phone_without_javascript(browser, live_server, shop):
    lead = _lead(shop)
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{shop.slug}/photo/sent/{lead.public_token}/")
    link = page.get_by_role("link", name="Отозвать согласие на обработку персональных данных")
    expect(link).to_be_visible()
    page.screenshot(path=f"{SHOTS}/phone-thank-you.png", full_page=True)
    link.click()
    expect(page.get_by_role("heading", name=re.compile("Отозвать согласие"))).to_be_visible()
    expect(page.get_by_text("в течение 30 дней", exact=False).first).to_be_visible()
    page.screenshot(path=f"{SHOTS}/phone-withdraw.png", full_page=True)
    page.get_by_role("button", name="Отозвать согласие").click()
    expect(page.get_by_role("heading", name="Согласие отозвано")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/phone-withdrawn.png", full_page=True)
    context.close()
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at is not None


@pytest.mark.timeout(120)
def test_advisor_sees_a_withdrawn_lead_frozen_and_the_manager_reads_the_access_log(
    browser, live_server, shop
):
    lead = _lead(shop)
    _lead(shop, phone="+79035550011")  # another driver's request, still processed
    token = withdrawal_token(shop=shop, consent_ids=[lead.consent_id])
    consent_withdraw(subject=withdrawal_subject(shop=shop, token=token))
    advisor = MembershipFactory(shop=shop)
    manager = MembershipFactory(shop=shop, role="manager")
    for member, path in ((advisor, f"/staff/leads/{lead.pk}/"), (manager, "/staff/access-log/")):
        context = browser.new_context(**(TABLET if member is advisor else DESKTOP_WIDE))
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", member.user.username)
        page.fill("#id_password", "correct-horse-42")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/staff/"))
        page.goto(f"{live_server.url}{path}")
        if member is advisor:
            expect(page.get_by_role("heading", name="Контакты скрыты")).to_be_visible()
            expect(page.locator("body")).not_to_contain_text("+7 903 123-45-67")
            page.screenshot(path=f"{SHOTS}/tablet-lead-withdrawn.png", full_page=True)
            page.goto(f"{live_server.url}/staff/leads/")
            expect(page.locator(".consent-withdrawn")).to_have_count(1)
            page.screenshot(path=f"{SHOTS}/tablet-inbox-withdrawn.png", full_page=True)
        if member is manager:
            row = page.locator("tr.access-row", has_text="открыл контакты в заявке")
            expect(row).to_contain_text(advisor.display_name)
            expect(row).to_contain_text(f"№{lead.number}")
            page.select_option("#id_action", AccessAction.LEAD_VIEWED)
            page.get_by_role("button", name="Найти").click()
            expect(page.locator("tr.access-row")).to_have_count(1)
            page.screenshot(path=f"{SHOTS}/desktop-access-log.png", full_page=True)
        context.close()
    assert PersonalDataAccess.objects.filter(
        action=AccessAction.LEAD_VIEWED, user=advisor.user
    ).exists()
